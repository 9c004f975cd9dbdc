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
    void aPageFileThatRefusesASpillIsTriedAgainOnlyAfterAnotherLineOfBatchesAndNothingIsLost(@TempDir Path dir) {
        PageFile pages = new PageFile(dir.resolve("pages"));
        pages.close(); // refuses every write from now on
        WaitingBatches waiting = new WaitingBatches(pages);
        int each = (int) (WaitingBatches.LINE / 2);
        for (long seq = 1; seq <= 10; seq++) {
            waiting.add(batch(seq, each));
        }
        // Past the line at the 3rd batch; then once another line of them came: the 6th and the 9th
        // (every batch from the 3rd on, 8 tries, before).
        assertThat(waiting.spillFailures()).isEqualTo(3);
        assertThat(waiting.bytes()).as("all of them stay in memory").isEqualTo(10L * each);

        List<Long> applied = new ArrayList<>();
        waiting.drain(b -> applied.add(((StoreBatch.AddMessage) b.ops().get(0)).sequence()));
        assertThat(applied).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
        waiting.add(batch(11, each));
        waiting.add(batch(12, each));
        waiting.add(batch(13, each));
        assertThat(waiting.spillFailures()).as("a new snapshot tries the page file at the line again").isEqualTo(4);
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
            assertThat(waiting.spillFailures()).isZero();
            assertThat(waiting.bytes()).as("what is past the line waits on disk").isLessThanOrEqualTo(WaitingBatches.LINE);

            List<Long> applied = new ArrayList<>();
            waiting.drain(b -> applied.add(((StoreBatch.AddMessage) b.ops().get(0)).sequence()));
            assertThat(applied).containsExactly(1L, 2L, 3L, 4L, 5L);
        } finally {
            pages.close();
        }
    }

    private static StoreBatch ops(StoreBatch.Op... ops) {
        StoreBatch b = new StoreBatch();
        for (StoreBatch.Op op : ops) {
            b.add(op);
        }
        return b;
    }

    @Test
    void aBucketRemovedWholeTakesItsIdsWithItWhereverTheyWereAdded(@TempDir Path dir) {
        for (boolean spilled : new boolean[] {false, true}) {
            PageFile pages = new PageFile(dir.resolve("pages-" + spilled));
            try {
                WaitingBatches waiting = new WaitingBatches(pages);
                waiting.add(ops(new StoreBatch.AddDuplicateId(5, "new"), new StoreBatch.RemoveDuplicateBucket(3)));
                waiting.add(ops(new StoreBatch.RemoveDuplicateBucket(5), new StoreBatch.AddDuplicateId(6, "again")));
                waiting.add(ops(new StoreBatch.AddDuplicateId(6, "back"), new StoreBatch.RemoveDuplicateId(6, "back")));
                if (spilled) {
                    waiting.add(batch(1, (int) WaitingBatches.LINE + 1)); // pushes all of them to the page file
                    assertThat(waiting.bytes()).as("all on disk").isZero();
                }
                assertThat(waiting.hasDuplicateId("old", 3L)).as("held in bucket 3, removed whole (spilled=%s)", spilled).isFalse();
                assertThat(waiting.hasDuplicateId("kept", 4L)).as("held in bucket 4 (spilled=%s)", spilled).isTrue();
                assertThat(waiting.hasDuplicateId("elsewhere", 99L)).as("held in a bucket nothing removed").isTrue();
                assertThat(waiting.hasDuplicateId("new", null)).as("added to bucket 5, then removed with it").isFalse();
                assertThat(waiting.hasDuplicateId("again", null)).as("added to bucket 6 after").isTrue();
                assertThat(waiting.hasDuplicateId("back", null)).as("added, then removed alone").isFalse();
                assertThat(waiting.hasDuplicateId("never", null)).isFalse();
            } finally {
                pages.close();
            }
        }
    }
}
