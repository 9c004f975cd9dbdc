package io.tern.cluster;

import io.tern.broker.store.StoreBatchCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The backup side of replication: what this node holds of the primaries it is a failover node of,
 * one {@link Replica} each, in memory and, with a replica directory ({@code --replica-store disk}),
 * on this node's disk too ({@link ReplicaDisk}). It applies the primaries' batches and snapshots
 * ({@link ReplicationMessage}) and acknowledges each batch once it is kept; a batch that comes
 * while the snapshot streams is acknowledged when the snapshot has ended, and the end of a
 * snapshot is acknowledged with its cut, so a primary never counts a replica that could not yet
 * stand in for it.
 *
 * <p>Fencing: the batches of a primary that was taken over (a takeover of it is recorded) are not
 * kept; the primary is told so at once ({@code REFUSED}), so its commit fails instead of waiting,
 * and the takeover is told to tell the primary it was taken over. Until that primary has discarded
 * what it no longer owns it can therefore complete no persistent send, no acknowledgement and no
 * delivery of a stored message.
 */
public final class Replicas {
    private static final Logger LOG = LoggerFactory.getLogger(Replicas.class);

    private final Map<String, Replica> replicas = new ConcurrentHashMap<>();
    /** Replicas of an earlier start of their primary, kept from its new start until that start is taken over. */
    private final EarlierStarts earlierStarts = new EarlierStarts();
    /** Where replicas are kept on disk, one directory per primary; null: in memory only. */
    private final Path replicaDir;
    /** Replicas handed over for a takeover, still on disk until the takeover has stored them. */
    private final Map<String, ReplicaDisk> handedOver = new ConcurrentHashMap<>();
    private volatile Predicate<String> takenOver = id -> false;
    private volatile Consumer<String> refusing = id -> { };
    private volatile java.util.function.ObjLongConsumer<String> discarded = (id, epoch) -> { };

    /**
     * Replicas taken for a takeover until it has stored what it took ({@link #release}): a client of
     * that node served here before the takeover still has its resends checked against them.
     */
    private final Map<String, Replica> taken = new ConcurrentHashMap<>();

    /** Acknowledgements of batches kept at once, sent at the end of their bundle or before any other answer. */
    private final BundledAcks acks = new BundledAcks();

    /** What a backup held of a primary, handed over for a takeover; {@code owners}: queue to sequence to client session. */
    public record Taken(Map<String, byte[]> queues, Map<String, Map<Long, byte[]>> messages, List<String> duplicateIds,
                        Map<String, Map<Long, String>> owners, Set<String> clients, boolean complete, long lastBatch) {
    }

    /** Where replicas page their bodies, one directory each; null: they keep them all in memory. */
    private final Path pagesDir;
    private final java.util.concurrent.atomic.AtomicLong pageFiles = new java.util.concurrent.atomic.AtomicLong();
    /**
     * The heap the replicas held here may take before they page (see {@link #limitHeld}); {@code
     * Long.MAX_VALUE}: no limit of their own (the node's memory limit still refuses what does not fit).
     */
    private volatile long pageLine = Long.MAX_VALUE;
    /** True while the node's memory is at its paging line: the replicas keep an eighth of {@link #pageLine} in memory. */
    private volatile java.util.function.BooleanSupplier nodeAtPageLine = () -> false;

    Replicas(Path replicaDir) {
        this(replicaDir, null);
    }

    /**
     * @param replicaDir where replicas are kept on disk too (null: in memory only)
     * @param pagesDir   where they page bodies past their share of the heap (null: never); what a
     *                   previous run left there is deleted
     */
    Replicas(Path replicaDir, Path pagesDir) {
        this.replicaDir = replicaDir;
        this.pagesDir = pagesDir;
        if (pagesDir != null) {
            io.tern.broker.store.PageFile.delete(pagesDir);
        }
        if (replicaDir != null) {
            load(replicaDir);
        }
    }

    /** True if the replicas held here page their bodies out past their share of the heap. */
    boolean pages() {
        return pagesDir != null;
    }

    /** A page file of its own for a new replica of {@code primary}; null if replicas do not page. */
    private io.tern.broker.store.PageFile newPages(String primary) {
        return pagesDir == null ? null
                : new io.tern.broker.store.PageFile(pagesDir.resolve(primary + "-" + pageFiles.incrementAndGet()));
    }

    /**
     * The replicas held here page bodies out once they take more than {@code bytes} of heap, and
     * page back in only when read whole (a takeover, a hand-over). See {@link io.tern.broker.store.MessageStore#limitCopies}.
     */
    void limitHeld(long bytes, java.util.function.BooleanSupplier atPageLine) {
        this.nodeAtPageLine = atPageLine;
        this.pageLine = bytes;
        replicas.values().forEach(this::pageIfOver); // those loaded from disk at start
    }

