package io.tern.cluster;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The takeover records survive a restart, and a record that cannot be saved is an error, not a log line. */
@Timeout(10)
class TakeoverRecordsTest {
    @TempDir
    Path dir;

    @Test
    void recordsAreReadBackAfterARestartAndForgottenOnesStayForgotten() {
        Path file = dir.resolve("takeovers");
        TakeoverRecords records = new TakeoverRecords(file);
        records.put("node-a", new TakeoverRecords.Record(7, "node-b"));
        records.put("node-c", new TakeoverRecords.Record(9, "node-b"));
        records.remove("node-c");
        TakeoverRecords again = new TakeoverRecords(file);
        assertThat(again.all()).containsOnlyKeys("node-a");
        assertThat(again.get("node-a")).isEqualTo(new TakeoverRecords.Record(7, "node-b"));
        assertThat(Files.exists(dir.resolve("takeovers.tmp"))).as("the new file was renamed over the old").isFalse();
    }

    @Test
    void aRecordThatCannotBeSavedThrows() throws Exception {
        Path notADirectory = Files.writeString(dir.resolve("file"), "x");
        TakeoverRecords records = new TakeoverRecords(notADirectory.resolve("takeovers"));
        assertThatThrownBy(() -> records.put("node-a", new TakeoverRecords.Record(3, "node-b")))
                .isInstanceOf(UncheckedIOException.class).hasMessageContaining("cannot save the takeover records");
    }
}
