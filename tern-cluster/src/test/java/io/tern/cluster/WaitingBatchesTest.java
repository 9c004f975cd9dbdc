package io.tern.cluster;

import io.tern.broker.store.PageFile;
import io.tern.broker.store.StoreBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Batches that wait for a replica's snapshot: past a line they go to the page file, and if it fails they stay. */
@Timeout(10)
class WaitingBatchesTest {
    private static StoreBatch batch(long seq, int bytes) {
        StoreBatch b = new StoreBatch();
        b.add(new StoreBatch.AddMessage("q", seq, new byte[bytes]));
        return b;
    }

    @Test
    void aPageFileThatRefusesASpillIsNotTriedAgainUntilTheNextSnapshotAndNothingIsLost(@TempDir Path dir) {
        PageFile pages = new PageFile(dir.resolve("pages"));
        pages.close(); // refuses every write from now on
        WaitingBatches waiting = new WaitingBatches(pages);
        int each = (int) (WaitingBatches.LINE / 2);
        for (long seq = 1; seq <= 5; seq++) {
            waiting.add(batch(seq, each));
        }
        assertThat(waiting.spills()).as("given up after the first refusal").isFalse();
        assertThat(waiting.bytes()).as("all of them stay in memory").isEqualTo(5L * each);

        List<Long> applied = new ArrayList<>();
        waiting.drain(b -> applied.add(((StoreBatch.AddMessage) b.ops().get(0)).sequence()));
        assertThat(applied).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(waiting.spills()).as("a new snapshot tries the page file again").isTrue();
    }

    @Test
    void pastTheLineTheyGoToThePageFileAndComeBackInOrder(@TempDir Path dir) {
        PageFile pages = new PageFile(dir.resolve("pages"));
        try {
            WaitingBatches waiting = new WaitingBatches(pages);
            int each = (int) (WaitingBatches.LINE / 2);
            for (long seq = 1; seq <= 5; seq++) {
                waiting.add(batch(seq, each));
            }
            assertThat(waiting.spills()).isTrue();
            assertThat(waiting.bytes()).as("what is past the line waits on disk").isLessThanOrEqualTo(WaitingBatches.LINE);

            List<Long> applied = new ArrayList<>();
            waiting.drain(b -> applied.add(((StoreBatch.AddMessage) b.ops().get(0)).sequence()));
            assertThat(applied).containsExactly(1L, 2L, 3L, 4L, 5L);
        } finally {
            pages.close();
        }
    }
}
