package io.tern.cluster;

import io.netty.buffer.Unpooled;
import io.tern.broker.store.StoreBatch;
import io.tern.protocol.FrameCodec;
import io.tern.protocol.WireMessage;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * What a backup holds of one primary: its queue definitions, stored messages and duplicate-detection
 * ids, kept in memory and changed by the primary's batches in the order it committed them. While
 * the initial snapshot streams in, later batches wait ({@link WaitingBatches}) and are applied after it.
 * Its stored messages are a {@link ReplicaMessages}: in memory, or paged out to its page file.
 */
final class Replica {
    private final Map<String, byte[]> queues = new LinkedHashMap<>();
    private final Map<Long, TreeSet<String>> duplicateIds = new TreeMap<>();
    /** Every id of {@link #duplicateIds}, to the bucket it is in: one lookup for a resent send. */
    private final Map<String, Long> duplicateIndex = new java.util.HashMap<>();
    /** Queue to (sequence to owner): stored messages out with a client session of the primary. */
    private final Map<String, Map<Long, String>> out = new LinkedHashMap<>();
    /** The keys of the primary's client connections (see {@link StoreBatch.ClientConnected}). */
    private final java.util.Set<String> clients = new java.util.HashSet<>();
    private boolean syncing;
    private long lastSeq;
    /** Which start of the primary this replica is of ({@link ClusterNode#incarnation}); empty if not known. */
    private String incarnation = "";
    /**
     * False once a batch came that is not the next one (this replica missed some), or when this
     * node missed views (the primary may have brought another node in sync meanwhile) until the next
     * snapshot: a takeover looks for a better replica then.
     */
    private boolean verified = true;
    private boolean gap;
    /**
     * Snapshots begun here, counted: a disk write's failure reported for an earlier one is not this
     * one's ({@link #diskWriteFailed}). Written under this; read without it.
     */
    private volatile long snapshots;
    /** A write to the disk failed since the snapshot began: the copy there misses something. */
    private volatile boolean diskFailed;
    /** The primary's view in which it began this replica's snapshot; -1 if not known (loaded from disk, or an old primary). */
    private long snapshotViewId = -1;
    /**
     * Duplicate-detection ids that clients of the primary resent to this node while the primary was
     * still in the view, and that this node stored as its own ({@link #knownOrClaim}): the most recent
     * {@value #MAX_CLAIMS}. A batch of the primary that stores one of them is refused.
     */
    private final java.util.Set<String> claimed = java.util.Collections.newSetFromMap(new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > MAX_CLAIMS;
        }
    });
    private static final int MAX_CLAIMS = 100_000;
    /**
     * What {@link #batch} returns for a batch that stores an id this node claimed: it is not kept (its
     * sequence counts as applied, empty), and the primary's commit of it fails. Never completes.
     */
    static final CompletableFuture<Void> CONFLICT = new CompletableFuture<>();
    /**
     * What {@link #batch} returns for a batch that stores messages while this node is at its memory limit:
     * not kept (its sequence counts as applied, empty), and the primary's commit of it fails. Never completes.
     */
    static final CompletableFuture<Void> NO_ROOM = new CompletableFuture<>();
    /** The copy on this backup's disk, or null (replicas in memory only). */
    private final ReplicaDisk disk;
    private CompletableFuture<Void> lastWrite = CompletableFuture.completedFuture(null);
    /** Completes when the snapshot under way has ended (and, on disk, is written): batches after its cut wait for it. */
    private CompletableFuture<Void> synced = CompletableFuture.completedFuture(null);

    Replica() {
        this(null);
    }

    Replica(ReplicaDisk disk) {
        this(disk, null);
    }

    /** @param pages where bodies go when this replica pages; null: it keeps them all in memory */
    Replica(ReplicaDisk disk, io.tern.broker.store.PageFile pages) {
        this.disk = disk;
        this.messages = new ReplicaMessages(this, pages);
        this.waiting = new WaitingBatches(pages);
    }

    /** The stored messages (guarded by this). */
    private final ReplicaMessages messages;
    /** The batches that wait for the snapshot under way (guarded by this). */
    private final WaitingBatches waiting;

    ReplicaDisk disk() {
        return disk;
    }

    /** {@link ReplicaDisk#load}: what follows comes from this backup's own disk, not from the primary. */
    synchronized void loading() {
        syncing = true;
    }

    /** One op of the replica as it was on disk ({@link ReplicaDisk#load}): a deep one is paged as it loads. */
    synchronized void loadedOp(StoreBatch.Op op) {
        applyInMemory(new StoreBatch().add(op));
        messages.pageOutPastLoadingLine();
    }

    /** Loaded from disk, of start {@code start} of the primary (empty: not known). */
    synchronized void loaded(String start) {
        incarnation = start;
        syncing = false;
        verified = false; // the primary may have gone on while this node was down: stale until its next snapshot
    }

    /**
     * A snapshot taken at the primary's batch {@code cutSeq} follows, of start {@code incarnation}
     * of the primary; batches after it wait for it.
     */
    synchronized void beginSnapshot(long cutSeq, String incarnation) {
        beginSnapshot(cutSeq, incarnation, -1);
    }

    /** As {@link #beginSnapshot(long, String)}, begun by the primary in its view {@code viewId} (-1: not known). */
    synchronized void beginSnapshot(long cutSeq, String incarnation, long viewId) {
        this.snapshotViewId = viewId;
        this.incarnation = incarnation == null ? "" : incarnation;
        gap = false;
        verified = true;
        if (disk != null) {
            disk.clear(this.incarnation); // the writes of the copy it replaces have ended, failed or not: what they say is old
        }
        snapshots++;
        diskFailed = false;
        gapAfterDiskFailure = false;
        queues.clear();
        messages.clear();
        duplicateIds.clear();
        duplicateIndex.clear();
        out.clear();
        clients.clear();
        waiting.clear();
        syncing = true;
        lastSeq = cutSeq;
        // An earlier snapshot that never ended: the batches that waited for it are in this one, and are
        // acknowledged when this one has ended.
        CompletableFuture<Void> earlier = synced;
        synced = new CompletableFuture<>();
        synced.whenComplete((ok, e) -> {
            if (e == null) {
                earlier.complete(null);
            } else {
                earlier.completeExceptionally(e);
            }
        });
    }

    synchronized void snapshotChunk(StoreBatch chunk) {
        apply(chunk);
    }

    /** The snapshot is complete; completes once it and the batches that waited for it are kept (on disk too). */
    synchronized CompletableFuture<Void> endSnapshot() {
        syncing = false;
        try {
            waiting.drain(b -> {
                apply(b);
                messages.pageOutPastLoadingLine(); // what waited on disk does not all come back into memory
            });
        } catch (io.tern.broker.store.StoreException e) {
            // What waited on disk is lost to this replica: it cannot stand in until a new snapshot.
            org.slf4j.LoggerFactory.getLogger(Replica.class).error("The batches that waited for the snapshot could not "
                    + "be read back: this replica is out of sync until the next snapshot ({})", e.getMessage());
            gap = true;
        }
        CompletableFuture<Void> done = synced;
        lastWrite.whenComplete((ok, e) -> {
            if (e == null && !diskFailed) {
                done.complete(null);
            } else {
                done.completeExceptionally(e != null ? e : new java.io.IOException("a write of the snapshot to disk failed"));
            }
        });
        return done;
    }

    /** Which snapshot this replica holds now (see {@link #diskWriteFailed}). */
    long snapshot() {
        return snapshots;
    }

    /**
     * A write of this replica to its disk failed while it held snapshot {@code snapshot}: the copy
     * there misses a batch, so this replica keeps and acknowledges nothing more until the primary
     * sends a new snapshot. Ignored if a new one began since. Not under the lock: the disk's writer
     * thread reports it, and a snapshot beginning holds the lock while it closes that disk.
     */
    void diskWriteFailed(long snapshot) {
        if (snapshot == snapshots) {
            diskFailed = true;
            gapAfterDiskFailure = true;
        }
    }

    /** Set by a failed disk write, read (and turned into a gap) under the lock by the next batch. */
    private volatile boolean gapAfterDiskFailure;

    /**
     * Batch {@code seq} of the primary; one at or before the snapshot's cut is already in the
     * snapshot. Completes once the batch is where this replica keeps it: at once in memory; on disk
     * once written there. A batch that comes during the snapshot completes when the snapshot has
     * ended: until then this replica could not stand in for the primary. Null if batches were missed;
     * {@link #CONFLICT} if the batch stores an id this node claimed ({@link #knownOrClaim}).
     */
    CompletableFuture<Void> batch(long seq, StoreBatch batch) {
        return batch(seq, batch, false, false);
    }

    /**
     * As {@link #batch(long, StoreBatch)}; one that {@code takesOver} another node never conflicts: the
     * ids it stores are that node's, not those of sends of the primary's clients. While this node is past its
     * memory limit ({@code memoryFull}), a batch of sends alone is refused: {@link #NO_ROOM}; a takeover's
     * never (refused, it would be tried again while the dead node's messages are served nowhere).
     */
    synchronized CompletableFuture<Void> batch(long seq, StoreBatch batch, boolean takesOver, boolean memoryFull) {
        if (seq <= lastSeq) {
            return CompletableFuture.completedFuture(null);
        }
        if (gapAfterDiskFailure) {
            gap = true;
        }
        if (gap || seq != lastSeq + 1) {
            // Batches of a primary come in order, one after the other, from its snapshot's cut on: this
            // replica missed some (its snapshot never came). It acknowledges nothing until a new snapshot.
            gap = true;
            return null;
        }
        lastSeq = seq;
        if (!takesOver && storesClaimed(batch)) {
            return CONFLICT;
        }
        if (memoryFull && !takesOver && onlyStoresNew(batch)) {
            return NO_ROOM;
        }
        if (syncing) {
            waiting.add(batch);
        } else {
            apply(batch);
        }
        return syncing ? synced : lastWrite;
    }

    /**
     * A client of the primary, served here while the primary is still in the view, resends a message
     * with duplicate-detection id {@code id}. True if the primary stored it (a duplicate: the resend is
     * dropped). Otherwise this node stores it as its own, and the id is claimed: a batch of the primary
     * that stores it comes too late and is refused. One copy is kept, whichever came first, decided here
     * under the lock that applies the primary's batches.
     */
    synchronized boolean knownOrClaim(String id) {
        if (hasDuplicateId(id)) {
            return true;
        }
        claimed.add(id);
        return false;
    }

    /**
     * True if {@code batch} records a duplicate-detection id this node claimed for a send of the
     * primary's client: also one that stores no message here (a send to non-durable subscribers only,
     * delivered from the primary's memory). A message moved to the primary from another node (this
     * one, say: what it stored as its own, moved to a consumer there) carries the id too, and is no
     * conflict: the primary's own duplicate cache then drops the late original. Messages are read only
     * when an id of the batch was claimed.
     */
    private boolean storesClaimed(StoreBatch batch) {
        if (claimed.isEmpty()) {
            return false;
        }
        java.util.Set<String> ids = new java.util.HashSet<>();
        for (StoreBatch.Op op : batch.ops()) {
            if (op instanceof StoreBatch.AddDuplicateId a && claimed.contains(a.id())) {
                ids.add(a.id());
            }
        }
        if (ids.isEmpty()) {
            return false;
        }
        for (StoreBatch.Op op : batch.ops()) {
            if (op instanceof StoreBatch.AddMessage a) {
                ids.remove(idIfMoved(a.message()));
            }
        }
        return !ids.isEmpty();
    }

    /**
     * True if {@code batch} stores a message this replica does not hold, and removes none: the batch of
     * producers' sends alone, which the primary undoes when its commit fails. Not one that puts back a
     * message held here already (the undo of a failed commit that acknowledged it), nor one that also
     * removes (acknowledgements that make room, or a move to a dead-letter or expiry queue, which is not
     * undone: refused here, it would leave this replica unlike the primary for good).
     */
    private boolean onlyStoresNew(StoreBatch batch) {
        boolean storesNew = false;
        for (StoreBatch.Op op : batch.ops()) {
            if (op instanceof StoreBatch.RemoveMessage) {
                return false;
            }
            if (op instanceof StoreBatch.AddMessage a) {
                storesNew |= !messages.contains(a.queue(), a.sequence());
            }
        }
        return storesNew;
    }

    /** The duplicate-detection id of {@code encoded} if it is a moved message (moves &gt; 0); null otherwise or if unreadable. */
    private static String idIfMoved(byte[] encoded) {
        WireMessage m;
        try {
            m = FrameCodec.readMessage(Unpooled.wrappedBuffer(encoded));
        } catch (RuntimeException e) {
            return null; // not a message this node can read: it excuses nothing
        }
        return m.moves() > 0 ? m.duplicateId() : null;
    }

    /** Which start of the primary this replica is of; empty if not known. */
    synchronized String incarnation() {
        return incarnation;
    }

    /** True if this replica can stand in for its primary: its snapshot is complete and it missed no batch since. */
    synchronized boolean complete() {
        return !syncing && !gap;
    }

    /** False if this replica may be stale (see {@link #unverified}) or missed a batch. */
    synchronized boolean verified() {
        return verified && !gap;
    }

    /** This node missed views: its primary may have another failover node in sync now; the next snapshot verifies it again. */
    synchronized void unverified() {
        verified = false;
    }

    /** As {@link #unverified}, unless the primary began this replica's snapshot in view {@code viewId} or later. */
    synchronized void unverifiedBefore(long viewId) {
        if (snapshotViewId < viewId) {
            verified = false;
        }
    }

    /**
     * Everything this replica holds, as the batch that makes it again elsewhere (handed over to a
     * takeover that holds an older one): queues, messages, duplicate ids, deliveries, client connections.
     */
    synchronized StoreBatch contents() {
        StoreBatch all = new StoreBatch();
        contents(all::add);
        return all;
    }

    /**
     * As {@link #contents()}, op by op into {@code sink}, the messages a chunk at a time with their paged
     * bodies read back: a deep replica handed over is never in memory whole. The lock is held to read
     * each chunk (of messages, of one bucket's duplicate ids, of one queue's delivery marks), not while
     * {@code sink} sends it on: it streamed a deep replica over the network with the lock held, and every
     * resent send this node checked meanwhile ({@link #hasDuplicateId}) waited for the end. The primary
     * is gone when its replica is handed over; should it come back and change the replica meanwhile (a
     * batch, a new snapshot), the stream stops with a {@link io.tern.broker.store.StoreException}: what
     * went would mix two states of it, and the taker keeps its own replica.
     */
    void contents(java.util.function.Consumer<StoreBatch.Op> sink) {
        contents(stamp(), sink);
    }

    /**
     * A hand-over of {@code replica}, fixed in one step with the start it was checked against: the
     * state it streams ({@link #contents} stops if that changes), its last batch, and its start; one of
     * no known start is labelled with the start the taker asked for.
     */
    record HandOver(Replica replica, Stamp stamp, long lastBatch, String incarnation) {
        /** Everything the replica held when the hand-over began, op by op into {@code sink}; throws if it changed since. */
        void contents(java.util.function.Consumer<StoreBatch.Op> sink) {
            replica.contents(stamp, sink);
        }
    }

    /** The hand-over of this replica as start {@code asked} (empty: any); null if it is of another start. */
    synchronized HandOver handOver(String asked) {
        if (!asked.isEmpty() && !incarnation.isEmpty() && !incarnation.equals(asked)) {
            return null;
        }
        return new HandOver(this, stamp(), lastSeq, incarnation.isEmpty() ? asked : incarnation);
    }

    private void contents(Stamp stamp, java.util.function.Consumer<StoreBatch.Op> sink) {
        unchanged(stamp, () -> new ArrayList<>(queues.entrySet()))
                .forEach(e -> sink.accept(new StoreBatch.PutQueue(e.getKey(), e.getValue())));
        for (String q : unchanged(stamp, messages::queueNames)) {
            long after = Long.MIN_VALUE;
            for (List<Map.Entry<Long, byte[]>> chunk = chunkAfter(stamp, q, after); !chunk.isEmpty(); chunk = chunkAfter(stamp, q, after)) {
                chunk.forEach(e -> sink.accept(new StoreBatch.AddMessage(q, e.getKey(), e.getValue())));
                after = chunk.get(chunk.size() - 1).getKey();
            }
        }
        for (Long bucket : unchanged(stamp, () -> new ArrayList<>(duplicateIds.keySet()))) {
            unchanged(stamp, () -> new ArrayList<>(duplicateIds.getOrDefault(bucket, new TreeSet<>())))
                    .forEach(id -> sink.accept(new StoreBatch.AddDuplicateId(bucket, id)));
        }
        for (String q : unchanged(stamp, () -> new ArrayList<>(out.keySet()))) {
            unchanged(stamp, () -> new ArrayList<>(out.getOrDefault(q, Map.of()).entrySet()))
                    .forEach(e -> sink.accept(new StoreBatch.MarkDelivered(q, e.getKey(), e.getValue())));
        }
        unchanged(stamp, () -> new ArrayList<>(clients)).forEach(key -> sink.accept(new StoreBatch.ClientConnected(key)));
    }

    /** Which state of the replica a hand-over streams: its snapshot and its last batch. */
    private record Stamp(long snapshots, long lastSeq) {
    }

    private synchronized Stamp stamp() {
        return new Stamp(snapshots, lastSeq);
    }

    private List<Map.Entry<Long, byte[]>> chunkAfter(Stamp stamp, String queue, long after) {
        return unchanged(stamp, () -> messages.chunkAfter(queue, after));
    }

    /** {@code read} under the lock, if the replica is still in the state {@code stamp} was taken in. */
    private synchronized <T> T unchanged(Stamp stamp, java.util.function.Supplier<T> read) {
        if (stamp.snapshots() != snapshots || stamp.lastSeq() != lastSeq) {
            throw new io.tern.broker.store.StoreException("the replica changed while it was handed over (at batch "
                    + lastSeq + " of snapshot " + snapshots + ", against " + stamp.lastSeq() + " of " + stamp.snapshots()
                    + " when it began)", null);
        }
        return read.get();
    }

    /** The newest batch of the primary this replica has (or waits for the snapshot to apply). */
    synchronized long lastBatch() {
        return lastSeq;
    }

    synchronized boolean isSyncing() {
        return syncing;
    }

    private void apply(StoreBatch batch) {
        if (disk != null) {
            lastWrite = disk.write(batch);
            long snapshot = snapshots;
            lastWrite.whenComplete((ok, e) -> {
                if (e != null && snapshot == snapshots) {
                    diskFailed = true; // a later write may succeed (the store reopens): this one is still missing
                }
            });
        }
        applyInMemory(batch);
    }

    private void applyInMemory(StoreBatch batch) {
        for (StoreBatch.Op op : batch.ops()) {
            if (op instanceof StoreBatch.PutQueue o) {
                queues.put(o.queue(), o.definition());
            } else if (op instanceof StoreBatch.DeleteQueue o) {
                queues.remove(o.queue());
                messages.deleteQueue(o.queue());
                out.remove(o.queue());
            } else if (op instanceof StoreBatch.AddMessage o) {
                messages.put(o.queue(), o.sequence(), o.message());
            } else if (op instanceof StoreBatch.RemoveMessage o) {
                messages.remove(o.queue(), o.sequence());
                unmark(o.queue(), o.sequence());
            } else if (op instanceof StoreBatch.AddDuplicateId o) {
                duplicateIds.computeIfAbsent(o.bucket(), b -> new TreeSet<>()).add(o.id());
                duplicateIndex.put(o.id(), o.bucket());
            } else if (op instanceof StoreBatch.RemoveDuplicateId o) {
                TreeSet<String> ids = duplicateIds.get(o.bucket());
                if (ids != null && ids.remove(o.id())) {
                    duplicateIndex.remove(o.id());
                }
            } else if (op instanceof StoreBatch.RemoveDuplicateBucket o) {
                TreeSet<String> gone = duplicateIds.remove(o.bucket());
                if (gone != null) {
                    gone.forEach(duplicateIndex::remove);
                }
            } else if (op instanceof StoreBatch.MarkDelivered o) {
                if (messages.contains(o.queue(), o.sequence())) {
                    out.computeIfAbsent(o.queue(), k -> new java.util.HashMap<>()).put(o.sequence(), o.owner());
                }
            } else if (op instanceof StoreBatch.MarkReturned o) {
                unmark(o.queue(), o.sequence());
            } else if (op instanceof StoreBatch.ClientConnected o) {
                clients.add(o.key());
            } else if (op instanceof StoreBatch.ClientGone o) {
                clients.remove(o.key());
            }
        }
    }

    /** The heap this replica's messages take now, with those of the batches that wait in memory for the snapshot. */
    long heldBytes() {
        return messages.heldBytes() + waiting.bytes();
    }

    /** The bytes of messages of the batches that wait in memory for the snapshot. */
    long bufferedBytes() {
        return waiting.bytes();
    }

    /** The heap the bodies this replica holds in memory take: what {@link #pageOut} can free. */
    synchronized long bodyBytes() {
        return messages.bodyBytes();
    }

    /** Messages this replica holds, paged or not. */
    synchronized int messageCount() {
        return messages.count();
    }

    /** Messages of this replica whose bodies are paged out now. */
    synchronized long pagedCount() {
        return messages.pagedCount();
    }

    /** See {@link ReplicaMessages#pageOut}. */
    synchronized boolean pageOut(long targetBytes) {
        return messages.pageOut(targetBytes);
    }

    /** The replica is no longer needed (dropped, taken over, not installed): its page file is deleted for good. */
    synchronized void closePages() {
        messages.close();
    }

    private void unmark(String queue, long sequence) {
        Map<Long, String> q = out.get(queue);
        if (q != null) {
            q.remove(sequence);
        }
    }

    /** Queue to (sequence to owner) of the stored messages that were out with a client session. */
    synchronized Map<String, Map<Long, String>> owners() {
        Map<String, Map<Long, String>> copy = new LinkedHashMap<>();
        out.forEach((q, m) -> {
            if (!m.isEmpty()) {
                copy.put(q, Map.copyOf(m));
            }
        });
        return copy;
    }

    /** Queue name to its stored messages (sequence to encoded message), as the primary's store has them: a copy. */
    synchronized Map<String, Map<Long, byte[]>> messages() {
        return messages.copy();
    }

    /**
     * As {@link #messages()}, but a view whose iteration reads paged bodies back a chunk at a time, for
     * a replica that changes no more: one taken for a takeover ({@link Replicas#take}).
     */
    synchronized Map<String, Map<Long, byte[]>> messagesOfTaken() {
        return messages.view();
    }

    /** The keys of the primary's client connections, as far as this replica has caught up. */
    synchronized java.util.Set<String> clients() {
        return java.util.Set.copyOf(clients);
    }

    synchronized Map<String, byte[]> queues() {
        return new LinkedHashMap<>(queues);
    }

    /** True if the primary stored this duplicate-detection id (as far as this replica has caught up). */
    synchronized boolean hasDuplicateId(String id) {
        Long bucket = duplicateIndex.get(id);
        return waiting.isEmpty() ? bucket != null : waiting.hasDuplicateId(id, bucket);
    }

    synchronized List<String> duplicateIds() {
        List<String> all = new ArrayList<>();
        duplicateIds.values().forEach(all::addAll);
        return all;
    }
}
