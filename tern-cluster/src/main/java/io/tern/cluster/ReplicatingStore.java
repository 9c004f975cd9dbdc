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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A store that also ships every batch to this node's failover nodes (its backups, from the
 * failover map) and completes a commit only when the local store has it and every failover node
 * of the map has confirmed it: by acknowledging the batch, or, for a failover node that became one
 * after the batch, by confirming a snapshot cut after it. The backup side is {@link Replicas}; the
 * messages are {@link ReplicationMessage}s. Who the backups are and how far each one is (in sync,
 * syncing, standing in until new ones are in sync) is {@link BackupSet}; the commits waiting for them
 * are {@link WaitingCommits}; this class sends the batches and the snapshots.
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
    /** Who this node replicates to and how far each one is. */
    private final BackupSet backups = new BackupSet();         // guarded by order
    private boolean quorum = true;                             // guarded by order
    private long lastSeq;                                      // guarded by order
    private boolean paused;                                    // guarded by order
    private boolean detached;                                  // guarded by order: between fail() and resync()
    private boolean alone = true;                              // guarded by order: the map names no failover node
    private final Set<CompletableFuture<Void>> localInFlight = ConcurrentHashMap.newKeySet();
    private final WaitingCommits waiting = new WaitingCommits();
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
        this(local, replicaDir, null);
    }

    /**
     * @param replicaDir where replicas are kept on disk too, one directory per primary (null: in
     *                   memory only); replicas found there are loaded
     * @param pagesDir   where replicas page their bodies past their share of the heap ({@link
     *                   #limitCopies}); null: they keep them in memory
     */
    public ReplicatingStore(MessageStore local, Path replicaDir, Path pagesDir) {
        this.local = local;
        this.replicas = new Replicas(replicaDir, pagesDir);
    }

    private final FaultPause snapshotDelay = new FaultPause("the snapshot for %s waits");

    /** Fault injection for tests: each snapshot for a new backup starts this much later (a slow network or a big store). */
    public void delaySnapshotsForTests(long ms) {
        snapshotDelay.set(ms);
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

    /**
     * Backups hold their replica of this node in memory (on disk too with {@code --replica-store disk}),
     * unless they page it: a node whose own replicas page ({@code pagesDir}) counts on its backups, started
     * the same way, to page too, and pages its own queues.
     */
    @Override
    public boolean copiesHeldInMemory() {
        return !replicas.pages();
    }

    /** The replicas this node holds for the nodes it backs up take its heap: its memory limit counts them. */
    @Override
    public long copiesHeldBytes() {
        return replicas.heldBytes();
    }

    @Override
    public void watchMemory(java.util.function.BooleanSupplier full, Runnable shrunk) {
        replicas.watchMemory(full, shrunk);
    }

    @Override
    public void limitCopies(long bytes, java.util.function.BooleanSupplier atPageLine) {
        replicas.limitHeld(bytes, atPageLine);
    }

    @Override
    public java.util.List<byte[]> read(String queue, long[] sequences) {
        return local.read(queue, sequences);
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
        CompletableFuture<Void> replicated = null;
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
                waiting.refused();
                return CompletableFuture.failedFuture(new BrokerException(ErrorCode.NOT_IN_QUORUM, "node "
                        + node.self().name() + " has no quorum (the majority may be taking it over): nothing was stored"));
            }
            seq = ++lastSeq;
            stored = batch.onlyMarks() ? CompletableFuture.completedFuture(null)
                    : sync ? local.commit(batch) : local.commitLazily(batch);
            localInFlight.add(stored);
            if (!backups.target().isEmpty()) {
                replicated = waiting.add(seq, backups.waitFor());
                byte[] message = new ReplicationMessage.Batch(seq, StoreBatchCodec.encode(batch), batch.takesOver()).encode();
                for (String b : backups.sendTo()) {
                    // NOT_A_MEMBER: the view change that says so comes next and retargets the batch.
                    if (node.trySend(b, message) == ClusterNode.Sent.FAILED) {
                        failedSends.add(b); // handled below, outside the lock: failing a commit may commit again
                    }
                }
            }
        }
        for (String b : failedSends) {
            sendFailed(b, "replicating batch " + seq);
        }
        CompletableFuture<Void> s = stored;
        stored.whenComplete((ok, e) -> localInFlight.remove(s));
        return replicated == null || !sync ? stored : CompletableFuture.allOf(stored, replicated);
    }

    /**
     * A send to a backup in the view threw, or the backup could not write it: every commit waiting for
     * that backup fails (nothing is acknowledged that is not replicated), and the backup, which missed
     * a batch, is brought in sync again. Called under {@code order} or on the sync thread.
     */
    private void sendFailed(String backup, String what) {
        String reason = "replication to failover node " + backup + " failed (" + what + ")";
        if (stopRetiring(backup)) {
            return;
        }
        synchronized (order) {
            if (backups.missed(backup)) {
                snapshots.schedule(() -> bringInSync(backup), RESYNC_DELAY_MS, TimeUnit.MILLISECONDS);
            }
        }
        waiting.fail(backup, ErrorCode.STORE_FAILURE, reason);
    }

    /**
     * A retiring backup missed a batch (a send to it failed, or it says it is out of sync): it is no
     * longer a stand-in, and commits stop waiting for it. False if it is not retiring.
     */
    private boolean stopRetiring(String backup) {
        Set<String> waitFor;
        synchronized (order) {
            if (!backups.stopRetiring(backup)) {
                return false;
            }
            waitFor = backups.waitFor();
            node.trySend(backup, new ReplicationMessage.Retired(lastSeq, selfIncarnation()).encode());
        }
        LOG.warn("Former failover node {} missed a batch: it no longer stands in while the new ones get in sync", backup);
        waiting.retarget(waitFor);
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
            if (!backups.inSync().contains(backup)) {
                return; // already being brought in sync
            }
            LOG.warn("Failover node {} missed batches before batch {}: bringing it in sync again", backup, seq);
            if (backups.missed(backup)) {
                snapshots.schedule(() -> bringInSync(backup), RESYNC_DELAY_MS, TimeUnit.MILLISECONDS);
            }
        }
    }

    /** This start of this node, as the members know it ({@link ClusterNode#incarnation}); under order. */
    private String selfIncarnation() {
        String i = node.incarnation(node.self().nodeId());
        return i == null ? "" : i;
    }

    /** Batches waiting for their backups now. */
    public int waitingCommits() {
        return waiting.size();
    }

    /** The replication lag: how long the oldest batch waiting for its backups has waited (0 if none). */
    public long replicationLagNanos() {
        return waiting.oldestWaitNanos();
    }

    /** Commits that failed because they could not be replicated (or the node had no quorum). */
    public long failedCommits() {
        return waiting.failed();
    }

    /** The map changed: commits wait for the new failover nodes instead of those that left, which are brought in sync. */
    @Override
    public void clusterChanged(ClusterTopology topology, boolean quorum) {
        ClusterNode n;
        BackupSet.Change change = new BackupSet.Change(Set.of(), Set.of());
        Set<String> waitFor;
        boolean wasAlone;
        Set<String> now = new LinkedHashSet<>();
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
                Set<String> others = new LinkedHashSet<>();
                topology.members().forEach(m -> others.add(m.nodeId()));
                others.remove(n.self().nodeId());
                change = backups.mapChanged(now, n::incarnation, others);
                alone = now.isEmpty();
                if (!backups.retiring().isEmpty()) {
                    LOG.info("Failover nodes {} get in sync; until they are, {} still stand in", now, backups.retiring());
                }
            }
            waitFor = backups.waitFor();
            for (String r : change.dropped()) {
                n.trySend(r, new ReplicationMessage.Retired(lastSeq, selfIncarnation()).encode()); // NOT_A_MEMBER: it dropped it at its view
            }
        }
        backupViewChanged(n);
        for (String b : change.toSync()) {
            snapshots.execute(() -> bringInSync(b));
        }
        if (!quorum) {
            waiting.fail(null, ErrorCode.NOT_IN_QUORUM, "node " + n.self().name() + " lost the quorum before its failover "
                    + "nodes confirmed the commit (the majority may be taking it over)");
            return;
        }
        waiting.retarget(waitFor);
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
    /**
     * Brings {@code backup} in sync; a snapshot that throws (a store that cannot be read, memory) is logged
     * and tried again like one whose send failed, instead of ending silently in the executor's future.
     */
    private void bringInSync(String backup) {
        try {
            syncBackup(backup);
        } catch (RuntimeException | Error e) {
            LOG.error("The snapshot for backup {} failed: {}", backup, e.toString(), e);
            sendFailed(backup, "its snapshot failed: " + e);
        }
    }

    private void syncBackup(String backup) {
        if (!snapshotDelay.pause(backup)) {
            return;
        }
        Snapshot snapshot = null;
        long cut = 0;
        List<StoreBatch.Mark> out = List.of();
        boolean beginFailed = false;
        synchronized (order) {
            if (detached || !backups.wanted(backup)) {
                backups.syncAbandoned(backup);
                return; // this node discards what was taken over (resync() starts again), or the map moved on
            }
            paused = true;
        }
        try {
            CompletableFuture.allOf(localInFlight.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
            synchronized (order) {
                if (detached || !backups.wanted(backup)) {
                    backups.syncAbandoned(backup);
                    return;
                }
                snapshot = local.snapshot();
                out = outstanding.get();
                cut = lastSeq;
                ClusterNode.Sent sent = node.trySend(backup, new ReplicationMessage.SnapshotBegin(cut, discardedEpoch.getAsLong(),
                        node.viewId(), selfIncarnation()).encode());
                if (sent != ClusterNode.Sent.SENT) {
                    snapshot.close();
                    snapshot = null;
                    backups.syncAbandoned(backup);
                    beginFailed = sent == ClusterNode.Sent.FAILED;
                }
                if (snapshot != null) {
                    backups.syncBegun(backup, cut, node.incarnation(backup));
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
            waiting.confirmed(from, a.seq());
        } else if (m instanceof ReplicationMessage.AckRange a) {
            waiting.confirmed(from, a.first(), a.last());
        } else if (m instanceof ReplicationMessage.InSync s) {
            waiting.confirmedUpTo(from, s.cut());
            confirmedSnapshot(from, s.cut());
        } else if (m instanceof ReplicationMessage.OutOfSync u) {
            outOfSync(from, u.seq());
        } else if (m instanceof ReplicationMessage.NotWritten w) {
            Long cut;
            synchronized (order) {
                cut = backups.snapshotCut(from);
            }
            if (cut == null || w.seq() >= cut) { // else a batch of the copy that the snapshot under way replaces
                sendFailed(from, "its replica's disk could not keep batch " + w.seq());
            }
        } else if (m instanceof ReplicationMessage.NoRoom r) {
            waiting.failOne(r.seq(), ErrorCode.RESOURCE_EXHAUSTED, "failover node " + from + " is at its memory limit "
                    + "(its own queues and the replicas of the nodes it backs up fill it): nothing of this commit was stored; "
                    + "send again once consumers made room");
        } else if (m instanceof ReplicationMessage.Conflict c) {
            waiting.failOne(c.seq(), ErrorCode.NOT_IN_QUORUM, "failover node " + from + " stored a message of this batch "
                    + "as its own: its client resent it there while this node was silent; this copy is dropped");
        } else if (m instanceof ReplicationMessage.Refused) {
            // First, before the failed commits close anything: this node may have been taken over.
            refusedAsTakenOver.run();
            waiting.fail(from, ErrorCode.NOT_IN_QUORUM, "failover node " + from + " refuses this node's replication: it "
                    + "took this node over while this node was gone");
        } else {
            replicas.received(attached(), from, m);
        }
    }

    @Override
    public void batchEnd(String from) {
        replicas.batchEnd(attached(), from); // a message came: the node is attached
    }

    /** The cluster node this store replicates through. */
    private ClusterNode attached() {
        synchronized (order) {
            return node;
        }
    }

    /**
     * Backup {@code from} confirmed the snapshot at {@code cut}: once every failover node of the map
     * has, the retiring ones are told to drop their replicas, and commits no longer wait for them.
     */
    private void confirmedSnapshot(String from, long cut) {
        Set<String> waitFor;
        Set<String> released;
        synchronized (order) {
            released = backups.confirmed(from, cut);
            if (released.isEmpty()) {
                return;
            }
            waitFor = backups.waitFor();
            for (String r : released) {
                node.trySend(r, new ReplicationMessage.Retired(lastSeq, selfIncarnation()).encode());
            }
        }
        LOG.info("Failover nodes {} in sync: {} no longer stand in", waitFor, released);
        waiting.retarget(waitFor);
    }

    /**
     * This node learned that it was taken over: every commit still waiting for its backups fails
     * (they will not answer; the sender gets an error and sends elsewhere, so nothing it was told is
     * stored can be lost). Commits from now on (the discard) wait for no backup, until {@link #resync}.
     */
    public void fail(String reason) {
        synchronized (order) {
            detached = true;
            backups.clear();
        }
        waiting.fail(null, ErrorCode.NOT_IN_QUORUM, reason);
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
     * node in sync meanwhile): those of primaries it did not go on with without a break (at a merge,
     * the primaries of the other subgroups) whose snapshot the primary began before this view (not
     * those it began for this very view, which may come before the view is installed here, as at a
     * join or a merge) are unverified until their primary's next snapshot, and a
     * takeover from one of them first looks for a better one ({@link ReplicaHandover}).
     */
    private void backupViewChanged(ClusterNode n) {
        if (!n.viewContinuous()) {
            replicas.unverifyAll(n.viewId(), n.continuousWith());
        }
    }

    /** Where a new backup's snapshot gets the newest takeover of this node that it discarded for. */
    public void setDiscardedEpoch(java.util.function.LongSupplier discardedEpoch) {
        this.discardedEpoch = discardedEpoch;
    }

    /** The nodes this node replicates to now (in sync). */
    public Set<String> backups() {
        synchronized (order) {
            return backups.inSync();
        }
    }

    /** The state of replication, for operators and test diagnostics. */
    @Override
    public String toString() {
        synchronized (order) {
            return "replication[" + backups + ", quorum=" + quorum + ", detached=" + detached + ", " + waiting
                    + ", lastBatch=" + lastSeq + "]";
        }
    }

    /** The local writes in flight now (a commit writes locally at once, under the lock that orders commits). */
    @Override
    public CompletableFuture<Void> written() {
        return CompletableFuture.allOf(localInFlight.toArray(CompletableFuture[]::new)).exceptionally(e -> null);
    }

    @Override
    public java.util.Map<String, Long> figures() {
        return local.figures();
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
