package io.tern.cluster;

import io.tern.broker.store.StoreBatch;
import io.tern.protocol.WireMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A replica keeps a primary's batches only one after the other from its snapshot's cut: one that
 * missed batches acknowledges nothing more and says it cannot stand in, until a new snapshot; and
 * what it holds can be handed over whole to another node.
 */
@Timeout(10)
class ReplicaTest {
    private static StoreBatch add(String queue, long seq) {
        StoreBatch b = new StoreBatch();
        b.add(new StoreBatch.AddMessage(queue, seq, ("m" + seq).getBytes(StandardCharsets.UTF_8)));
        return b;
    }

    @Test
    void aReplicaThatMissedABatchAcknowledgesNothingUntilANewSnapshot() {
        Replica r = new Replica();
        r.beginSnapshot(10, "i-1");
        r.endSnapshot();
        assertThat(r.batch(11, add("q", 1))).isNotNull();
        assertThat(r.complete()).isTrue();

        assertThat(r.batch(13, add("q", 3))).as("batch 12 never came").isNull();
        assertThat(r.batch(14, add("q", 4))).as("nor does a later one count").isNull();
        assertThat(r.complete()).isFalse();
        assertThat(r.messages().get("q")).containsOnlyKeys(1L);

        r.beginSnapshot(20, "i-1");
        r.snapshotChunk(add("q", 5));
        assertThat(r.complete()).as("while the snapshot streams").isFalse();
        r.endSnapshot();
        assertThat(r.batch(21, add("q", 6))).isNotNull();
        assertThat(r.complete()).isTrue();
        assertThat(r.messages().get("q")).containsOnlyKeys(5L, 6L);
        assertThat(r.lastBatch()).isEqualTo(21);
    }

    @Test
    void aReplicaPagesBodiesOutAndHandsEveryMessageOverWithItsBody(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        java.nio.file.Path pagesDir = dir.resolve("pages");
        Replica r = new Replica(null, new io.tern.broker.store.PageFile(pagesDir));
        r.beginSnapshot(0, "i-1");
        r.endSnapshot();
        byte[] body = new byte[10_000];
        for (int i = 1; i <= 100; i++) {
            java.util.Arrays.fill(body, (byte) i);
            StoreBatch b = new StoreBatch();
            b.add(new StoreBatch.AddMessage(i % 2 == 0 ? "even" : "odd", i, body.clone()));
            assertThat(r.batch(i, b)).isNotNull();
        }
        long all = r.heldBytes();
        assertThat(all).isGreaterThan(100L * 10_000);

        assertThat(r.pageOut(all / 4)).isTrue();
        assertThat(r.bodyBytes()).as("paged down to the target").isLessThanOrEqualTo(all / 4);
        assertThat(r.heldBytes()).as("paged messages still cost their entry").isLessThan(all / 4 + 100 * ReplicaMessages.PAGED_COST);
        assertThat(r.pagedCount()).isBetween(70L, 80L);
        assertThat(pagesDir).isDirectory();

        // Acknowledged on the primary: paged or not, a removed message leaves, and its body leaves the page file.
        StoreBatch acks = new StoreBatch();
        for (int i = 1; i <= 100; i += 3) {
            acks.add(new StoreBatch.RemoveMessage(i % 2 == 0 ? "even" : "odd", i));
        }
        long pagedBefore = r.pagedCount();
        assertThat(r.batch(101, acks)).isNotNull();
        assertThat(r.pagedCount()).isLessThan(pagedBefore);

        Map<String, Map<Long, byte[]>> held = r.messages();
        int count = 0;
        for (Map.Entry<String, Map<Long, byte[]>> q : held.entrySet()) {
            for (Map.Entry<Long, byte[]> m : q.getValue().entrySet()) {
                assertThat(m.getKey() % 3).as("removed ones are gone").isNotEqualTo(1L);
                assertThat(m.getValue()).hasSize(10_000).containsOnly((byte) m.getKey().longValue());
                count++;
            }
        }
        assertThat(count).isEqualTo(100 - 34);
        assertThat(r.contents().ops()).filteredOn(op -> op instanceof StoreBatch.AddMessage).hasSize(66);

        // A queue deleted on the primary takes its paged bodies with it; a new snapshot starts with no page file.
        StoreBatch delete = new StoreBatch();
        delete.add(new StoreBatch.DeleteQueue("odd"));
        assertThat(r.batch(102, delete)).isNotNull();
        assertThat(r.messages()).containsOnlyKeys("even");
        r.beginSnapshot(200, "i-1");
        assertThat(r.pagedCount()).isZero();
        assertThat(pagesDir).doesNotExist();
    }

