package io.tern.cluster;

import io.tern.broker.BrokerException;
import io.tern.broker.store.MessageStore;
import io.tern.broker.store.StoreBatch;
import io.tern.broker.store.StoreBatchCodec;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.ErrorCode;
import io.tern.protocol.FailoverInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A store that also ships every batch to this node's failover nodes (its backups, from the
 * failover map) and completes a commit only when the local store has it and every failover node
 * of the map has confirmed it: by acknowledging the batch, or, for a failover node that became one
 * after the batch, by confirming a snapshot cut after it. The backup side is {@link Replicas}; the
 * messages are {@link ReplicationMessage}s.
 *
 * <p>What is never an acknowledgement: a failover node leaving the map (a commit waiting for it
 * waits for the map's new failover nodes instead, which get a snapshot that holds it); a send to a
 * backup that threw (the commit fails and the backup is brought in sync again); a backup that
 * refuses the batch because it took this node over (the commit fails with {@code NOT_IN_QUORUM} and
 * the client sends to the node that owns this one's messages now). Without the quorum a commit
 * fails at once, before anything is written: the majority may be taking this node over. Only a
 * map with no failover node at all for this node (it is alone, or {@code --backups 0}) lets a
 * commit complete with the local write alone, and that is logged.
 *
 * <p>Order: batches get a sequence number and go to the local store and to the backups under one
 * lock, so both see them in the same order. A node that becomes a backup is brought in sync by a
 * snapshot: commits pause only until the commits in flight are durable, the store's snapshot is
 * taken (cheap), and the new backup is told the snapshot's cut; then commits resume while the
 * snapshot streams, and the backup applies the batches after the cut once the snapshot is complete.
 */
public final class ReplicatingStore implements MessageStore, ClusterListener, ClusterNode.PayloadHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicatingStore.class);
    private static final long RESYNC_DELAY_MS = 500;

    private final MessageStore local;
    private final Replicas replicas;
    private final Object order = new Object();
    private ClusterNode node;                                  // guarded by order
    /** The failover nodes of this node in the map: every commit waits for each of them. */
    private Set<String> target = Set.of();                     // guarded by order
    /** The failover nodes in sync, which get every batch as it is committed. */
    private Set<String> backups = Set.of();                    // guarded by order
    /** The failover nodes being brought in sync. */
    private final Set<String> syncing = new HashSet<>();       // guarded by order
    /** Backups whose snapshot has not been confirmed yet: backup to the snapshot's cut. */
    private final Map<String, Long> unconfirmed = new HashMap<>(); // guarded by order
    /**
     * Make before break: backups in sync that the map no longer names, while its new failover nodes
     * are not all in sync yet. They still get every batch and every commit waits for them too, so
     * that what was acknowledged before the map changed is on a replica that can stand in for this
     * node (a takeover gets it handed over, {@link ReplicaHandover}) until the new ones can.
     */
    private Set<String> retiring = Set.of();                   // guarded by order
    /** Which start of each backup got its snapshot (see {@link ClusterNode#incarnation}). */
    private final Map<String, String> syncedIncarnation = new HashMap<>(); // guarded by order
    private boolean quorum = true;                             // guarded by order
    private long lastSeq;                                      // guarded by order
    private boolean paused;                                    // guarded by order
    private boolean detached;                                  // guarded by order: between fail() and resync()
    private boolean alone = true;                              // guarded by order: the map names no failover node
    private final Set<CompletableFuture<Void>> localInFlight = ConcurrentHashMap.newKeySet();
    private final ConcurrentSkipListMap<Long, WaitingCommit> waiting = new ConcurrentSkipListMap<>();
    private final AtomicLong failedCommits = new AtomicLong();
    private volatile Supplier<List<StoreBatch.Mark>> outstanding = List::of;
    /** The newest takeover of this node it discarded for (-1: none); a backup's older record of one is stale. */
    private volatile java.util.function.LongSupplier discardedEpoch = () -> -1;
    private final ScheduledExecutorService snapshots = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "tern-replication-sync");
        t.setDaemon(true);
        return t;
    });

    public ReplicatingStore(MessageStore local) {
        this(local, null);
    }

    /**
     * @param replicaDir where replicas are kept on disk too, one directory per primary (null: in
     *                   memory only); replicas found there are loaded
     */
    public ReplicatingStore(MessageStore local, Path replicaDir) {
        this.local = local;
        this.replicas = new Replicas(replicaDir);
    }

    private volatile long snapshotDelayMs;

    /** Fault injection for tests: each snapshot for a new backup starts this much later (a slow network or a big store). */
    public void delaySnapshotsForTests(long ms) {
        this.snapshotDelayMs = ms;
    }

    /** The backup side: what this node holds of the nodes it is a failover node of. */
    public Replicas replicas() {
        return replicas;
    }

    /**
     * Replicates through {@code node}, whose map says who the backups are. Attach before the node
     * connects ({@link ClusterNode#create}), so that no replication message arrives unhandled.
     */
    public void attach(ClusterNode node) {
        synchronized (order) {
            this.node = node;
        }
        node.addPayloadHandler(ReplicationMessage.TYPES, this);
        node.addListener(this);
        if (node.jgroupsChannel().isConnected()) {
            clusterChanged(node.topology(), node.hasQuorum());
        }
    }

    // ---- primary ------------------------------------------------------------------------------

    @Override
    public void recover(Recovery recovery) {
        local.recover(recovery);
    }

    @Override
    public Snapshot snapshot() {
        return local.snapshot();
    }

    @Override
    public CompletableFuture<Void> commit(StoreBatch batch) {
        return commit(batch, true);
    }

    /** Lazily written batches (automatic acknowledgements) are replicated too, and nobody waits for either. */
    @Override
    public CompletableFuture<Void> commitLazily(StoreBatch batch) {
        return commit(batch, false);
    }

    private CompletableFuture<Void> commit(StoreBatch batch, boolean sync) {
        if (batch.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> stored;
        WaitingCommit replicated = null;
        List<String> failedSends = new java.util.ArrayList<>();
        long seq;
        synchronized (order) {
            while (paused) {
                try {
                    order.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return CompletableFuture.failedFuture(e);
                }
            }
            if (!quorum && !detached) {
                failedCommits.incrementAndGet();
                return CompletableFuture.failedFuture(new BrokerException(ErrorCode.NOT_IN_QUORUM, "node "
                        + node.self().name() + " has no quorum (the majority may be taking it over): nothing was stored"));
            }
            seq = ++lastSeq;
            stored = batch.onlyMarks() ? CompletableFuture.completedFuture(null)
                    : sync ? local.commit(batch) : local.commitLazily(batch);
            localInFlight.add(stored);
            if (!target.isEmpty()) {
                replicated = new WaitingCommit(union(target, retiring));
                waiting.put(seq, replicated);
                byte[] message = new ReplicationMessage.Batch(seq, StoreBatchCodec.encode(batch)).encode();
                for (String b : union(backups, retiring)) {
                    // NOT_A_MEMBER: the view change that says so comes next and retargets the batch.
                    if (node.trySend(b, message) == ClusterNode.Sent.FAILED) {
                        failedSends.add(b); // handled below, outside the lock: failing a commit may commit again
                    }
                }
                long s = seq;
                replicated.done.whenComplete((ok, e) -> waiting.remove(s));
            }
        }
        for (String b : failedSends) {
            sendFailed(b, "replicating batch " + seq);
        }
        CompletableFuture<Void> s = stored;
        stored.whenComplete((ok, e) -> localInFlight.remove(s));
        return replicated == null || !sync ? stored : CompletableFuture.allOf(stored, replicated.done);
    }

    /**
     * A send to a backup in the view threw: every commit waiting for that backup fails (nothing is
     * acknowledged that is not replicated), and the backup, which missed a batch, is brought in sync
     * again. Called under {@code order} or on the sync thread.
     */
    private void sendFailed(String backup, String what) {
        String reason = "replication to failover node " + backup + " failed (" + what + ")";
        if (stopRetiring(backup)) {
            return;
        }
        synchronized (order) {
            Set<String> kept = new LinkedHashSet<>(backups);
            kept.remove(backup);
            backups = Set.copyOf(kept);
            if (target.contains(backup) && syncing.add(backup)) {
                snapshots.schedule(() -> bringInSync(backup), RESYNC_DELAY_MS, TimeUnit.MILLISECONDS);
            }
        }
        failWaitingCommit(backup, ErrorCode.STORE_FAILURE, reason);
    }

    /**
     * A retiring backup missed a batch (a send to it failed, or it says it is out of sync): it is no
     * longer a stand-in, and commits stop waiting for it. False if it is not retiring.
     */
    private boolean stopRetiring(String backup) {
        Set<String> waitFor;
        synchronized (order) {
            if (!retiring.contains(backup)) {
                return false;
            }
            Set<String> rest = new LinkedHashSet<>(retiring);
            rest.remove(backup);
            retiring = Set.copyOf(rest);
            waitFor = union(target, retiring);
            node.trySend(backup, new ReplicationMessage.Retired(lastSeq, selfIncarnation()).encode());
        }
        LOG.warn("Former failover node {} missed a batch: it no longer stands in while the new ones get in sync", backup);
        waiting.values().forEach(w -> w.retarget(waitFor));
        return true;
    }

    /**
     * A backup says it missed batches: it is brought in sync again. The commits waiting for it keep
     * waiting: the new snapshot's confirmation covers them.
     */
    private void outOfSync(String backup, long seq) {
        if (stopRetiring(backup)) {
            return;
        }
        synchronized (order) {
            if (!backups.contains(backup)) {
                return; // already being brought in sync
            }
            LOG.warn("Failover node {} missed batches before batch {}: bringing it in sync again", backup, seq);
            Set<String> kept = new LinkedHashSet<>(backups);
            kept.remove(backup);
            backups = Set.copyOf(kept);
            unconfirmed.remove(backup);
            if (target.contains(backup) && syncing.add(backup)) {
                snapshots.schedule(() -> bringInSync(backup), RESYNC_DELAY_MS, TimeUnit.MILLISECONDS);
            }
        }
    }

    /** This start of this node, as the members know it ({@link ClusterNode#incarnation}); under order. */
    private String selfIncarnation() {
        String i = node.incarnation(node.self().nodeId());
        return i == null ? "" : i;
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        if (b.isEmpty()) {
            return a;
        }
        Set<String> all = new LinkedHashSet<>(a);
        all.addAll(b);
        return all;
    }

    /** Fails the waiting commits that need {@code backup} (all of them if null). */
    private void failWaitingCommit(String backup, ErrorCode code, String reason) {
        int failed = 0;
        for (WaitingCommit w : waiting.values()) {
            if ((backup == null || w.needs(backup))
                    && w.done.completeExceptionally(new BrokerException(code, reason))) {
                failed++;
            }
        }
        if (failed > 0) {
            failedCommits.addAndGet(failed);
            LOG.warn("{} commit(s) failed: {}", failed, reason);
        }
    }

    /** Commits that failed because they could not be replicated (or the node had no quorum). */
    public long failedCommits() {
        return failedCommits.get();
    }

    /** The map changed: commits wait for the new failover nodes instead of those that left, which are brought in sync. */
    @Override
    public void clusterChanged(ClusterTopology topology, boolean quorum) {
        ClusterNode n;
        Set<String> now = new LinkedHashSet<>();
        Set<String> added = new LinkedHashSet<>();
        Set<String> retired = new LinkedHashSet<>();
        Set<String> waitFor;
        boolean wasAlone;
        synchronized (order) {
            n = node;
            if (n == null) {
                return;
            }
            this.quorum = quorum;
            for (FailoverInfo f : topology.failover().getOrDefault(n.self().nodeId(), List.of())) {
                now.add(f.nodeId());
            }
            wasAlone = alone;
            if (!detached) {
                // In sync and confirmed, and still the same start of that node: may stand in while the new ones sync.
                Set<String> standIns = new LinkedHashSet<>(union(backups, retiring));
                standIns.removeIf(b -> unconfirmed.containsKey(b)
                        || !java.util.Objects.equals(syncedIncarnation.get(b), n.incarnation(b)));
                target = Set.copyOf(now);
                alone = now.isEmpty();
                Set<String> kept = new LinkedHashSet<>(backups);
                kept.retainAll(now);
                // A backup that restarted lost its replica (or has an old one on disk): it gets a snapshot again.
                kept.removeIf(b -> !java.util.Objects.equals(syncedIncarnation.get(b), n.incarnation(b)));
                backups = Set.copyOf(kept); // new ones join once their snapshot's cut is set
                unconfirmed.keySet().retainAll(kept);
                syncing.retainAll(now);
                for (String b : now) {
                    if (!backups.contains(b) && syncing.add(b)) {
                        added.add(b);
                    }
                }
                standIns.removeAll(now);
                retiring = Set.copyOf(allInSync() ? Set.of() : standIns);
                Set<String> keepIncarnation = union(kept, retiring);
                syncedIncarnation.keySet().retainAll(keepIncarnation);
                // Every other member not replicated to drops what it holds of this node: a former failover
                // node, one being brought in sync, or one that was away while this node changed its map.
                topology.members().forEach(m -> retired.add(m.nodeId()));
                retired.remove(n.self().nodeId());
                retired.removeAll(now);
                retired.removeAll(retiring);
                if (!retiring.isEmpty()) {
                    LOG.info("Failover nodes {} get in sync; until they are, {} still stand in", now, retiring);
                }
            }
            waitFor = union(target, retiring);
            for (String r : retired) {
                n.trySend(r, new ReplicationMessage.Retired(lastSeq, selfIncarnation()).encode()); // NOT_A_MEMBER: it dropped it at its view
            }
        }
        backupViewChanged(n);
        for (String b : added) {
            snapshots.execute(() -> bringInSync(b));
        }
        if (!quorum) {
            failWaitingCommit(null, ErrorCode.NOT_IN_QUORUM, "node " + n.self().name() + " lost the quorum before its failover "
                    + "nodes confirmed the commit (the majority may be taking it over)");
            return;
        }
        waiting.values().forEach(w -> w.retarget(waitFor));
        if (now.isEmpty() && !wasAlone) {
            LOG.warn("No failover node in the map for {}: commits are durable on this node only until one joins",
                    n.self().name());
        }
    }

    /**
     * Makes {@code backup} a backup: pause commits, let those in flight become durable, take the
     * store's snapshot, tell the backup the cut and add it to the backups, resume; then stream the
     * snapshot. The backup confirms it with the cut once it is kept; commits up to the cut that
     * wait for it complete then.
     */
    private void bringInSync(String backup) {
        long delay = snapshotDelayMs;
        if (delay > 0) {
            LOG.warn("Fault injection: the snapshot for {} waits {} ms", backup, delay);
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        Snapshot snapshot = null;
        long cut = 0;
        List<StoreBatch.Mark> out = List.of();
        boolean beginFailed = false;
        synchronized (order) {
            if (detached || !target.contains(backup)) {
                syncing.remove(backup);
                return; // this node discards what was taken over (resync() starts again), or the map moved on
            }
            paused = true;
        }
        try {
            CompletableFuture.allOf(localInFlight.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
            synchronized (order) {
                if (detached || !target.contains(backup)) {
                    syncing.remove(backup);
                    return;
                }
                snapshot = local.snapshot();
                out = outstanding.get();
                cut = lastSeq;
                ClusterNode.Sent sent = node.trySend(backup, new ReplicationMessage.SnapshotBegin(cut, discardedEpoch.getAsLong()).encode());
                if (sent != ClusterNode.Sent.SENT) {
                    snapshot.close();
                    snapshot = null;
                    syncing.remove(backup);
                    beginFailed = sent == ClusterNode.Sent.FAILED;
                }
                if (snapshot != null) {
                    syncing.remove(backup);
                    Set<String> with = new LinkedHashSet<>(backups);
                    with.add(backup);
                    backups = Set.copyOf(with);
                    unconfirmed.put(backup, cut);
                    syncedIncarnation.put(backup, node.incarnation(backup));
                }
            }
        } finally {
            synchronized (order) {
                paused = false;
                order.notifyAll();
            }
        }
        if (beginFailed) {
            sendFailed(backup, "starting its snapshot"); // outside the lock: failing a commit may commit again
        }
        if (snapshot == null) {
            return;
        }
        int sent = SnapshotStream.snapshot(node, backup, cut, snapshot, out);
        if (sent < 0) {
            sendFailed(backup, "streaming its snapshot");
            return;
        }
        LOG.info("Backup {} brought in sync: snapshot at batch {} with {} entries", backup, cut, sent);
    }

    @Override
    public void received(String from, byte[] payload, int offset, int length) {
        ReplicationMessage m;
        try {
            m = ReplicationMessage.decode(payload, offset, length);
        } catch (IllegalArgumentException e) {
            LOG.warn("Malformed replication message from {}: {}", from, e.getMessage());
            return;
        }
        if (m instanceof ReplicationMessage.Ack a) {
            WaitingCommit w = waiting.get(a.seq());
            if (w != null) {
                w.confirmed(from);
            }
        } else if (m instanceof ReplicationMessage.InSync s) {
            waiting.headMap(s.cut(), true).values().forEach(w -> w.confirmed(from));
            confirmedSnapshot(from, s.cut());
        } else if (m instanceof ReplicationMessage.OutOfSync u) {
            outOfSync(from, u.seq());
        } else if (m instanceof ReplicationMessage.Refused) {
            // First, before the failed commits close anything: this node may have been taken over.
            refusedAsTakenOver.run();
            failWaitingCommit(from, ErrorCode.NOT_IN_QUORUM, "failover node " + from + " refuses this node's replication: it "
                    + "took this node over while this node was gone");
        } else {
            ClusterNode n;
            synchronized (order) {
                n = node;
            }
            replicas.received(n, from, m);
        }
    }

    /** True if every failover node of the map is in sync and has confirmed its snapshot; under order. */
    private boolean allInSync() {
        return syncing.isEmpty() && backups.containsAll(target) && target.stream().noneMatch(unconfirmed::containsKey);
    }

    /**
     * Backup {@code from} confirmed the snapshot at {@code cut}: once every failover node of the map
     * has, the retiring ones are told to drop their replicas, and commits no longer wait for them.
     */
    private void confirmedSnapshot(String from, long cut) {
        Set<String> waitFor;
        Set<String> released;
        synchronized (order) {
            Long pending = unconfirmed.get(from);
            if (pending == null || pending != cut) {
                return; // an older snapshot's confirmation: the newer one is still on its way
            }
            unconfirmed.remove(from);
            if (retiring.isEmpty() || !allInSync()) {
                return;
            }
            released = retiring;
            retiring = Set.of();
            syncedIncarnation.keySet().retainAll(backups);
            waitFor = target;
            for (String r : released) {
                node.trySend(r, new ReplicationMessage.Retired(lastSeq, selfIncarnation()).encode());
            }
        }
        LOG.info("Failover nodes {} in sync: {} no longer stand in", waitFor, released);
        waiting.values().forEach(w -> w.retarget(waitFor));
    }

    /**
     * This node learned that it was taken over: every commit still waiting for its backups fails
     * (they will not answer; the sender gets an error and sends elsewhere, so nothing it was told is
     * stored can be lost). Commits from now on (the discard) wait for no backup, until {@link #resync}.
     */
    public void fail(String reason) {
        synchronized (order) {
            detached = true;
            target = Set.of();
            backups = Set.of();
            retiring = Set.of();
            unconfirmed.clear();
            syncing.clear();
        }
        failWaitingCommit(null, ErrorCode.NOT_IN_QUORUM, reason);
    }

    /**
     * After this node discarded what was taken over (and told the members, which readmit it): its
     * backups dropped their replica of it at the takeover, so each gets a snapshot again.
     */
    public void resync() {
        ClusterNode n;
        synchronized (order) {
            detached = false;
            n = node;
        }
        if (n != null) {
            clusterChanged(n.topology(), n.hasQuorum());
        }
    }

    /**
     * Backup side of a view change. A replica of a primary whose map no longer names this node is
     * kept until that primary says it is not needed ({@code 'D'}, sent at every view change to the
     * members it does not replicate to): until its new failover nodes are in sync it may have to stand
     * in. If this node missed views, its replicas may be stale (the primary may have brought another
     * node in sync meanwhile): they are unverified until their primary's next snapshot, and a
     * takeover from one of them first looks for a better one ({@link ReplicaHandover}).
     */
    private void backupViewChanged(ClusterNode n) {
        if (!n.viewContinuous()) {
            replicas.unverifyAll();
        }
    }

    /** Where a new backup's snapshot gets the newest takeover of this node that it discarded for. */
    public void setDiscardedEpoch(java.util.function.LongSupplier discardedEpoch) {
        this.discardedEpoch = discardedEpoch;
    }

    /** The nodes this node replicates to now (in sync). */
    public Set<String> backups() {
        synchronized (order) {
            return backups;
        }
    }

    /** The state of replication, for operators and test diagnostics. */
    @Override
    public String toString() {
        synchronized (order) {
            return "replication[target=" + target + ", inSync=" + backups + ", syncing=" + syncing + ", unconfirmed="
                    + unconfirmed.keySet() + ", retiring=" + retiring + ", quorum=" + quorum
                    + ", detached=" + detached + ", waiting=" + waiting.size() + (waiting.isEmpty() ? ""
                    : " from batch " + waiting.firstKey()) + ", lastBatch=" + lastSeq + "]";
        }
    }

    /** The local writes in flight now (a commit writes locally at once, under the lock that orders commits). */
    @Override
    public CompletableFuture<Void> written() {
        return CompletableFuture.allOf(localInFlight.toArray(CompletableFuture[]::new)).exceptionally(e -> null);
    }

    @Override
    public boolean isDurable() {
        return local.isDurable();
    }

    /** Backups learn which stored messages are out with which client session. */
    @Override
    public boolean tracksDeliveries() {
        return true;
    }

    /**
     * Where a new backup's snapshot gets the deliveries out now (a snapshot of the store has none):
     * called while commits pause for the snapshot's cut.
     */
    public void setOutstandingDeliveries(Supplier<List<StoreBatch.Mark>> outstanding) {
        this.outstanding = outstanding;
    }

    private volatile Runnable refusedAsTakenOver = () -> { };

    /** Runs when a failover node refuses this node's replication because it took this node over. */
    public void setRefusedAsTakenOver(Runnable r) {
        this.refusedAsTakenOver = r;
    }

    @Override
    public void close() {
        snapshots.shutdownNow();
        replicas.close();
        local.close();
    }
}
