package io.tern.cluster;

import io.tern.broker.store.MessageStore;
import io.tern.broker.store.RocksDbStore;
import io.tern.broker.store.StoreBatch;
import io.tern.broker.store.StoreBatchCodec;
import io.tern.protocol.NodeInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Synchronous replication between real RocksDB stores over a SHARED_LOOPBACK cluster: a backup
 * holds exactly what its primary stored, from the first batch, after a late join while commits go
 * on, and a primary never waits for a backup that left.
 */
@Timeout(120)
class ReplicationTest {
    @TempDir
    Path dir;

    private final String cluster = "replication-" + UUID.randomUUID();
    private final List<ClusterNode> nodes = new ArrayList<>();
    private final List<ReplicatingStore> stores = new ArrayList<>();
    private final AtomicLong sequence = new AtomicLong();

    @AfterEach
    void close() {
        nodes.forEach(ClusterNode::close);
        stores.forEach(ReplicatingStore::close);
    }

    private ReplicatingStore node(String name) throws Exception {
        return node(name, null);
    }

    /** {@code replicaDir}: where it keeps its replicas on disk too, or null (in memory only). */
    private ReplicatingStore node(String name, Path replicaDir) throws Exception {
        return node(name, replicaDir, null);
    }

    /** {@code pagesDir}: where its replicas page their bodies (null: never). */
    private ReplicatingStore node(String name, Path replicaDir, Path pagesDir) throws Exception {
        ReplicatingStore store = new ReplicatingStore(new RocksDbStore(dir.resolve(name)), replicaDir, pagesDir);
        ClusterNode n = ClusterNode.create(new ClusterNode.Config(cluster, "loopback", Map.of(), new RingFailoverPolicy(1), true),
                new NodeInfo(name, name, "machine-" + name, List.of(), ""));
        store.attach(n);
        n.connect();
        nodes.add(n);
        stores.add(store);
        return store;
    }

    private CompletableFuture<Void> send(ReplicatingStore store, String queue) {
        long seq = sequence.incrementAndGet();
        return store.commit(new StoreBatch().add(new StoreBatch.AddMessage(queue, seq,
                ("message " + seq).getBytes(StandardCharsets.UTF_8))));
    }

    private static CompletableFuture<Void> ack(ReplicatingStore store, String queue, long seq) {
        return store.commit(new StoreBatch().add(new StoreBatch.RemoveMessage(queue, seq)));
    }

    private static void assertSameContent(ReplicatingStore primary, ReplicatingStore backup, String primaryId) {
        Map<String, Map<Long, byte[]>> expected = contents(primary);
        await().atMost(Duration.ofSeconds(30)).until(() -> !backup.replicas().isSyncing(primaryId)
                && sameKeys(backup.replicas().of(primaryId), expected));
        Map<String, Map<Long, byte[]>> replica = backup.replicas().of(primaryId);
        expected.forEach((q, msgs) -> msgs.forEach((seq, body) -> assertThat(replica.get(q).get(seq)).isEqualTo(body)));
    }

    /** Waits until a and b are each other's backup and b's replica of a is in sync. */
    private static void awaitBackingEachOther(ReplicatingStore a, ReplicatingStore b) {
        await().until(() -> a.backups().contains("b") && b.backups().contains("a"));
        await().until(() -> !b.replicas().isSyncing("a"));
    }

    private static boolean sameKeys(Map<String, Map<Long, byte[]>> a, Map<String, Map<Long, byte[]>> b) {
        if (!a.keySet().equals(b.keySet())) {
            return false;
        }
        for (String q : a.keySet()) {
            if (!a.get(q).keySet().equals(b.get(q).keySet())) {
                return false;
            }
        }
        return true;
    }

    @Test
    void aCommitReturnsWhenTheBackupHasItAndAcknowledgementsReachTheBackupToo() throws Exception {
        ReplicatingStore a = node("a");
        ReplicatingStore b = node("b");
        awaitBackingEachOther(a, b);
        for (int i = 0; i < 100; i++) {
            send(a, "orders").join();
        }
        // Synchronous: the replica has every batch as soon as the commit returned.
        assertThat(b.replicas().of("a").get("orders")).hasSize(100);
        for (long seq = 1; seq <= 40; seq++) {
            ack(a, "orders", seq).join();
        }
        assertThat(b.replicas().of("a").get("orders")).hasSize(60);
        assertSameContent(a, b, "a");
    }

