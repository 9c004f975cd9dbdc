package io.tern.broker;

import io.tern.broker.store.MessageStore;
import io.tern.broker.store.StoreBatch;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.NodeInfo;
import io.tern.protocol.WireMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * One node: its queues, topics and subscriptions, the store they are kept in, and the memory they
 * use. Routing of sends and acknowledgements goes through {@link #publish}, the only path that
 * changes stored messages on behalf of clients, so non-transacted sends, acknowledgements and
 * commits all get the same durability: stored first, then visible, then answered.
 */
public final class Broker implements ClusterPort, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Broker.class);
    static final String SUBSCRIPTION_PREFIX = "$sub:";
    static final String TEMP_PREFIX = "$temp:";

    private final BrokerConfig config;
    private final MessageStore store;
    private final String nodeId;
    private final LongSupplier clockMs;
    private final ExecutorService pool;
    private final ScheduledExecutorService scheduler;
    private final Destinations destinations;
    private final ConnectionRegistry connections;
    private final DeadLetters deadLetters;
    private final TakeoverAdopter adopter;
    private final DuplicateCache duplicates;
    private final DeliveryMarks deliveryMarks;
    private final AtomicLong sequence = new AtomicLong();
    private final MemoryGovernor memory;
    private final NodeReport report = new NodeReport(this);
    private final DiskWatch disk;
    /**
     * Whether stored messages past the paging line stay on disk only: not while backups hold this node's
     * stored messages in their memory (paging replicas is still to come), or a deep queue here would
     * run them out of heap; the memory limit's policy holds producers back then, as without paging.
     */
    private final boolean pages;
    private final RecoveryHolds holds;
    private volatile ClusterTopology topology;
    private volatile long topologyDigest;
    private final NodeAvailability availability;
    private final PublishPipeline publisher;
    private final QueueMoves moves = new QueueMoves(this);
    /** How often this node discarded its messages (it had been taken over). */
    private final java.util.concurrent.atomic.AtomicLong discards = new java.util.concurrent.atomic.AtomicLong();
    public Broker(BrokerConfig config, MessageStore store, String nodeId) {
        this(config, store, nodeId, System::currentTimeMillis);
    }

    public Broker(BrokerConfig config, MessageStore store, String nodeId, LongSupplier clockMs) {
        this.config = config;
        this.store = store;
        this.nodeId = nodeId;
        this.clockMs = clockMs;
        this.duplicates = new DuplicateCache(config.duplicateIdCacheSize());
        this.memory = new MemoryGovernor(config.memoryLimitBytes(), store::copiesHeldBytes);
        this.disk = new DiskWatch(config, memory);
        this.pages = store.isDurable() && !store.copiesHeldInMemory();
        this.deliveryMarks = new DeliveryMarks(store);
        this.pool = Executors.newFixedThreadPool(config.workerThreads(), named("tern-worker"));
        this.scheduler = Executors.newSingleThreadScheduledExecutor(named("tern-scheduler"));
        store.watchMemory(memory::overfull, this::copiesShrunk);
        store.limitCopies(copiesPageLine(), () -> memory.used() >= pageLine());
        if (store.isDurable()) {
            disk.start(scheduler);
        }
        this.holds = new RecoveryHolds(this, scheduler, config.recoveryTimeoutMs());
        this.destinations = new Destinations(this, store, name -> new SerialExecutor(pool, name));
        this.deadLetters = new DeadLetters(this, store, destinations, memory);
        // Alone until a cluster says otherwise; not a view the timeline compares the first real one with
        // (the members already there did not join when this node started).
        this.topology = ClusterTopology.single(new NodeInfo(nodeId, config.name(), "", List.of(), ""));
        this.topologyDigest = topology.digest();
        this.availability = new NodeAvailability(config.name(), store.tracksDeliveries());
        this.publisher = new PublishPipeline(this, store, duplicates, memory, availability);
        this.connections = new ConnectionRegistry(this, store, availability, name -> new SerialExecutor(pool, name));
        config.accessControl().onReload(() -> connections.closeWhereAccessLost(config.accessControl()));
        this.adopter = new TakeoverAdopter(this, config, store, destinations, memory, holds, duplicates, availability, pool);
        availability.addListener((from, to) -> report.events().record(to.label(), config.name(),
                from.label() + " -> " + to.label() + ": " + availability.reason()));
        availability.addListener((from, to) -> {
            if (to.delivers(store.tracksDeliveries()) && !from.delivers(store.tracksDeliveries())) {
                List.copyOf(destinations.all()).forEach(q -> q.executor().execute(q::dispatch));
            }
        });
    }

    /** This node's availability: what it does for clients now, and the events that change it. */
    @Override
    public NodeAvailability availability() {
        return availability;
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    public BrokerConfig config() {
        return config;
    }

    @Override
    public String nodeId() {
        return nodeId;
    }

    /** Who owns message groups across the cluster; none on a single node or without clustered queues. */
    @Override
    public void setGroupDirectory(GroupDirectory groups) {
        destinations.setGroupDirectory(groups);
    }

    /** Who owns message groups across the cluster, as this node knows it; null on a single node or without clustered queues. */
    public GroupDirectory groupDirectory() {
        return destinations.groups();
    }

    /** The directory learnt that {@code group} of {@code queue} was claimed or released: its part here routes again. */
    @Override
    public void groupChanged(String queue, String group, boolean released) {
        destinations.groupChanged(queue, group, released);
    }

    public ClusterTopology topology() {
        return topology;
    }

    public long topologyDigest() {
        return topologyDigest;
    }

    /** Replaces what clients are told about the cluster; they learn it on their next request. */
    @Override
    public void setTopology(ClusterTopology topology) {
        this.topology = topology;
        this.topologyDigest = topology.digest();
        report.events().viewChanged(topology);
    }

    /** What happened in the cluster as this node saw it (the console's timeline). */
    @Override
    public ClusterEvents events() {
        return report.events();
    }

    long nowMs() {
        return clockMs.getAsLong();
    }

    /** Reads the store and rebuilds every durable queue; call once before accepting clients. */
    public void start() {
        sequence.set(StoreRecovery.recover(store, destinations, memory, duplicates, readSoFar -> !pages || readSoFar < pageLine()));
        if (store.isDurable() && !pages) {
            LOG.info("Queues are not paged on this node: its backups hold what it stores in their memory, so its stored "
                    + "messages stay within its memory limit ({} bytes)", config.memoryLimitBytes());
        }
    }

    /** Number of messages of a queue kept in the store only (paged); -1 if no such queue. */
    public int pagedCount(String queue) {
        MessageQueue q = destinations.get(queue);
        return q == null ? -1 : q.executor().call(q::pagedCount).join();
    }

    /** Number of messages in a queue (ready, in flight, scheduled and paged); -1 if no such queue. */
    public int messageCount(String queue) {
        MessageQueue q = destinations.get(queue);
        return q == null ? -1 : q.executor().call(q::messageCount).join();
    }

    /** What the memory limit counts: the queued messages and the replicas held for other nodes. */
    public long memoryUsed() {
        return memory.used();
    }

    /**
     * The replicas held here shrank: sends waiting at the memory limit may fit. They are let through on the
     * scheduler, not on the thread that applies a replica's batch. Nothing is scheduled in the usual case,
     * on every replicated acknowledgement, when no send waits (one that begins to wait looks for itself).
     */
    private void copiesShrunk() {
        if (memory.blocked() == 0) {
            return;
        }
        try {
            scheduler.execute(memory::copiesShrunk);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.debug("Replicas shrank while the node stops: no send waits any more");
        }
    }

    /** The heap the replicas of the nodes this one backs up take (counted in {@link #memoryUsed}). */
    public long replicaMemory() {
        return memory.copies();
    }

    /** The store's own figures (size on disk, memtables, keys), for metrics. */
    public Map<String, Long> storeFigures() {
        return store.figures();
    }

    /** What passed through this node since it started. */
    public Traffic traffic() {
        return report.traffic();
    }

    public long duplicatesDropped() {
        return publisher.duplicatesDropped();
    }

    public int blockedProducers() {
        return memory.blocked();
    }

    // ---- publishing -------------------------------------------------------------------------


    /**
     * Stores the sends and the removal of the acknowledged deliveries in one batch, then makes the
     * sends visible and the acknowledgements final. The future completes when all of it is done.
     * A send whose duplicate-detection id was seen before is dropped silently.
     */
    CompletableFuture<Void> publish(List<WireMessage> sends, List<Delivery> acks, ServerConnection origin) {
        return publish(sends, acks, origin, true);
    }

    /** As above; {@code sync=false} lets the store make it durable with the next synced write. */
    CompletableFuture<Void> publish(List<WireMessage> sends, List<Delivery> acks, ServerConnection origin, boolean sync) {
        List<List<MessageQueue>> routes = new ArrayList<>(sends.size());
        for (WireMessage m : sends) {
            routes.add(destinations.targets(m, origin));
        }
        return publisher.store(sends, routes, acks, origin, sync, false);
    }

    /** See {@link PublishPipeline#store}: also the path of messages moved here from another node. */
    CompletableFuture<Void> store(List<WireMessage> sends, List<List<MessageQueue>> routes, List<Delivery> acks,
                                  ServerConnection origin, boolean sync, boolean moved) {
        return publisher.store(sends, routes, acks, origin, sync, moved);
    }

    /**
     * True if a node stored {@code copy} as moved there (one move on) and this node knows of it: by
     * the ids of that node's replica, once this node took it over.
     */
    boolean storedAsMove(WireMessage copy) {
        String key = copy.moved().moveDedupKey();
        return key != null && duplicates.contains(key);
    }

    /** The node's timer thread: scheduled deliveries, recovery holds, sends that wait for room. */
    ScheduledExecutorService scheduler() {
        return scheduler;
    }

    /** See {@link PublishPipeline#apply}. */
    void apply(List<Placement> placements, List<Delivery> acks, CompletableFuture<Void> done) {
        publisher.apply(placements, acks, done);
    }

    /** See {@link PublishPipeline#undo}: a batch that is not the publish pipeline's (a takeover's) failed. */
    CompletableFuture<Void> undo(StoreBatch failed, Throwable cause) {
        return publisher.undo(failed, List.of(), cause);
    }

    /**
     * Takes over what another node stored (its replica, held here): its queues and subscriptions,
     * created here if missing; its messages, stored here as new messages of the same queues; and its
     * duplicate-detection ids, so that a resend from one of its clients is dropped here. Temporary
     * queues die with their connection and are not taken over. A message that was out with a client
     * session ({@code owners}: queue to sequence to owner) is kept for that session until it
     * recovers ({@link RecoveryHolds#recover}) or {@code recoveryTimeoutMs} passes. Completes with the
     * number of messages taken, once they are stored (and replicated onward) and in their queues.
     */
    public CompletableFuture<Integer> adopt(Map<String, byte[]> definitions, Map<String, ? extends Map<Long, byte[]>> messages,
                                            java.util.Collection<String> duplicateIds,
                                            Map<String, ? extends Map<Long, String>> owners) {
        return adopt(definitions, messages, duplicateIds, owners, () -> { });
    }

    /**
     * As {@link #adopt(Map, Map, java.util.Collection, Map)}, running {@code onStored} once the
     * messages are stored (and replicated) and before any of them is delivered ({@link TakeoverAdopter}).
     */
    @Override
    public CompletableFuture<Integer> adopt(Map<String, byte[]> definitions, Map<String, ? extends Map<Long, byte[]>> messages,
                                            java.util.Collection<String> duplicateIds,
                                            Map<String, ? extends Map<Long, String>> owners, Runnable onStored) {
        return adopter.adopt(definitions, messages, duplicateIds, owners, onStored);
    }

    /** This node's queues and connections now, for the console. */
    public NodeView view() {
        return report.view();
    }

    /** Shows {@code count} under {@code name} among the refusals of {@link #view()}. */
    public void countRefusals(String name, java.util.function.LongSupplier count) {
        report.countRefusals(name, count);
    }

    /** One word for operators: serving, starting, no-quorum, draining, checking, fenced or stopping ({@link NodeState}). */
    public String state() {
        return availability.state().label();
    }

    /**
     * A delivery mark for every stored message out with a client session now, and for every message
     * kept for a session that has not recovered, and the keys of the client connections here: what a
     * new backup needs besides the store's snapshot.
     */
    @Override
    public List<StoreBatch.Mark> outstandingDeliveries() {
        List<StoreBatch.Mark> all = new ArrayList<>();
        connections.marks(all);
        holds.marks(all);
        return all;
    }

    boolean tracksDeliveries() {
        return store.tracksDeliveries();
    }

    /** Tells the store (its backups) which stored messages went out to which sessions. */
    CompletableFuture<Void> markDelivered(StoreBatch marks) {
        return deliveryMarks.ship(marks);
    }

    /** Tells the store a marked message came back; nobody waits for it. */
    void markReturned(MessageQueue q, QueueEntry e) {
        store.commitLazily(new StoreBatch().add(new StoreBatch.MarkReturned(q.name(), e.sequence)));
    }

    /** Sets who decides a Hello from a client that failed over from another node (see the field). */
    @Override
    public void setAdmission(java.util.function.Function<FailoverAdmission.Request, CompletableFuture<FailoverAdmission>> admission) {
        connections.setAdmission(admission);
    }

    /** Taken-over messages kept for the client sessions that had them, until they recover. */
    RecoveryHolds holds() {
        return holds;
    }

    /** Number of taken-over messages kept for client sessions that have not recovered yet. */
    public int heldForRecoveryCount() {
        return holds.count();
    }

    /** The queues, temporary destinations and subscriptions, and where a published message goes. */
    Destinations destinations() {
        return destinations;
    }

    /** Where queued messages are counted against the memory limit, and producers wait when it is reached. */
    MemoryGovernor memory() {
        return memory;
    }

    /** An entry left memory for good. */
    void released(QueueEntry entry) {
        memory.released(entry.size);
    }

    /**
     * The bytes of queued messages past which stored messages are paged: nine tenths of the memory
     * limit, so that the rest holds the windows queues read back, sends on their way to the store,
     * and messages that cannot be paged (not stored), before the limit's policy holds producers back.
     */
    long pageLine() {
        return config.memoryLimitBytes() / 10 * 9;
    }

    /**
     * The heap past which the copies this node holds of other nodes' messages (the replicas of the nodes
     * it backs up) page their bodies out: three tenths of the memory limit, so that a node backing up a
     * deep queue keeps most of its heap for its own.
     */
    long copiesPageLine() {
        return config.memoryLimitBytes() / 10 * 3;
    }

    /** True once the queued messages in memory reach the paging line ({@link #pageLine}). */
    boolean overPageLine() {
        return pages && memory.used() >= pageLine();
    }

    /** A stored entry was paged as it was placed: the memory its message took is free, its sequence stays. */
    void pagedOut(QueueEntry entry) {
        memory.add(PagedSequences.BYTES_EACH);
        memory.released(entry.size);
    }

    /** True if persistent messages are stored here (the node has a data directory). */
    boolean storesMessages() {
        return store.isDurable();
    }

    /** What the store uses of its disk limit, as last looked at. */
    String diskUsage() {
        return disk.usage();
    }

    /** Paged messages of {@code queue} read back from this node's store, null for any not stored. */
    List<byte[]> readPaged(String queue, long[] sequences) {
        return store.read(queue, sequences);
    }

    void schedule(MessageQueue q, long delayMs) {
        scheduler.schedule(() -> q.executor().execute(q::promoteScheduled), delayMs, TimeUnit.MILLISECONDS);
    }

    // ---- lifecycle --------------------------------------------------------------------------

    String sendsRefused() {
        return availability.sendsRefused();
    }

    boolean deliveriesHeld() {
        return !availability.delivers();
    }

    /**
     * Also drops sends whose duplicate-detection id {@code known} says this node holds for another
     * node: a client of a dead node may resend here before this node has taken its messages over.
     * {@code known} is asked with the id and the node whose client's sends this node arbitrates
     * ({@link FailoverAdmission#arbiterFor}; null if none).
     */
    @Override
    public void setDuplicateIdsElsewhere(java.util.function.BiPredicate<String, String> known) {
        publisher.setDuplicateIdsElsewhere(known);
    }

    String clientsHeld() {
        return availability.clientsRefused();
    }

    /**
     * Drops every stored message of every queue, in the store too: what a node discards when it
     * learns that another node took its messages over while it was gone. Messages out with clients
     * are dropped when they come back. Returns the number of messages dropped.
     */
    @Override
    public int discardStoredMessages() {
        discards.incrementAndGet();
        connections.forgetIssuedKeys(); // the clients this node had belong to the node that took it over
        holds.releaseAll("this node discards its messages");
        StoreBatch batch = new StoreBatch();
        int dropped = 0;
        long upTo = sequence.get();
        for (MessageQueue q : List.copyOf(destinations.all())) {
            // Deliveries still out (to connections closing now) are dropped when they come back.
            List<QueueEntry> gone = q.executor().call(() -> q.purgeAll(e -> deadLetters.drop(q, e), upTo)).join();
            for (QueueEntry e : gone) {
                if (e.durable) {
                    batch.add(new StoreBatch.RemoveMessage(q.name(), e.sequence));
                }
                released(e);
                dropped++;
            }
        }
        // Its duplicate ids went with its messages to the taker. Kept here, they would make this node drop
        // those messages when they move back here from the taker.
        duplicates.clear(batch);
        store.commit(batch).join();
        return dropped + publisher.discardLeftInStore();
    }

    /** Where clients of this node go when it stops or drains: a client URI, "" if none is known. */
    @Override
    public void setNextServer(java.util.function.Supplier<String> next) {
        connections.setNextServer(next);
    }

    /** A new client connection writing to {@code sink}; refused while the broker shuts down. */
    public ServerConnection connect(FrameSink sink) {
        return connections.connect(sink);
    }

    public int connectionCount() {
        return connections.count();
    }

    /** Closes every client connection; completes when each has rolled back and returned its deliveries. */
    @Override
    public CompletableFuture<Void> closeAllConnections() {
        return connections.closeAll();
    }

    /** Drains this node on an operator's word (console): every client moves away; the client connections still here. */
    public int drain() {
        return connections.drain(null);
    }

    /** True if this node welcomed a client connection with {@code key} since it started or last discarded. */
    @Override
    public boolean issuedHere(String key) {
        return connections.issuedHere(key);
    }

    /** Node {@code nodeId} serves again at {@code uri}: its clients here move back ({@link ConnectionRegistry#failBack}). */
    @Override
    public int failBack(String nodeId, String uri) {
        return connections.failBack(nodeId, uri);
    }

    /** A member serves at {@code uri}: a share of this node's clients moves there ({@link ConnectionRegistry#spreadTo}). */
    @Override
    public int spreadTo(String uri, int members) {
        return connections.spreadTo(uri, members);
    }

    /** Tells every client that this node shuts down, and where to go ({@link ConnectionRegistry#lameDuck}). */
    public void lameDuck(java.util.function.Supplier<String> target) {
        connections.lameDuck(target);
    }

    /** The sequence number of a new entry: entries of this node are numbered in the order they are placed. */
    long nextSequence() {
        return sequence.incrementAndGet();
    }

    /** Where messages that cannot be delivered go: the dead-letter and expiry queues. */
    DeadLetters deadLetters() {
        return deadLetters;
    }

    /** How often this node discarded its messages since it started (it had been taken over while it was gone). */
    @Override
    public long discards() {
        return discards.get();
    }

    /** Where the cluster's clustered queues plug in: demand, links, moved messages. */
    @Override
    public QueueMoves moves() {
        return moves;
    }

    /** Called on the queue's executor: {@code q}'s demand for messages from other nodes changed. */
    void demandChanged(MessageQueue q, List<String> selectors, boolean hungry) {
        moves.changed(q.name(), selectors, hungry);
    }

    /** The client connections of this node. */
    ConnectionRegistry connections() {
        return connections;
    }

    /** Stops accepting connections; existing ones are closed by the acceptor. */
    public void beginShutdown() {
        availability.stop();
    }

    /** What must stop writing to the store before it closes (the cluster's links); see {@link #beforeStoreCloses}. */
    private volatile Runnable beforeStoreCloses = () -> { };

    /**
     * Runs {@code stop} first when this node closes (its clients have left, its store is still open):
     * whatever else writes to the store (a clustered node storing messages moved to it) stops there,
     * so that no write of it fails half done against a closed store.
     */
    @Override
    public void beforeStoreCloses(Runnable stop) {
        this.beforeStoreCloses = java.util.Objects.requireNonNull(stop);
    }

    @Override
    public void close() {
        beforeStoreCloses.run();
        availability.stop();
        connections.all().forEach(ServerConnection::closeNow);
        scheduler.shutdownNow();
        pool.shutdown();
        try {
            if (!pool.awaitTermination(10, TimeUnit.SECONDS)) {
                pool.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        store.close();
    }
}
