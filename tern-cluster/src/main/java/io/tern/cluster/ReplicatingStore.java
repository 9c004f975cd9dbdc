package io.tern.cluster;

import io.tern.broker.store.MessageStore;
import io.tern.broker.store.StoreBatch;
import io.tern.broker.store.StoreBatchCodec;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.FailoverInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A store that also ships every batch to this node's failover nodes (its backups, from the
 * failover map) and completes a commit only when the local store has it and every backup has
 * acknowledged it. Backups keep a {@link Replica} per primary in memory and, with a replica
 * directory ({@code --replica-store disk}), on their own disk too ({@link ReplicaDisk}): a batch is
 * then acknowledged once it is synced there, and a backup that restarts has its replicas back.
 *
 * <p>Order: batches get a sequence number and go to the local store and to the backups under one
 * lock, so both see them in the same order. A node that becomes a backup is brought in sync by a
 * snapshot: commits pause only until the commits in flight are durable, the store's snapshot is
 * taken (cheap), and the new backup is told the snapshot's cut; then commits resume while the
 * snapshot streams, and the backup applies the batches after the cut once the snapshot is complete.
 *
 * <p>Fencing: a backup ignores (stores nothing, acknowledges nothing) the batches of a node that was
 * taken over, until that node has discarded what it no longer owns. A node that the others have dropped from the view (paused, cut off) and that still believes itself a
 * member can therefore complete no persistent send, no client acknowledgement and no delivery of a
 * stored message (deliveries wait for their marks to be replicated): its old backups have taken it
 * over and ignore it, until it learns so and discards what it no longer owns ({@link #fail}).
 *
 * <pre>
 * message := 'R' seq:i64 batch   -- a batch (StoreBatchCodec) to replicate
 *          | 'A' seq:i64         -- the backup has batch seq
 *          | 'S' cut:i64         -- a snapshot at batch cut follows
 *          | 'C' batch           -- part of the snapshot
 *          | 'E' cut:i64         -- the snapshot is complete
 * </pre>
 */
public final class ReplicatingStore implements MessageStore, ClusterListener, ClusterNode.PayloadHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicatingStore.class);
    private static final byte REPLICATE = 'R';
    private static final byte ACK = 'A';
    private static final byte SNAPSHOT_BEGIN = 'S';
    private static final byte SNAPSHOT_CHUNK = 'C';
    private static final byte SNAPSHOT_END = 'E';
    private static final int CHUNK_OPS = 500;

    private final MessageStore local;
    private final Object order = new Object();
    private ClusterNode node;                                  // guarded by order
    private Set<String> backups = Set.of();                    // guarded by order
    private long lastSeq;                                      // guarded by order
    private boolean paused;                                    // guarded by order
    private boolean detached;                                  // guarded by order: between fail() and resync()
    private final Set<CompletableFuture<Void>> localInFlight = ConcurrentHashMap.newKeySet();
    private final Map<Long, Waiting> waiting = new ConcurrentHashMap<>();
    private final Map<String, Replica> replicas = new ConcurrentHashMap<>();
    /** Where replicas are kept on disk, one directory per primary; null: in memory only. */
    private final java.nio.file.Path replicaDir;
    /** Replicas handed over for a takeover, still on disk until the takeover has stored them. */
    private final Map<String, ReplicaDisk> handedOver = new ConcurrentHashMap<>();
    private volatile java.util.function.Predicate<String> takenOver = id -> false;
    private volatile java.util.function.Supplier<List<StoreBatch.MarkDelivered>> outstanding = List::of;
    private final ExecutorService snapshots = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "tern-replication-sync");
        t.setDaemon(true);
        return t;
    });

    /** A replicated batch waiting for its backups' acknowledgements. */
    private static final class Waiting {
        final Set<String> backups;
        final CompletableFuture<Void> done = new CompletableFuture<>();

        Waiting(Set<String> backups) {
            this.backups = ConcurrentHashMap.newKeySet();
            this.backups.addAll(backups);
        }

        void acknowledged(String backup) {
            if (backups.remove(backup) && backups.isEmpty()) {
                done.complete(null);
            }
        }

        void retain(Set<String> live) {
            backups.retainAll(live);
            if (backups.isEmpty()) {
                done.complete(null);
            }
        }
    }

    public ReplicatingStore(MessageStore local) {
        this(local, null);
    }

    /**
     * @param replicaDir where replicas are kept on disk too, one directory per primary (null: in
     *                   memory only); replicas found there are loaded
     */
    public ReplicatingStore(MessageStore local, java.nio.file.Path replicaDir) {
        this.local = local;
        this.replicaDir = replicaDir;
        if (replicaDir != null) {
            loadReplicas(replicaDir);
        }
    }

    private void loadReplicas(java.nio.file.Path dir) {
        if (!java.nio.file.Files.isDirectory(dir)) {
            return;
        }
        try (var dirs = java.nio.file.Files.list(dir)) {
            for (java.nio.file.Path d : dirs.filter(java.nio.file.Files::isDirectory).toList()) {
                Replica r = new ReplicaDisk(d).load();
                replicas.put(d.getFileName().toString(), r);
                LOG.info("Replica of {} loaded from {}: {} queue(s), {} message(s)", d.getFileName(), d, r.queues().size(),
                        r.messages().values().stream().mapToInt(Map::size).sum());
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot read the replicas in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The replica of {@code primary}, made (with its disk copy, if replicas are kept on disk) if there is none. */
    private Replica replica(String primary) {
        return replicas.computeIfAbsent(primary, p -> replicaDir == null ? new Replica()
                : new Replica(new ReplicaDisk(replicaDir.resolve(p))));
    }

    /** The primaries this node holds a replica of. */
    public Set<String> replicaPrimaries() {
        return Set.copyOf(replicas.keySet());
    }

    /**
     * Replicates through {@code node}, whose map says who the backups are. Attach before the node
     * connects ({@link ClusterNode#create}), so that no replication message arrives unhandled.
     */
    public void attach(ClusterNode node) {
        synchronized (order) {
            this.node = node;
        }
        node.addPayloadHandler("RASCE", this);
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
        Waiting replicated = null;
        synchronized (order) {
            while (paused) {
                try {
                    order.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return CompletableFuture.failedFuture(e);
                }
            }
            long seq = ++lastSeq;
            stored = batch.onlyMarks() ? CompletableFuture.completedFuture(null)
                    : sync ? local.commit(batch) : local.commitLazily(batch);
            localInFlight.add(stored);
            if (!backups.isEmpty()) {
                replicated = new Waiting(backups);
                waiting.put(seq, replicated);
                byte[] message = frame(REPLICATE, seq, StoreBatchCodec.encode(batch));
                for (String b : backups) {
                    if (!node.send(b, message)) {
                        replicated.acknowledged(b); // gone from the view: the next view change says so
                    }
                }
                long s = seq;
                replicated.done.whenComplete((ok, e) -> waiting.remove(s));
            }
        }
        CompletableFuture<Void> s = stored;
        stored.whenComplete((ok, e) -> localInFlight.remove(s));
        return replicated == null || !sync ? stored : CompletableFuture.allOf(stored, replicated.done);
    }

    private static byte[] frame(byte type, long seq, byte[] body) {
        return ByteBuffer.allocate(9 + body.length).put(type).putLong(seq).put(body).array();
    }

    /** The map changed: backups that left stop being waited for; new ones are brought in sync. */
    @Override
    public void clusterChanged(ClusterTopology topology, boolean quorum) {
        Set<String> live = new HashSet<>();
        topology.members().forEach(m -> live.add(m.nodeId()));
        dropReplicasNoLongerOurs(topology, live);
        Set<String> now = new LinkedHashSet<>();
        ClusterNode n;
        synchronized (order) {
            n = node;
            if (n == null) {
                return;
            }
            for (FailoverInfo f : topology.failover().getOrDefault(n.self().nodeId(), List.of())) {
                now.add(f.nodeId());
            }
        }
        waiting.values().forEach(w -> w.retain(now));
        Set<String> added = new LinkedHashSet<>(now);
        synchronized (order) {
            if (detached) {
                return;
            }
            added.removeAll(backups);
            Set<String> kept = new LinkedHashSet<>(backups);
            kept.retainAll(now);
            backups = Set.copyOf(kept); // new ones join once their snapshot's cut is set
        }
        for (String b : added) {
            snapshots.execute(() -> bringInSync(b));
        }
    }

    /**
     * Makes {@code backup} a backup: pause commits, let those in flight become durable, take the
     * store's snapshot, tell the backup the cut and add it to the backups, resume; then stream the
     * snapshot.
     */
    private void bringInSync(String backup) {
        Snapshot snapshot;
        long cut;
        List<StoreBatch.MarkDelivered> out;
        synchronized (order) {
            if (detached) {
                return; // this node discards what was taken over; resync() brings the backups in sync after
            }
            paused = true;
        }
        try {
            CompletableFuture.allOf(localInFlight.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
            synchronized (order) {
                if (detached) {
                    return;
                }
                snapshot = local.snapshot();
                out = outstanding.get();
                cut = lastSeq;
                if (!node.send(backup, frame(SNAPSHOT_BEGIN, cut, new byte[0]))) {
                    snapshot.close();
                    return;
                }
                Set<String> with = new LinkedHashSet<>(backups);
                with.add(backup);
                backups = Set.copyOf(with);
            }
        } finally {
            synchronized (order) {
                paused = false;
                order.notifyAll();
            }
        }
        try (snapshot) {
            Chunks chunks = new Chunks(backup, cut);
            snapshot.read(Recovery.asOps(chunks::add));
            out.forEach(chunks::add); // after the messages they mark
            chunks.flush();
            node.send(backup, frame(SNAPSHOT_END, cut, new byte[0]));
            LOG.info("Backup {} brought in sync: snapshot at batch {} with {} entries", backup, cut, chunks.sent);
        }
    }

    /** A snapshot on its way to a backup, sent {@value #CHUNK_OPS} ops at a time. */
    private final class Chunks {
        private final String backup;
        private final long cut;
        private StoreBatch chunk = new StoreBatch();
        private int sent;

        Chunks(String backup, long cut) {
            this.backup = backup;
            this.cut = cut;
        }

        void add(StoreBatch.Op op) {
            chunk.add(op);
            sent++;
            if (chunk.ops().size() >= CHUNK_OPS) {
                flush();
            }
        }

        void flush() {
            if (!chunk.isEmpty()) {
                node.send(backup, frame(SNAPSHOT_CHUNK, cut, StoreBatchCodec.encode(chunk)));
                chunk = new StoreBatch();
            }
        }
    }

    // ---- backup -------------------------------------------------------------------------------

    @Override
    public void received(String from, byte[] payload, int offset, int length) {
        ByteBuffer in = ByteBuffer.wrap(payload, offset, length);
        byte type = in.get();
        long seq = in.getLong();
        int bodyOffset = offset + 9;
        int bodyLength = length - 9;
        if (type != ACK && takenOver.test(from)) {
            LOG.debug("Ignoring replication message {} from {}, which was taken over and has not discarded yet", (char) type, from);
            return;
        }
        switch (type) {
            case REPLICATE -> {
                CompletableFuture<Void> kept = replica(from).batch(seq, StoreBatchCodec.decode(payload, bodyOffset, bodyLength));
                ClusterNode n;
                synchronized (order) {
                    n = node;
                }
                kept.whenComplete((ok, failure) -> {
                    if (failure != null) {
                        LOG.error("Could not write batch {} of {} to the replica on disk; it is kept in memory: {}", seq, from,
                                failure.getMessage());
                    }
                    n.send(from, frame(ACK, seq, new byte[0]));
                });
            }
            case ACK -> {
                Waiting w = waiting.get(seq);
                if (w != null) {
                    w.acknowledged(from);
                }
            }
            case SNAPSHOT_BEGIN -> replica(from).beginSnapshot(seq);
            case SNAPSHOT_CHUNK -> replica(from).snapshotChunk(StoreBatchCodec.decode(payload, bodyOffset, bodyLength));
            case SNAPSHOT_END -> replica(from).endSnapshot();
            default -> LOG.warn("Unknown replication message {} from {}", type, from);
        }
    }

    /**
     * This node learned that it was taken over: every commit still waiting for its backups fails
     * (they will not answer; the sender gets an error and sends elsewhere, so nothing it was told is
     * stored can be lost).
     */
    public void fail(String reason) {
        synchronized (order) {
            detached = true; // commits from now on (the discard) wait for no backup
            backups = Set.of();
        }
        for (Long seq : List.copyOf(waiting.keySet())) {
            Waiting w = waiting.remove(seq);
            if (w != null) {
                // Not stored where it counts (the backups ignored it): the client sends it to the owner instead.
                w.done.completeExceptionally(new io.tern.broker.BrokerException(io.tern.protocol.ErrorCode.NOT_IN_QUORUM,
                        reason));
            }
        }
    }

    /**
     * Which nodes were taken over (a takeover is recorded for them): their replication is ignored
     * until they discarded what they no longer own and the record is forgotten.
     */
    public void setTakenOver(java.util.function.Predicate<String> takenOver) {
        this.takenOver = takenOver;
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

    /** A replica of a primary still in the view whose map no longer names this node is dropped. */
    private void dropReplicasNoLongerOurs(ClusterTopology topology, Set<String> live) {
        ClusterNode n;
        synchronized (order) {
            n = node;
        }
        if (n == null) {
            return;
        }
        String self = n.self().nodeId();
        for (String origin : List.copyOf(replicas.keySet())) {
            boolean stillBackup = topology.failover().getOrDefault(origin, List.of()).stream()
                    .anyMatch(f -> f.nodeId().equals(self));
            if (live.contains(origin) && !stillBackup) {
                forget(replicas.remove(origin));
            }
        }
    }

    /** What this node holds of {@code primary}'s store: queue to (sequence to message); empty if nothing. */
    public Map<String, Map<Long, byte[]>> replicaOf(String primary) {
        Replica r = replicas.get(primary);
        return r == null ? Map.of() : r.messages();
    }

    /**
     * What a backup holds of a primary, handed over for a takeover; {@code owners} names the client
     * session each message was out with (queue to sequence to owner).
     */
    public record Taken(Map<String, byte[]> queues, Map<String, Map<Long, byte[]>> messages, List<String> duplicateIds,
                        Map<String, Map<Long, String>> owners, boolean complete) {
    }

    /** Forgets the replica of {@code primary}: another node took it over. */
    public void dropReplica(String primary) {
        forget(replicas.remove(primary));
    }

    private static void forget(Replica r) {
        if (r != null && r.disk() != null) {
            r.disk().delete();
        }
    }

    /** The takeover of {@code primary} has stored what it took: its replica's disk copy goes. */
    public void releaseReplica(String primary) {
        ReplicaDisk d = handedOver.remove(primary);
        if (d != null) {
            d.delete();
        }
    }

    /**
     * Removes and returns the replica of {@code primary} for a takeover; null if this node holds
     * none. {@code complete} is false if the initial snapshot had not finished.
     */
    public Taken takeReplica(String primary) {
        Replica r = replicas.remove(primary);
        if (r == null) {
            return null;
        }
        if (r.disk() != null) {
            handedOver.put(primary, r.disk()); // deleted once the takeover has stored what it took
        }
        return new Taken(r.queues(), r.messages(), r.duplicateIds(), r.owners(), !r.isSyncing());
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

    /** True while the replica of {@code primary} is receiving its initial snapshot. */
    public boolean isSyncing(String primary) {
        Replica r = replicas.get(primary);
        return r != null && r.isSyncing();
    }

    /** The nodes this node replicates to now. */
    public Set<String> backups() {
        synchronized (order) {
            return backups;
        }
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
    public void setOutstandingDeliveries(java.util.function.Supplier<List<StoreBatch.MarkDelivered>> outstanding) {
        this.outstanding = outstanding;
    }

    @Override
    public void close() {
        snapshots.shutdownNow();
        for (Replica r : replicas.values()) {
            if (r.disk() != null) {
                r.disk().close();
            }
        }
        local.close();
    }

    /** Every stored message of {@code store}, as {@link #replicaOf} shows a replica (for comparisons). */
    public static Map<String, Map<Long, byte[]>> contents(MessageStore store) {
        Map<String, Map<Long, byte[]>> all = new HashMap<>();
        try (Snapshot s = store.snapshot()) {
            s.read(new Recovery() {
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