    @Test
    void aHandOverStreamsChunksWithoutHoldingTheReplicaWhileTheyGoOut(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        Replica r = new Replica(null, new io.tern.broker.store.PageFile(dir.resolve("pages")));
        r.beginSnapshot(0, "i-1");
        r.endSnapshot();
        for (int i = 1; i <= 300; i++) {
            StoreBatch b = new StoreBatch();
            b.add(new StoreBatch.AddMessage("q", i, new byte[4_000]));
            b.add(new StoreBatch.AddDuplicateId(0, "id-" + i));
            assertThat(r.batch(i, b)).isNotNull();
        }
        assertThat(r.pageOut(r.bodyBytes() / 3)).isTrue();

        // The sink is the network: while it sends the first message, a resent send asks about its id.
        java.util.List<StoreBatch.Op> streamed = new java.util.ArrayList<>();
        java.util.concurrent.ExecutorService asker = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            r.contents(op -> {
                if (op instanceof StoreBatch.AddMessage && streamed.stream().noneMatch(o -> o instanceof StoreBatch.AddMessage)) {
                    java.util.concurrent.Future<Boolean> known = asker.submit(() -> r.hasDuplicateId("id-7"));
                    try {
                        assertThat(known.get(2, java.util.concurrent.TimeUnit.SECONDS)).as("answered while the hand-over streams").isTrue();
                    } catch (Exception e) {
                        throw new AssertionError("a duplicate check waited for the hand-over: " + e, e);
                    }
                }
                streamed.add(op);
            });
        } finally {
            asker.shutdownNow();
        }
        java.util.List<Long> sequences = streamed.stream().filter(op -> op instanceof StoreBatch.AddMessage)
                .map(op -> ((StoreBatch.AddMessage) op).sequence()).toList();
        assertThat(sequences).as("every message once, in order, paged ones with their bodies")
                .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, 300).boxed().toList());
        assertThat(streamed).filteredOn(op -> op instanceof StoreBatch.AddMessage)
                .allSatisfy(op -> assertThat(((StoreBatch.AddMessage) op).message()).hasSize(4_000));
        assertThat(streamed).filteredOn(op -> op instanceof StoreBatch.AddDuplicateId).hasSize(300);
    }

    @Test
    void aHandOverOfAReplicaThatChangesMeanwhileStopsRatherThanMixTwoStates() throws Exception {
        Replica r = new Replica();
        r.beginSnapshot(0, "i-1");
        r.endSnapshot();
        for (int i = 1; i <= 300; i++) {
            assertThat(r.batch(i, add("q", i))).isNotNull();
        }
        java.util.concurrent.atomic.AtomicInteger streamed = new java.util.concurrent.atomic.AtomicInteger();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> r.contents(op -> {
            if (op instanceof StoreBatch.AddMessage && streamed.incrementAndGet() == 1) {
                // The primary came back and sends a batch while the first chunk goes out.
                java.util.concurrent.CompletableFuture.runAsync(() -> r.batch(301, add("q", 301))).join();
            }
        })).isInstanceOf(io.tern.broker.store.StoreException.class).hasMessageContaining("changed while it was handed over");
        assertThat(streamed.get()).as("it stopped after the chunk under way").isLessThan(300);
    }

    @Test
    void aHandOverIsOfTheStartAskedForAndAReplicaOfNoKnownStartIsLabelledWithIt() {
        Replica r = new Replica();
        r.beginSnapshot(0, "i-1");
        r.endSnapshot();
        assertThat(r.batch(1, add("q", 1))).isNotNull();
        assertThat(r.handOver("i-2")).as("of another start").isNull();
        assertThat(r.handOver("i-1").incarnation()).isEqualTo("i-1");
        assertThat(r.handOver("i-1").lastBatch()).isEqualTo(1);
        assertThat(r.handOver("").incarnation()).as("any start: it says which").isEqualTo("i-1");

        Replica unknown = new Replica();
        unknown.beginSnapshot(0, null);
        unknown.endSnapshot();
        assertThat(unknown.handOver("i-7").incarnation()).as("taken as the start asked for, and said so").isEqualTo("i-7");
    }

    @Test
    void aHandOverBegunBeforeANewStartsSnapshotReplacedTheReplicaStreamsNothingOfTheNewStart() {
        Replica r = new Replica();
        r.beginSnapshot(0, "i-1");
        r.endSnapshot();
        for (int i = 1; i <= 10; i++) {
            assertThat(r.batch(i, add("q", i))).isNotNull();
        }
        Replica.HandOver h = r.handOver("i-1");
        // The earlier start left the view; its next start's snapshot begins here before the stream does.
        r.beginSnapshot(5, "i-2");
        r.snapshotChunk(add("q", 100));
        java.util.List<StoreBatch.Op> streamed = new java.util.ArrayList<>();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> h.contents(streamed::add))
                .isInstanceOf(io.tern.broker.store.StoreException.class).hasMessageContaining("changed while it was handed over");
        assertThat(streamed).as("nothing of start i-2 went as start i-1").isEmpty();
        assertThat(r.handOver("i-1")).as("and a new hand-over of i-1 finds none").isNull();
    }

    @Test
    void anIdWhoseBucketABatchWaitingForTheSnapshotRemovesIsNoLongerHeld() {
        Replica r = new Replica();
        r.beginSnapshot(10, "i-1");
        StoreBatch chunk = new StoreBatch();
        chunk.add(new StoreBatch.AddDuplicateId(1, "oldest"));
        chunk.add(new StoreBatch.AddDuplicateId(2, "newer"));
        r.snapshotChunk(chunk);
        StoreBatch expiry = new StoreBatch();
        expiry.add(new StoreBatch.RemoveDuplicateBucket(1)); // past the primary's capacity: its oldest bucket goes
        r.batch(11, expiry);
        assertThat(r.hasDuplicateId("oldest")).as("its bucket goes once the waiting batch applies").isFalse();
        assertThat(r.hasDuplicateId("newer")).isTrue();
        r.endSnapshot();
        assertThat(r.hasDuplicateId("oldest")).isFalse();
        assertThat(r.hasDuplicateId("newer")).isTrue();
    }

    @Test
    void batchesThatWaitForTheSnapshotGoToThePageFileAndAreAppliedInOrderAfterIt(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        Replica r = new Replica(null, new io.tern.broker.store.PageFile(dir.resolve("pages")));
        r.beginSnapshot(10, "i-1");
        r.snapshotChunk(add("q", 1));
        byte[] big = new byte[1 << 20];
        for (int i = 11; i <= 20; i++) { // 10 MiB of batches while the snapshot streams: most go to disk
            StoreBatch b = new StoreBatch();
            b.add(new StoreBatch.AddMessage("q", i, big.clone()));
            b.add(new StoreBatch.AddDuplicateId(1, "id-" + i));
            if (i == 15) {
                b.add(new StoreBatch.RemoveMessage("q", 12)); // removes what an earlier waiting batch stored
                b.add(new StoreBatch.RemoveMessage("q", 1));  // and what the snapshot holds
            }
            r.batch(i, b);
        }
        assertThat(r.bufferedBytes()).as("10 MiB waited: most of it not in memory").isLessThanOrEqualTo(WaitingBatches.LINE);
        assertThat(r.hasDuplicateId("id-13")).as("an id of a batch waiting on disk").isTrue();
        assertThat(r.endSnapshot()).isCompleted();
        assertThat(r.complete()).isTrue();
        assertThat(r.messages().get("q")).containsOnlyKeys(11L, 13L, 14L, 15L, 16L, 17L, 18L, 19L, 20L);
        assertThat(r.hasDuplicateId("id-20")).isTrue();
        assertThat(r.batch(21, add("q", 21))).isNotNull();
        assertThat(r.messages().get("q")).containsKey(21L);
    }

    @Test
    void aReplicaWithoutAPageFileKeepsItsBodiesInMemory() {
        Replica r = new Replica();
        r.beginSnapshot(0, "i-1");
        r.endSnapshot();
        r.batch(1, add("q", 1));
        long held = r.heldBytes();
        assertThat(r.pageOut(0)).isFalse();
        assertThat(r.heldBytes()).isEqualTo(held);
    }

    /** Batch of a client's send of a message with duplicate-detection id {@code id} ({@code moves}: moved that often). */
    private static StoreBatch send(String queue, long seq, String id, int moves) {
        byte[] encoded = TestMessages.encoded("ID:" + id, queue, Map.of(WireMessage.DUPLICATE_ID, id), moves);
        StoreBatch b = new StoreBatch();
        b.add(new StoreBatch.AddMessage(queue, seq, encoded));
        b.add(new StoreBatch.AddDuplicateId(1, id));
        return b;
    }

    private static StoreBatch send(String queue, long seq, String id) {
        return send(queue, seq, id, 0);
    }

    @Test
    void oneCopyOfAResentMessageIsKeptWhicheverCameFirst() {
        Replica r = new Replica();
        r.beginSnapshot(10, "i-1");
        r.endSnapshot();
        assertThat(r.batch(11, send("q", 1, "id-1"))).isNotNull();

        assertThat(r.knownOrClaim("id-1")).as("the primary stored it first: the resend is a duplicate").isTrue();
        assertThat(r.knownOrClaim("id-2")).as("not stored by the primary: this node stores the resend").isFalse();

        assertThat(r.batch(12, send("q", 2, "id-2"))).as("the primary's copy comes too late").isSameAs(Replica.CONFLICT);
        assertThat(r.messages().get("q")).containsOnlyKeys(1L);
        assertThat(r.hasDuplicateId("id-2")).isFalse();
        assertThat(r.lastBatch()).as("the refused batch counts as applied, empty").isEqualTo(12);

        assertThat(r.batch(13, send("q", 3, "id-3"))).as("the next batch is the next one").isNotNull()
                .isNotSameAs(Replica.CONFLICT);
        assertThat(r.complete()).isTrue();
        assertThat(r.messages().get("q")).containsOnlyKeys(1L, 3L);

        // The primary's undo of its failed commit removes what this replica never applied: nothing changes.
        StoreBatch undo = new StoreBatch();
        undo.add(new StoreBatch.RemoveMessage("q", 2));
        undo.add(new StoreBatch.RemoveDuplicateId(1, "id-2"));
        assertThat(r.batch(14, undo)).isNotNull().isNotSameAs(Replica.CONFLICT);
        assertThat(r.messages().get("q")).containsOnlyKeys(1L, 3L);
        assertThat(r.knownOrClaim("id-2")).as("still this node's").isFalse();
        assertThat(r.batch(15, send("q", 4, "id-2"))).isSameAs(Replica.CONFLICT);

        // A send the primary stores for no queue (non-durable subscribers only) records its id alone: refused too.
        StoreBatch idOnly = new StoreBatch();
        idOnly.add(new StoreBatch.AddDuplicateId(1, "id-2"));
        assertThat(r.batch(16, idOnly)).isSameAs(Replica.CONFLICT);

        // What this node stored as its own, moved to a consumer on the primary, carries the id too: no conflict.
        assertThat(r.batch(17, send("q", 5, "id-2", 1))).isNotNull().isNotSameAs(Replica.CONFLICT);
        assertThat(r.messages().get("q")).containsOnlyKeys(1L, 3L, 5L);
    }

    @Test
    void aBatchAlreadyInTheSnapshotIsAcknowledgedWithoutBeingAppliedTwice() {
        Replica r = new Replica();
        r.beginSnapshot(10, "");
        r.snapshotChunk(add("q", 1));
        r.endSnapshot();
        assertThat(r.batch(9, add("q", 99))).isNotNull().isDone();
        assertThat(r.messages().get("q")).containsOnlyKeys(1L);
        assertThat(r.complete()).isTrue();
    }

    @Test
    void aReplicaIsUnverifiedAfterMissedViewsUntilTheNextSnapshot() {
        Replica r = new Replica();
        r.beginSnapshot(0, "i-1");
        r.endSnapshot();
        r.unverified();
        assertThat(r.verified()).isFalse();
        assertThat(r.complete()).as("unverified is not incomplete").isTrue();
        r.beginSnapshot(5, "i-1");
        r.endSnapshot();
        assertThat(r.verified()).isTrue();
    }

    @Test
    void aSnapshotThePrimaryBeganForTheViewThatEndedMissedViewsStaysVerified() {
        Replica fresh = new Replica();
        fresh.beginSnapshot(0, "i-1", 12); // the primary began it when view 12 came, before it came here
        fresh.endSnapshot();
        fresh.unverifiedBefore(12);
        assertThat(fresh.verified()).isTrue();

        Replica older = new Replica();
        older.beginSnapshot(0, "i-1", 9);
        older.endSnapshot();
        older.unverifiedBefore(12);
        assertThat(older.verified()).as("begun before the views this node missed").isFalse();

        Replica unknown = new Replica();
        unknown.beginSnapshot(0, "i-1");
        unknown.endSnapshot();
        unknown.unverifiedBefore(0);
        assertThat(unknown.verified()).isFalse();
    }

    @Test
    void itsContentsMakeTheSameReplicaElsewhere() {
        Replica r = new Replica();
        r.beginSnapshot(0, "i-1");
        StoreBatch all = new StoreBatch();
        all.add(new StoreBatch.PutQueue("q", new byte[] {7}));
        all.add(new StoreBatch.AddMessage("q", 1, new byte[] {1}));
        all.add(new StoreBatch.AddMessage("q", 2, new byte[] {2}));
        all.add(new StoreBatch.AddDuplicateId(3, "dup-1"));
        all.add(new StoreBatch.MarkDelivered("q", 2, "client-1/1"));
        all.add(new StoreBatch.ClientConnected("client-1"));
        r.snapshotChunk(all);
        r.endSnapshot();

        Replica copy = new Replica();
        copy.beginSnapshot(r.lastBatch(), r.incarnation());
        copy.snapshotChunk(r.contents());
        copy.endSnapshot();
        assertThat(copy.queues()).containsOnlyKeys("q");
        assertThat(copy.messages().get("q")).containsOnlyKeys(1L, 2L);
        assertThat(copy.duplicateIds()).containsExactly("dup-1");
        assertThat(copy.hasDuplicateId("dup-1")).isTrue();
        assertThat(copy.owners()).isEqualTo(r.owners()).containsKey("q");
        assertThat(copy.clients()).containsExactly("client-1");
        assertThat(copy.incarnation()).isEqualTo("i-1");
    }

    @Test
    void aSnapshotWhoseDiskWriteFailedIsNotConfirmedAndItsLaterBatchesAreNotKept(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        ReplicaDisk disk = new ReplicaDisk(dir.resolve("a"));
        Replica r = new Replica(disk);
        r.beginSnapshot(10, "i-1");
        long snapshot = r.snapshot();
        disk.close(); // every write fails from now on
        r.snapshotChunk(add("q", 1));
        java.util.concurrent.CompletableFuture<Void> ended = r.endSnapshot();
        assertThat(ended).as("the snapshot is not on disk: not confirmed").failsWithin(java.time.Duration.ofSeconds(5));
        r.diskWriteFailed(snapshot); // as Replicas does on that failure
        assertThat(r.batch(11, add("q", 2))).as("nothing more is kept until a new snapshot").isNull();

        r.diskWriteFailed(snapshot - 1); // a report about a copy replaced before: ignored
        r.beginSnapshot(20, "i-1"); // opens the disk again
        r.diskWriteFailed(snapshot); // the old snapshot's failure, reported late: not this one's
        r.snapshotChunk(add("q", 3));
        assertThat(r.endSnapshot()).succeedsWithin(java.time.Duration.ofSeconds(5));
        assertThat(r.batch(21, add("q", 4))).succeedsWithin(java.time.Duration.ofSeconds(5));
        disk.close();
    }

    /** After the backup restarts, its replica is still of the start it was: a later start's retirement does not take it. */
    @Test
    void aReplicaLoadedFromDiskIsOfTheStartItWasOf(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        ReplicaDisk disk = new ReplicaDisk(dir.resolve("a"));
        Replica r = new Replica(disk);
        r.beginSnapshot(0, "i-1");
        r.snapshotChunk(add("q", 1));
        assertThat(r.endSnapshot()).succeedsWithin(java.time.Duration.ofSeconds(5));
        disk.close();

        Replica loaded = new ReplicaDisk(dir.resolve("a")).load(null);
        assertThat(loaded.incarnation()).isEqualTo("i-1");
        assertThat(loaded.messages().get("q")).hasSize(1);
        loaded.disk().delete();
        assertThat(dir.resolve("a.start")).as("gone with the replica").doesNotExist();
    }

    @Test
    void theHeapItsMessagesTakeIsCountedAsTheyComeAndGo() {
        Replica r = new Replica();
        r.beginSnapshot(0, "i-1");
        r.endSnapshot();
        byte[] big = new byte[64 * 1024];
        StoreBatch b = new StoreBatch();
        b.add(new StoreBatch.AddMessage("a", 1, big));
        b.add(new StoreBatch.AddMessage("a", 2, big));
        b.add(new StoreBatch.AddMessage("b", 3, big));
        r.batch(1, b);
        long one = ReplicaMessages.cost(big);
        assertThat(one).isGreaterThan(64 * 1024);
        assertThat(r.heldBytes()).isEqualTo(3 * one);

        StoreBatch removes = new StoreBatch();
        removes.add(new StoreBatch.RemoveMessage("a", 1));
        removes.add(new StoreBatch.RemoveMessage("a", 99)); // not held: counts nothing
        r.batch(2, removes);
        assertThat(r.heldBytes()).isEqualTo(2 * one);
        r.batch(3, new StoreBatch().add(new StoreBatch.DeleteQueue("b")));
        assertThat(r.heldBytes()).isEqualTo(one);

        r.beginSnapshot(10, "i-1");
        assertThat(r.heldBytes()).as("a new snapshot replaces everything").isZero();
        r.snapshotChunk(new StoreBatch().add(new StoreBatch.AddMessage("a", 5, big)));
        r.endSnapshot();
        assertThat(r.heldBytes()).isEqualTo(one);
    }

    @Test
    void atTheMemoryLimitABatchThatStoresNewMessagesIsRefusedAndTheReplicaStaysInSync() {
        Replica r = new Replica();
        r.beginSnapshot(0, "i-1");
        r.endSnapshot();
        assertThat(r.batch(1, add("q", 1), false, false)).isNotNull().isNotSameAs(Replica.NO_ROOM);

        assertThat(r.batch(2, add("q", 2), false, true)).as("a new message while full").isSameAs(Replica.NO_ROOM);
        assertThat(r.messages().get("q")).containsOnlyKeys(1L);
        assertThat(r.batch(3, add("q", 1), false, true)).as("putting back one it holds (an undo) is no growth")
                .isNotSameAs(Replica.NO_ROOM).isNotNull();
        StoreBatch toDeadLetters = add("DLQ", 4).add(new StoreBatch.RemoveMessage("q", 1));
        assertThat(r.batch(4, toDeadLetters, false, true)).as("a move that removes too (not undone if refused) passes")
                .isNotSameAs(Replica.NO_ROOM).isNotNull();
        assertThat(r.batch(5, add("q", 5), true, true)).as("a takeover's batch passes").isNotSameAs(Replica.NO_ROOM).isNotNull();
        assertThat(r.batch(6, add("q", 6), false, false)).as("the refused batch counted: the next one follows").isNotNull()
                .isNotSameAs(Replica.NO_ROOM);
        assertThat(r.complete()).isTrue();
        assertThat(r.messages().get("q")).containsOnlyKeys(5L, 6L);
        assertThat(r.messages().get("DLQ")).containsOnlyKeys(4L);
    }
}
