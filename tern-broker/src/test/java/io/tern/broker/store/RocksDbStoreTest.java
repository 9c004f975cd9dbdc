package io.tern.broker.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

@Timeout(60)
class RocksDbStoreTest {
    @TempDir
    Path dir;

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Map<String, String> read(MessageStore store) {
        Map<String, String> seen = new TreeMap<>();
        store.recover(new MessageStore.Recovery() {
            @Override
            public void queue(String queue, byte[] definition) {
                seen.put("queue " + queue, new String(definition, StandardCharsets.UTF_8));
            }

            @Override
            public void message(String queue, long sequence, byte[] message) {
                seen.put("message " + queue + " " + sequence, new String(message, StandardCharsets.UTF_8));
            }

            @Override
            public void duplicateId(long bucket, String id) {
                seen.put("dup " + bucket + " " + id, "");
            }
        });
        return seen;
    }

    /** Marks are for backups: a batch of nothing else completes at once, without a write and its sync. */
    @Test
    void aBatchOfMarksOnlyIsNotWritten() {
        try (RocksDbStore store = new RocksDbStore(dir)) {
            store.commit(new StoreBatch().add(new StoreBatch.AddMessage("a", 1, bytes("m1")))).join();
            long[] before = store.commitCounts();
            CompletableFuture<Void> marks = store.commit(new StoreBatch()
                    .add(new StoreBatch.MarkDelivered("a", 1, "session-1"))
                    .add(new StoreBatch.ClientConnected("client-1")));
            assertThat(marks).as("completed without waiting for the writer").isDone();
            store.commit(new StoreBatch().add(new StoreBatch.MarkReturned("a", 1))).join();
            assertThat(store.commitCounts()).isEqualTo(before);
            assertThat(read(store)).containsOnlyKeys("message a 1");
        }
    }

    @Test
    void whatWasCommittedIsRecoveredAfterReopening() {
        try (RocksDbStore store = new RocksDbStore(dir)) {
            store.commit(new StoreBatch()
                    .add(new StoreBatch.PutQueue("a", bytes("def-a")))
                    .add(new StoreBatch.PutQueue("ab", bytes("def-ab")))
                    .add(new StoreBatch.AddMessage("a", 1, bytes("m1")))
                    .add(new StoreBatch.AddMessage("a", 300, bytes("m300")))
                    .add(new StoreBatch.AddMessage("ab", 2, bytes("m2")))
                    .add(new StoreBatch.AddDuplicateId(3, "d1"))
                    .add(new StoreBatch.AddDuplicateId(4, "d2"))
                    .add(new StoreBatch.AddDuplicateId(5, "d3"))
                    .add(new StoreBatch.AddDuplicateId(5, "d4"))).join();
            store.commit(new StoreBatch().add(new StoreBatch.RemoveDuplicateBucket(4))).join();
            store.commit(new StoreBatch().add(new StoreBatch.RemoveDuplicateId(5, "d4"))).join();
            store.commit(new StoreBatch().add(new StoreBatch.RemoveMessage("a", 1))).join();
        }
        try (RocksDbStore store = new RocksDbStore(dir)) {
            assertThat(read(store)).containsOnlyKeys("queue a", "queue ab", "message a 300", "message ab 2", "dup 3 d1",
                    "dup 5 d3");
        }
    }

    @Test
    void deletingAQueueRemovesExactlyItsMessages() {
        try (RocksDbStore store = new RocksDbStore(dir)) {
            store.commit(new StoreBatch()
                    .add(new StoreBatch.PutQueue("a", bytes("x")))
                    .add(new StoreBatch.PutQueue("ab", bytes("y")))
                    .add(new StoreBatch.AddMessage("a", 1, bytes("1")))
                    .add(new StoreBatch.AddMessage("ab", 2, bytes("2")))).join();
            store.commit(new StoreBatch().add(new StoreBatch.DeleteQueue("a"))).join();
            assertThat(read(store)).containsOnlyKeys("queue ab", "message ab 2");
        }
    }

    @Test
    void concurrentCommitsAreGroupedIntoFewerSyncedWrites() {
        try (RocksDbStore store = new RocksDbStore(dir)) {
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                all.add(store.commit(new StoreBatch().add(new StoreBatch.AddMessage("q", i, bytes("m" + i)))));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
            long[] counts = store.commitCounts();
            assertThat(counts[1]).isEqualTo(2000);
            assertThat(counts[0]).as("synced writes").isLessThan(2000);
            assertThat(read(store)).hasSize(2000);
        }
    }

    @Test
    void lazyCommitsAreKeptAndCoveredByTheNextSync() {
        try (RocksDbStore store = new RocksDbStore(dir)) {
            store.commitLazily(new StoreBatch().add(new StoreBatch.AddMessage("q", 1, bytes("lazy")))).join();
            store.commit(new StoreBatch().add(new StoreBatch.AddMessage("q", 2, bytes("synced")))).join();
        }
        try (RocksDbStore store = new RocksDbStore(dir)) {
            assertThat(read(store)).containsOnlyKeys("message q 1", "message q 2");
        }
    }

    @Test
    void aClosedStoreFailsCommitsInsteadOfLosingThemSilently() {
        RocksDbStore store = new RocksDbStore(dir);
        store.close();
        assertThat(store.commit(new StoreBatch().add(new StoreBatch.AddDuplicateId(0, "x")))).isCompletedExceptionally();
    }
}