    @Test
    void batchesThatReachTheBackupTogetherAreAcknowledgedTogetherAndEveryCommitReturns() throws Exception {
        ReplicatingStore a = node("a");
        ReplicatingStore b = node("b");
        awaitBackingEachOther(a, b);
        long acknowledgementsBefore = b.replicas().acknowledgementsSent();
        List<CompletableFuture<Void>> commits = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            commits.add(send(a, "orders")); // not waited for one by one: they go out, and reach b, in bundles
        }
        CompletableFuture.allOf(commits.toArray(CompletableFuture[]::new)).get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(b.replicas().of("a").get("orders")).hasSize(2000);
        long acknowledgements = b.replicas().acknowledgementsSent() - acknowledgementsBefore;
        assertThat(acknowledgements).isPositive().isLessThan(2000);
        assertSameContent(a, b, "a");
    }

    @Test
    void aBackupPagesItsReplicaPastItsShareOfTheHeapAndStillHoldsEveryMessage() throws Exception {
        ReplicatingStore a = node("a");
        for (int i = 0; i < 200; i++) {
            bigSend(a, "early").join(); // before the backup: they come with its snapshot
        }
        ReplicatingStore b = node("b", null, dir.resolve("b-pages"));
        long line = 1_000_000;
        b.limitCopies(line, () -> false);
        await().atMost(Duration.ofSeconds(30)).until(() -> a.backups().contains("b") && !b.replicas().isSyncing("a"));
        for (int i = 0; i < 300; i++) {
            bigSend(a, "late").join();
            assertThat(b.copiesHeldBytes()).as("the replica's heap stays near its line").isLessThan(line + 2 * 17_000);
        }
        for (long seq = 1; seq <= 100; seq++) {
            ack(a, "early", seq).join(); // paged or not, acknowledged messages leave the replica
        }
        assertThat(b.replicas().pagedCount()).isGreaterThan(300);
        assertThat(b.copiesHeldBytes()).isLessThan(line + 2 * 17_000);
        assertSameContent(a, b, "a");
    }

    /** A send of 16 KiB: 500 of them take eight times the heap line of the test above. */
    private CompletableFuture<Void> bigSend(ReplicatingStore store, String queue) {
        long seq = sequence.incrementAndGet();
        byte[] body = new byte[16_384];
        java.util.Arrays.fill(body, (byte) seq);
        return store.commit(new StoreBatch().add(new StoreBatch.AddMessage(queue, seq, body)));
    }

    @Test
    void aLateBackupGetsASnapshotWhileCommitsGoOn() throws Exception {
        ReplicatingStore a = node("a");
        for (int i = 0; i < 500; i++) {
            send(a, "early").join();
        }
        for (long seq = 1; seq <= 100; seq++) {
            ack(a, "early", seq).join();
        }
        AtomicBoolean stop = new AtomicBoolean();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        AtomicLong sent = new AtomicLong();
        Thread producer = new Thread(() -> {
            while (!stop.get()) {
                try {
                    send(a, "during").join();
                    if (sent.incrementAndGet() % 3 == 0) {
                        ack(a, "during", sequence.get()).join(); // acknowledge while the snapshot streams
                    }
                } catch (RuntimeException e) {
                    failures.add(e);
                    return;
                }
            }
        });
        producer.start();
        ReplicatingStore b = node("b");
        await().atMost(Duration.ofSeconds(30)).until(() -> a.backups().contains("b") && !b.replicas().isSyncing("a"));
        long atSync = sent.get();
        await().until(() -> sent.get() >= atSync + 100); // commits go on after the sync too
        stop.set(true);
        producer.join();
        assertThat(failures).isEmpty();
        assertSameContent(a, b, "a");
        assertThat(b.replicas().of("a").get("early")).hasSize(400);
    }

    private ClusterNode clusterNodeOf(String name) {
        return nodes.stream().filter(n -> n.self().name().equals(name)).findFirst().orElseThrow();
    }

    private void isolate(String name) {
        org.jgroups.protocols.DISCARD discard = clusterNodeOf(name).jgroupsChannel().getProtocolStack()
                .findProtocol(org.jgroups.protocols.DISCARD.class);
        discard.discardAll(true);
    }

    /**
     * A joining backup often hears its primary's snapshot before it has the view that names the
     * primary. The replica is of the start the primary names all the same: a later start of the
     * primary (restarted before it was found gone) that retires its replicas on other members does
     * not take this one, which the takeover of the earlier start needs.
     */
    @Test
    void aReplicaBegunBeforeTheBackupHasThePrimarysViewIsOfThatStartAndOutlivesALaterStartsRetirement() throws Exception {
        ReplicatingStore b = node("b");
        ClusterNode backup = clusterNodeOf("b");
        assertThat(backup.incarnation("p")).as("p is in no view of b").isNull();
        Replicas replicas = b.replicas();
        replicas.received(backup, "p", new ReplicationMessage.SnapshotBegin(0, -1, 3, "start-1"));
        replicas.received(backup, "p", new ReplicationMessage.SnapshotChunk(0, StoreBatchCodec.encode(
                new StoreBatch().add(new StoreBatch.AddMessage("q", 1, "m".getBytes(StandardCharsets.UTF_8))))));
        replicas.received(backup, "p", new ReplicationMessage.SnapshotEnd(0));
        await().atMost(Duration.ofSeconds(10)).until(() -> !replicas.isSyncing("p"));
        assertThat(replicas.report("p", "").incarnation()).isEqualTo("start-1");

        replicas.received(backup, "p", new ReplicationMessage.Retired(0, "start-2"));
        assertThat(replicas.of("p").get("q")).as("the replica of the earlier start, kept for its takeover").hasSize(1);
        replicas.received(backup, "p", new ReplicationMessage.Retired(0, "start-1"));
        assertThat(replicas.of("p")).as("retired by the start it is of").isEmpty();
    }

    /**
     * A primary restarted before it was found gone: its new start's snapshot may reach its backup
     * before the backup has the view that shows the restart (and plans the earlier start's
     * takeover). The replica of the earlier start, still in the view, is what that takeover takes:
     * nothing of the new start's snapshot, nor its batches, goes into it.
     */
    @Test
    void theSnapshotOfANewStartDoesNotOverwriteTheReplicaOfAnEarlierStartStillInTheView() throws Exception {
        ReplicatingStore a = node("a");
        ReplicatingStore b = node("b");
        awaitBackingEachOther(a, b);
        send(a, "q").join();
        String earlier = clusterNodeOf("a").incarnation("a");
        assertThat(b.replicas().report("a", "").incarnation()).isEqualTo(earlier);

        // The new start's whole snapshot, then a batch of it: none of it goes into the earlier start's replica.
        Replicas replicas = b.replicas();
        ClusterNode backup = clusterNodeOf("b");
        replicas.received(backup, "a", new ReplicationMessage.SnapshotBegin(0, -1, 9, "a-new-start-of-a"));
        replicas.received(backup, "a", new ReplicationMessage.SnapshotChunk(0, StoreBatchCodec.encode(
                new StoreBatch().add(new StoreBatch.AddMessage("new", 1, "n".getBytes(StandardCharsets.UTF_8))))));
        replicas.received(backup, "a", new ReplicationMessage.SnapshotEnd(0));
        replicas.received(backup, "a", new ReplicationMessage.Batch(1, StoreBatchCodec.encode(
                new StoreBatch().add(new StoreBatch.AddMessage("new", 2, "n".getBytes(StandardCharsets.UTF_8))))));
        assertThat(replicas.report("a", "").incarnation()).isEqualTo(earlier);
        assertThat(replicas.of("a").get("q")).as("what the earlier start stored, kept for its takeover").hasSize(1);
        assertThat(replicas.of("a")).as("nothing of the new start").doesNotContainKey("new");
        // Told it is out of sync, the (real) primary tries again: its own start's snapshot is kept as always.
        await().atMost(Duration.ofSeconds(30)).until(() -> a.backups().contains("b") && !replicas.isSyncing("a"));
        send(a, "q").join();
        assertThat(replicas.of("a").get("q")).hasSize(2);
    }

    @Test
    void aCommitWaitingForABackupThatLeavesWaitsForTheNewBackupsSnapshotAndNotLess() throws Exception {
        ReplicatingStore a = node("a");
        ReplicatingStore b = node("b");
        ReplicatingStore c = node("c");
        await().atMost(Duration.ofSeconds(30)).until(() -> !a.backups().isEmpty() && stores.stream()
                .allMatch(s -> !s.backups().isEmpty()));
        String backupName = a.backups().iterator().next();
        ReplicatingStore backup = backupName.equals("b") ? b : c;
        ReplicatingStore other = backup == b ? c : b;
        isolate(backupName);
        CompletableFuture<Void> pending = send(a, "q"); // the isolated backup never acknowledges this one
        // The backup leaving is no acknowledgement: the commit completes once the other node, a's new
        // backup, confirmed a snapshot that holds it.
        await().atMost(Duration.ofSeconds(30)).until(pending::isDone);
        assertThat(pending).isCompletedWithValue(null);
        assertThat(a.backups()).containsExactly(other == b ? "b" : "c");
        assertThat(other.replicas().isSyncing("a")).isFalse();
        assertThat(other.replicas().of("a").get("q")).hasSize(1);
        send(a, "q").join();
        assertThat(other.replicas().of("a").get("q")).hasSize(2);
    }

    @Test
    void aCommitWaitingWhenThePrimaryLosesTheQuorumFailsAndLaterOnesFailAtOnce() throws Exception {
        ReplicatingStore a = node("a");
        ReplicatingStore b = node("b");
        await().until(() -> a.backups().contains("b") && !b.replicas().isSyncing("a"));
        isolate("b");
        CompletableFuture<Void> pending = send(a, "q"); // b will never acknowledge this one
        await().atMost(Duration.ofSeconds(30)).until(pending::isDone);
        // Alone of two, a has no quorum: b's side may be taking it over, so nothing a commits now counts.
        assertThat(pending).isCompletedExceptionally();
        assertThat(pending.handle((ok, e) -> e.getCause().getMessage()).join()).contains("lost the quorum");
        CompletableFuture<Void> next = send(a, "q");
        assertThat(next).isCompletedExceptionally();
        assertThat(contents(a)).as("nothing stored without the quorum").allSatisfy((q, m) ->
                assertThat(m).hasSizeLessThanOrEqualTo(1));
    }

    /** A layer under the channel that makes every send of a primary to its backups (batches, snapshots) throw while it is on. */
    static final class FailingSends extends org.jgroups.stack.Protocol {
        volatile boolean on;
        final AtomicLong thrown = new AtomicLong();

        @Override
        public Object down(org.jgroups.Message msg) {
            byte[] a = msg.getArray();
            if (on && a != null && msg.getLength() > 1 && "RSCE".indexOf(a[msg.getOffset() + 1]) >= 0) {
                thrown.incrementAndGet();
                throw new IllegalStateException("fault injected: replication send fails");
            }
            return down_prot.down(msg);
        }
    }

    @Test
    void aReplicationSendThatFailsFailsTheCommitAndTheBackupIsBroughtInSyncAgain() throws Exception {
        ReplicatingStore a = node("a");
        ReplicatingStore b = node("b");
        await().until(() -> a.backups().contains("b") && !b.replicas().isSyncing("a"));
        for (int i = 0; i < 10; i++) {
            send(a, "q").join();
        }
        FailingSends faults = new FailingSends();
        clusterNodeOf("a").jgroupsChannel().getProtocolStack().insertProtocol(faults,
                org.jgroups.stack.ProtocolStack.Position.BELOW, org.jgroups.protocols.pbcast.GMS.class);
        faults.on = true;
        List<CompletableFuture<Void>> failing = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            failing.add(send(a, "q"));
        }
        // No send returns before its replica is stored: each failed, none completed normally.
        for (CompletableFuture<Void> f : failing) {
            await().atMost(Duration.ofSeconds(10)).until(f::isDone);
            assertThat(f).isCompletedExceptionally();
        }
        // The first batch's send threw; the others waited for b's resync, whose sends threw too.
        assertThat(faults.thrown.get()).isGreaterThanOrEqualTo(2);
        assertThat(clusterNodeOf("a").sendFailures()).isEqualTo(faults.thrown.get());
        assertThat(a.failedCommits()).isEqualTo(5);
        faults.on = false;
        // b missed batches: a brings it in sync again, and then it holds exactly what a stored.
        await().atMost(Duration.ofSeconds(30)).until(() -> a.backups().contains("b") && !b.replicas().isSyncing("a"));
        send(a, "q").join();
        assertSameContent(a, b, "a");
    }

    @Test
    void aBatchTheBackupCannotWriteToItsReplicaDiskIsNotAcknowledgedAndTheBackupGetsANewSnapshot() throws Exception {
        ReplicatingStore a = node("a");
        ReplicatingStore b = node("b", dir.resolve("b-replicas"));
        await().until(() -> a.backups().contains("b") && !b.replicas().isSyncing("a"));
        for (int i = 0; i < 10; i++) {
            send(a, "q").join();
        }
        b.replicas().diskOf("a").close(); // its writes fail from now on, until a new snapshot reopens it
        CompletableFuture<Void> failing = send(a, "q");
        await().atMost(Duration.ofSeconds(10)).until(failing::isDone);
        assertThat(failing).isCompletedExceptionally();
        assertThat(a.failedCommits()).isEqualTo(1);
        // a brings b in sync again: the new snapshot replaces the disk copy, and commits are acknowledged again.
        await().atMost(Duration.ofSeconds(30)).until(() -> a.backups().contains("b") && !b.replicas().isSyncing("a"));
        send(a, "q").join();
        assertSameContent(a, b, "a");
    }

    /** Every stored message of {@code store}, as {@link Replicas#of} shows a replica (for comparisons). */
    static Map<String, Map<Long, byte[]>> contents(MessageStore store) {
        Map<String, Map<Long, byte[]>> all = new HashMap<>();
        try (MessageStore.Snapshot s = store.snapshot()) {
            s.read(new MessageStore.Recovery() {
                @Override
                public void queue(String queue, byte[] definition) {
                }

                @Override
                public void message(String queue, long sequence, byte[] message) {
                    all.computeIfAbsent(queue, q -> new java.util.TreeMap<>()).put(sequence, message);
                }

                @Override
                public void duplicateId(long bucket, String id) {
                }
            });
        }
        return all;
    }
}