    /** Pages bodies of {@code r} out while the replicas here take more than their share of the heap. */
    private void pageIfOver(Replica r) {
        long line = pageLine;
        if (line == Long.MAX_VALUE) {
            return;
        }
        if (nodeAtPageLine.getAsBoolean()) {
            if (r.bodyBytes() > line / 8) {
                r.pageOut(line / 16); // the node's own queues page: its copies of other nodes' give way first
            }
            return;
        }
        long over = heldBytes() - line;
        if (over > 0) {
            r.pageOut(Math.max(0, r.bodyBytes() - over - line / 8)); // some room below the line: not a page-out per batch
        }
    }

    /** Messages of the replicas held here whose bodies are paged out now. */
    public long pagedCount() {
        long n = 0;
        for (Replica r : replicas.values()) {
            n += r.pagedCount();
        }
        return n;
    }

    private void load(Path dir) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (var dirs = Files.list(dir)) {
            for (Path d : dirs.filter(Files::isDirectory).toList()) {
                Replica r = new ReplicaDisk(d).load(newPages(d.getFileName().toString()));
                replicas.put(d.getFileName().toString(), r);
                LOG.info("Replica of {} loaded from {}: {} queue(s), {} message(s)", d.getFileName(), d, r.queues().size(),
                        r.messageCount());
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the replicas in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The replica of {@code primary}, made (with its disk copy, if replicas are kept on disk) if there is none. */
    private Replica replica(String primary) {
        return replicas.computeIfAbsent(primary, p -> new Replica(replicaDir == null ? null : new ReplicaDisk(replicaDir.resolve(p)),
                newPages(p)));
    }

    /**
     * Which nodes were taken over (a takeover is recorded for them): their replication is refused
     * until they discarded what they no longer own and the record is forgotten.
     */
    public void setTakenOver(Predicate<String> takenOver) {
        this.takenOver = takenOver;
    }

    /** Called with a primary whose replication was just refused because it was taken over. */
    public void setRefusing(Consumer<String> refusing) {
        this.refusing = refusing;
    }

    /**
     * Told, with each new snapshot, the newest takeover its primary discarded for: a record of an
     * older takeover of it is stale (this node missed the primary's word that it discarded).
     */
    public void setDiscarded(java.util.function.ObjLongConsumer<String> discarded) {
        this.discarded = discarded;
    }

    /** Batches refused because they stored a message this node had stored as its own ({@link #knownOrClaimed}). */
    private final java.util.concurrent.atomic.AtomicLong conflicts = new java.util.concurrent.atomic.AtomicLong();

    /** Runs when the replicas here take less heap than before (sends waiting at the memory limit may fit now). */
    private volatile Runnable shrunk = () -> { };
    /** True while this node is at its memory limit: batches that store messages are refused. */
    private volatile java.util.function.BooleanSupplier memoryFull = () -> false;

    /** See {@link io.tern.broker.store.MessageStore#watchMemory}. */
    void watchMemory(java.util.function.BooleanSupplier full, Runnable shrunk) {
        this.memoryFull = full;
        this.shrunk = shrunk;
    }

    /** Batches refused because this node was at its memory limit. */
    private final java.util.concurrent.atomic.AtomicLong noRoom = new java.util.concurrent.atomic.AtomicLong();

    public long refusedForMemory() {
        return noRoom.get();
    }

    /**
     * The heap the replicas held here take: those held for their primaries and those taken for a
     * takeover that has not stored them yet. The node's memory limit counts it.
     */
    long heldBytes() {
        long bytes = 0;
        for (Replica r : replicas.values()) {
            bytes += r.heldBytes();
        }
        for (Replica r : taken.values()) {
            bytes += r.heldBytes();
        }
        return bytes;
    }

    /** The bundle of messages {@code from} sent that the transport delivered together is read: see {@link BundledAcks}. */
    void batchEnd(ClusterNode node, String from) {
        acks.flush(node, from);
    }

    /** Acknowledgements of batches kept at once sent since this node started, each of a batch or a range of them. */
    long acknowledgementsSent() {
        return acks.sent();
    }

    /** Sends {@code message} to primary {@code from} after the acknowledgements held for it. */
    private void answer(ClusterNode node, String from, byte[] message) {
        acks.flush(node, from);
        node.send(from, message);
    }

    /** A replication message from primary {@code from}; answers go back through {@code node}. */
    void received(ClusterNode node, String from, ReplicationMessage message) {
        Replica before = replicas.get(from);
        long bytesBefore = before == null ? 0 : before.heldBytes();
        try {
            receive(node, from, message);
            Replica now = replicas.get(from);
            if (now != null && (message instanceof ReplicationMessage.Batch || message instanceof ReplicationMessage.SnapshotChunk)) {
                pageIfOver(now);
            }
        } finally {
            if (before != null && (replicas.get(from) != before || before.heldBytes() < bytesBefore)) {
                shrunk.run();
            }
        }
    }

    private void receive(ClusterNode node, String from, ReplicationMessage message) {
        if (message instanceof ReplicationMessage.SnapshotBegin b && b.discardedEpoch() >= 0) {
            discarded.accept(from, b.discardedEpoch());
        }
        if (message instanceof ReplicationMessage.Retired d) {
            if (takenOver.test(from)) {
                // A node restarted before it was found gone retires its previous replicas while this node takes
                // its previous self over from this very replica: it stays until the takeover has used it.
                LOG.info("Replica of {} kept although that node retired it: a takeover of it is under way or recorded here", from);
                return;
            }
            Replica r = replicas.get(from);
            // Only a replica of that start of the primary: one of its previous start may be under takeover.
            if (r != null && (r.incarnation().isEmpty() || r.incarnation().equals(d.incarnation()))) {
                LOG.info("Replica of {} dropped: that node does not replicate to this one any more", from);
                drop(from);
            }
            return;
        }
        if (takenOver.test(from)) {
            if (message instanceof ReplicationMessage.Batch b) {
                answer(node, from, new ReplicationMessage.Refused(b.seq()).encode());
            } else if (message instanceof ReplicationMessage.SnapshotBegin b) {
                answer(node, from, new ReplicationMessage.Refused(b.cut()).encode());
            }
            LOG.debug("Refusing replication message {} from {}, which was taken over and has not discarded yet", message, from);
            refusing.accept(from);
            return;
        }
        if (earlierStarts.keeps(node, from, replicas.get(from), message, a -> answer(node, from, a))) {
            return;
        }
        Replica existing = replicas.get(from);
        if (existing == null && !(message instanceof ReplicationMessage.SnapshotBegin)) {
            // No snapshot began here (this node restarted, or dropped the replica): nothing to add to, nothing
            // to acknowledge. A batch is answered: the primary brings this node in sync, or stops counting on it.
            LOG.debug("Ignoring replication message {} from {}: no snapshot of it began here", message, from);
            if (message instanceof ReplicationMessage.Batch b) {
                answer(node, from, new ReplicationMessage.OutOfSync(b.seq()).encode());
            }
            return;
        }
        if (message instanceof ReplicationMessage.Batch b) {
            long snapshot = existing.snapshot();
            CompletableFuture<Void> kept = existing.batch(b.seq(), StoreBatchCodec.decode(b.batch(), 0, b.batch().length),
                    b.takesOver(), memoryFull.getAsBoolean());
            if (kept == Replica.NO_ROOM) {
                if (noRoom.incrementAndGet() % 100 == 1) {
                    LOG.warn("Batch {} of {} stores messages while this node is at its memory limit: refused, that node's "
                            + "commit fails ({} refused so far)", b.seq(), from, noRoom.get());
                }
                answer(node, from, new ReplicationMessage.NoRoom(b.seq()).encode());
                return;
            }
            if (kept == Replica.CONFLICT) {
                conflicts.incrementAndGet();
                LOG.warn("Batch {} of {} stores a message a client of it resent here, which this node stored as its own "
                        + "while that node was silent: refused, the node drops its copy", b.seq(), from);
                answer(node, from, new ReplicationMessage.Conflict(b.seq()).encode());
                return;
            }
            if (kept == null) {
                LOG.warn("Replica of {} missed batches before its batch {} (it has them up to its batch {}): it acknowledges "
                        + "nothing until a new snapshot", from, b.seq(), existing.lastBatch());
                answer(node, from, new ReplicationMessage.OutOfSync(b.seq()).encode());
                return;
            }
            if (kept.isDone() && !kept.isCompletedExceptionally()) {
                acks.kept(node, from, b.seq());
                return;
            }
            kept.whenComplete((ok, failure) -> {
                if (failure != null) {
                    notWritten(node, from, existing, snapshot, "batch " + b.seq(), b.seq(), failure);
                } else {
                    node.send(from, new ReplicationMessage.Ack(b.seq()).encode());
                }
            });
        } else if (message instanceof ReplicationMessage.SnapshotBegin s) {
            LOG.info("Replica of {}: a snapshot at its batch {} begins", from, s.cut());
            // The start the primary names: this node may not have the view with it yet (it just joined, or the
            // primary did), and a replica of no known start would go with the retirement of any start of it.
            String incarnation = s.incarnation().isEmpty() ? node.incarnation(from) : s.incarnation();
            replica(from).beginSnapshot(s.cut(), incarnation == null ? "" : incarnation, s.viewId());
        } else if (message instanceof ReplicationMessage.SnapshotChunk c) {
            existing.snapshotChunk(StoreBatchCodec.decode(c.batch(), 0, c.batch().length));
        } else if (message instanceof ReplicationMessage.SnapshotEnd e) {
            long snapshot = existing.snapshot();
            existing.endSnapshot().whenComplete((ok, failure) -> {
                if (failure != null) {
                    notWritten(node, from, existing, snapshot, "the snapshot at batch " + e.cut(), e.cut(), failure);
                    return;
                }
                LOG.info("Replica of {}: in sync from the snapshot at its batch {}", from, e.cut());
                answer(node, from, new ReplicationMessage.InSync(e.cut()).encode());
            });
        }
    }

    /**
     * A write to the replica's disk failed: what the primary sent is not acknowledged (its commits
     * waiting for this node fail), and the replica keeps nothing more until a new snapshot.
     */
    private void notWritten(ClusterNode node, String from, Replica replica, long snapshot, String what, long seq,
                            Throwable failure) {
        replica.diskWriteFailed(snapshot);
        LOG.error("Could not write {} of {} to the replica on disk: not acknowledged, and that node's commits waiting for "
                + "this one fail until a new snapshot is kept here: {}", what, from, failure.getMessage());
        answer(node, from, new ReplicationMessage.NotWritten(seq).encode());
    }

    /** What this node holds of a primary, as a takeover compares it with the other members' replicas. */
    public record Report(String incarnation, long lastBatch, boolean complete, boolean verified) {
        /** True if this replica is a better stand-in than {@code other} (null: none) for that start of the primary. */
        boolean betterThan(Report other) {
            if (other == null) {
                return true;
            }
            if (complete != other.complete) {
                return complete;
            }
            return lastBatch > other.lastBatch;
        }
    }

    /** What this node holds of {@code primary}; null if no replica, or one of another start than {@code incarnation} (empty: any). */
    public Report report(String primary, String incarnation) {
        Replica r = replicas.get(primary);
        if (r == null || (!incarnation.isEmpty() && !r.incarnation().isEmpty() && !r.incarnation().equals(incarnation))) {
            return null;
        }
        return new Report(r.incarnation(), r.lastBatch(), r.complete(), r.verified());
    }

    /**
     * This node missed views before view {@code viewId}, but none of the primaries in {@code
     * continuous} (see {@link ClusterNode#continuousWith}): every other replica it holds whose snapshot
     * its primary began in an earlier view may be stale until the primary's next snapshot.
     */
    void unverifyAll(long viewId, Set<String> continuous) {
        replicas.forEach((primary, r) -> {
            if (!continuous.contains(primary)) {
                r.unverifiedBefore(viewId);
            }
        });
    }

    /**
     * A hand-over of this node's replica of start {@code incarnation} (empty: any) of {@code primary}
     * to a takeover elsewhere; null if this node holds none of that start. The start is checked and
     * the state to stream fixed in one step: a replica replaced in between (a new start's snapshot)
     * is not streamed under the start asked for.
     */
    Replica.HandOver handOver(String primary, String incarnation) {
        Replica r = replicas.get(primary);
        return r == null ? null : r.handOver(incarnation);
    }

    /**
     * A replica of {@code primary} to fill from another member's hand-over ({@link ReplicaHandover}),
     * paging as the replicas held here do; {@link #install} makes it this node's.
     */
    Replica forHandOver(String primary) {
        return new Replica(null, newPages(primary));
    }

    /** Pages {@code r}, a replica not yet held here (one being handed over), down to the replicas' line. */
    void pageIfOverAlone(Replica r) {
        long line = pageLine;
        if (line != Long.MAX_VALUE && r.bodyBytes() > line) {
            r.pageOut(line - line / 8);
        }
    }

    /**
     * Replaces the replica of {@code primary} with {@code complete}, one handed over whole by another
     * member ({@link ReplicaHandover}), held in memory: the takeover stores it at once.
     */
    void install(String primary, Replica complete) {
        Replica old = replicas.put(primary, complete);
        if (old != null && old != complete) {
            forget(old);
        }
    }

    /** True if {@code r} is this node's replica of {@code primary} now. */
    boolean isHeld(String primary, Replica r) {
        return replicas.get(primary) == r;
    }

    /** The primaries this node holds a replica of. */
    public Set<String> primaries() {
        return Set.copyOf(replicas.keySet());
    }

    /** What this node holds of {@code primary}'s store: queue to (sequence to message); empty if nothing. */
    public Map<String, Map<Long, byte[]>> of(String primary) {
        Replica r = replicas.get(primary);
        return r == null ? Map.of() : r.messages();
    }

    /** The disk copy of the replica of {@code primary}, or null (for tests that make its writes fail). */
    ReplicaDisk diskOf(String primary) {
        Replica r = replicas.get(primary);
        return r == null ? null : r.disk();
    }

    /** Forgets the replica of {@code primary}: another node took it over, or this node backs it up no more. */
    public void drop(String primary) {
        forget(replicas.remove(primary));
    }

    private void forget(Replica r) {
        if (r != null && r.disk() != null) {
            r.disk().delete();
        }
        if (r != null) {
            r.closePages();
        }
        if (r != null) {
            shrunk.run();
        }
    }

    /** The takeover of {@code primary} has stored what it took: its replica's disk copy goes. */
    public void release(String primary) {
        Replica r = taken.remove(primary);
        if (r != null) {
            r.closePages();
            shrunk.run();
        }
        ReplicaDisk d = handedOver.remove(primary);
        if (d != null) {
            d.delete();
        }
    }

    /**
     * The takeover of {@code primary} failed: the replica it took is this node's again, to take over
     * later ({@link Takeover}), and meanwhile to tell resends of that node's clients apart. One that came
     * from the primary meanwhile, if any, stays (the primary is back).
     */
    void untake(String primary) {
        Replica r = taken.remove(primary);
        if (r == null) {
            return;
        }
        handedOver.remove(primary);
        if (replicas.putIfAbsent(primary, r) != null) {
            if (r.disk() != null) {
                r.disk().close(); // its directory is the newer replica's too: closed, not deleted
            }
            r.closePages();
            shrunk.run();
        }
    }

    /**
     * Removes and returns the replica of {@code primary} for a takeover; null if this node holds
     * none. {@code complete} is false if the initial snapshot had not finished.
     */
    public Taken take(String primary) {
        Replica r = replicas.remove(primary);
        if (r == null) {
            return null;
        }
        if (r.disk() != null) {
            handedOver.put(primary, r.disk()); // deleted once the takeover has stored what it took
        }
        taken.put(primary, r);
        return new Taken(r.queues(), r.messagesOfTaken(), r.duplicateIds(), r.owners(), r.clients(), r.complete(), r.lastBatch());
    }

    /**
     * True if a primary this node backs up stored the duplicate-detection id: a send with it,
     * resent here by a client of that primary, must be dropped even before the takeover.
     */
    public boolean holdsDuplicateId(String id) {
        for (Replica r : replicas.values()) {
            if (r.hasDuplicateId(id)) {
                return true;
            }
        }
        return false;
    }

    /**
     * A send with duplicate-detection id {@code id} comes from a client of {@code arbiterFor} (null:
     * of no node this node arbitrates for; see {@link io.tern.broker.FailoverAdmission#arbiterFor}).
     * True if it must be dropped: a primary this node backs up stored it. Otherwise, for a client of
     * {@code arbiterFor}, this node claims the id in its replica of that node ({@link Replica#knownOrClaim}),
     * also one taken for a takeover that has not stored it yet (what it took is fixed then).
     */
    public boolean knownOrClaimed(String id, String arbiterFor) {
        if (holdsDuplicateId(id)) {
            return true;
        }
        Replica r = arbiterFor == null ? null : replicas.getOrDefault(arbiterFor, taken.get(arbiterFor));
        return r != null && r.knownOrClaim(id);
    }

    /** True if this node can arbitrate the sends of {@code primary}'s clients: its replica of it is complete and verified. */
    public boolean canArbitrate(String primary) {
        Replica r = replicas.get(primary);
        return r != null && r.complete() && r.verified();
    }

    /** Batches of primaries refused because they stored a message this node had stored as its own. */
    public long conflicts() {
        return conflicts.get();
    }

    /** True while the replica of {@code primary} is receiving its initial snapshot. */
    public boolean isSyncing(String primary) {
        Replica r = replicas.get(primary);
        return r != null && r.isSyncing();
    }

    void close() {
        for (Replica r : replicas.values()) {
            if (r.disk() != null) {
                r.disk().close();
            }
            r.closePages();
        }
        taken.values().forEach(Replica::closePages);
    }
}
