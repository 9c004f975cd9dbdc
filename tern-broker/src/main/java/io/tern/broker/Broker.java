package io.tern.broker;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tern.broker.store.MessageStore;
import io.tern.broker.store.StoreBatch;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.DestinationName;
import io.tern.protocol.ErrorCode;
import io.tern.protocol.FrameCodec;
import io.tern.protocol.NodeInfo;
import io.tern.protocol.WireMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
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
public final class Broker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Broker.class);
    static final String SUBSCRIPTION_PREFIX = "$sub:";
    static final String TEMP_PREFIX = "$temp:";

    private final BrokerConfig config;
    private final MessageStore store;
    private final String nodeId;
    private final LongSupplier clockMs;
    private final ExecutorService pool;
    private final ScheduledExecutorService scheduler;
    private final Map<String, MessageQueue> queues = new ConcurrentHashMap<>();
    private final Map<String, List<MessageQueue>> topicSubscriptions = new ConcurrentHashMap<>();
    private final Map<String, Object> temporaryTopics = new ConcurrentHashMap<>();
    private final Map<String, ServerConnection> clientIds = new ConcurrentHashMap<>();
    private final Map<Long, ServerConnection> connections = new ConcurrentHashMap<>();
    private final Map<String, ServerConnection> connectionKeys = new ConcurrentHashMap<>();
    /**
     * The keys of the client connections this node welcomed since it started or last discarded what
     * was taken over (the most recent 100,000): a client that says it comes from this node with
     * another key was a client of this node before a takeover.
     */
    private final java.util.Set<String> issuedKeys = java.util.Collections.newSetFromMap(
            new LinkedHashMap<String, Boolean>() {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                    return size() > 100_000;
                }
            });
    private final DuplicateCache duplicates;
    private final DeliveryMarks deliveryMarks;
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicLong memoryUsed = new AtomicLong();
    private final AtomicLong duplicatesDropped = new AtomicLong();
    private final AtomicLong connectionIds = new AtomicLong();
    private final ConcurrentLinkedQueue<Runnable> blocked = new ConcurrentLinkedQueue<>();
    private volatile ClusterTopology topology;
    private volatile long topologyDigest;
    private final NodeAvailability availability;
    /** Duplicate-detection ids this node holds for others (replicas it may take over); none by default. */
    private volatile java.util.function.Predicate<String> duplicateIdsElsewhere = id -> false;
    /**
     * Sessions whose kept messages went back to their queues unrecovered (the most recent 10,000):
     * what such a session lists as acknowledged may have gone to another consumer since.
     */
    private final java.util.Set<String> released = java.util.Collections.newSetFromMap(
            new LinkedHashMap<String, Boolean>() {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                    return size() > 10_000;
                }
            });
    private volatile java.util.function.Supplier<String> nextServer = () -> "";
    /**
     * Messages taken over from a dead node that were out with one of its client sessions, kept for
     * that session (by owner, see {@code ServerSession.owner}) until it recovers them or the recovery
     * timeout gives them to other consumers.
     */
    private final Map<String, List<Placement>> heldForRecovery = new ConcurrentHashMap<>();
    /**
     * Decides a Hello from a client that failed over from another node: completes with null to
     * serve it, or with the URI of the node that owns that node's messages now. Serves by default.
     */
    private volatile java.util.function.Function<AdmissionRequest, CompletableFuture<Admission>> admission =
            from -> CompletableFuture.completedFuture(Admission.WITHOUT_RECOVERY);

    /** A client connection ({@code connectionKey}, null for an old client) says it fails over from node {@code fromNode}. */
    public record AdmissionRequest(String fromNode, String connectionKey) {
    }

    /**
     * How a client that failed over from another node is let in: sent to the node that owns that
     * node's messages now ({@code redirectTo}), or served here, as the owner (its sessions recover
     * what this node took over) or not.
     */
    public record Admission(String redirectTo, boolean owner) {
        public static final Admission AS_OWNER = new Admission(null, true);
        public static final Admission WITHOUT_RECOVERY = new Admission(null, false);

        public static Admission redirect(String uri) {
            return new Admission(java.util.Objects.requireNonNull(uri, "uri"), false);
        }
    }

    public Broker(BrokerConfig config, MessageStore store, String nodeId) {
        this(config, store, nodeId, System::currentTimeMillis);
    }

    public Broker(BrokerConfig config, MessageStore store, String nodeId, LongSupplier clockMs) {
        this.config = config;
        this.store = store;
        this.nodeId = nodeId;
        this.clockMs = clockMs;
        this.duplicates = new DuplicateCache(config.duplicateIdCacheSize());
        this.deliveryMarks = new DeliveryMarks(store);
        this.pool = Executors.newFixedThreadPool(config.workerThreads(), named("tern-worker"));
        this.scheduler = Executors.newSingleThreadScheduledExecutor(named("tern-scheduler"));
        setTopology(ClusterTopology.single(new NodeInfo(nodeId, config.name(), "", List.of(), "")));
        this.availability = new NodeAvailability(config.name(), store.tracksDeliveries());
        availability.addListener((from, to) -> {
            if (to.delivers(store.tracksDeliveries()) && !from.delivers(store.tracksDeliveries())) {
                for (MessageQueue q : List.copyOf(queues.values())) {
                    q.executor().execute(q::dispatch);
                }
            }
        });
    }

    /** This node's availability: what it does for clients now, and the events that change it. */
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

    public String nodeId() {
        return nodeId;
    }

    public ClusterTopology topology() {
        return topology;
    }

    public long topologyDigest() {
        return topologyDigest;
    }

    /** Replaces what clients are told about the cluster; they learn it on their next request. */
    public void setTopology(ClusterTopology topology) {
        this.topology = topology;
        this.topologyDigest = topology.digest();
    }

    long nowMs() {
        return clockMs.getAsLong();
    }

    /** Reads the store and rebuilds every durable queue; call once before accepting clients. */
    public void start() {
        Map<String, QueueDefinition> definitions = new LinkedHashMap<>();
        Map<String, List<QueueEntry>> messages = new HashMap<>();
        long[] maxSequence = {0};
        int[] count = {0};
        store.recover(new MessageStore.Recovery() {
            @Override
            public void queue(String queue, byte[] definition) {
                definitions.put(queue, QueueDefinition.decode(definition));
            }

            @Override
            public void message(String queue, long seq, byte[] message) {
                ByteBuf buf = Unpooled.wrappedBuffer(message);
                messages.computeIfAbsent(queue, q -> new ArrayList<>())
                        .add(new QueueEntry(seq, FrameCodec.readMessage(buf), true, null, 0));
                maxSequence[0] = Math.max(maxSequence[0], seq);
                count[0]++;
            }

            @Override
            public void duplicateId(long bucket, String id) {
                duplicates.recovered(bucket, id);
            }
        });
        sequence.set(maxSequence[0]);
        definitions.values().forEach(this::register);
        List<CompletableFuture<Void>> loads = new ArrayList<>();
        messages.forEach((name, entries) -> {
            MessageQueue q = queues.get(name);
            if (q == null) {
                LOG.warn("Dropping {} stored messages of unknown queue {}", entries.size(), name);
                return;
            }
            entries.forEach(e -> memoryUsed.addAndGet(e.size));
            loads.add(q.executor().submit(() -> q.enqueueAll(entries)));
        });
        CompletableFuture.allOf(loads.toArray(CompletableFuture[]::new)).join();
        LOG.info("Recovered {} queues and {} messages", definitions.size(), count[0]);
    }

    private MessageQueue register(QueueDefinition d) {
        SelectorFilter filter = null;
        if (d.selector() != null) {
            try {
                filter = SelectorFilter.parse(d.selector());
            } catch (SelectorFilter.InvalidSelectorException e) {
                throw new IllegalStateException("stored subscription " + d.name() + " has a bad selector", e);
            }
        }
        MessageQueue q = new MessageQueue(this, d, new SerialExecutor(pool, d.name()), filter, null);
        queues.put(d.name(), q);
        if (d.topic() != null) {
            subscriptions(d.topic()).add(q);
        }
        return q;
    }

    private List<MessageQueue> subscriptions(String topic) {
        return topicSubscriptions.computeIfAbsent(topic, t -> new CopyOnWriteArrayList<>());
    }

    /** A new client connection writing to {@code sink}; refused while the broker shuts down. */
    public ServerConnection connect(FrameSink sink) {
        if (availability.state() == NodeState.STOPPING) {
            throw new BrokerException(ErrorCode.SHUTTING_DOWN, "the server is shutting down");
        }
        long id = connectionIds.incrementAndGet();
        ServerConnection c = new ServerConnection(this, id, sink, new SerialExecutor(pool, "connection-" + id));
        connections.put(id, c);
        return c;
    }

    void disconnected(ServerConnection c) {
        connections.remove(c.id);
        c.gone.complete(null);
        if (c.connectionKey != null) {
            if (connectionKeys.remove(c.connectionKey, c) && tracksDeliveries()) {
                store.commitLazily(new StoreBatch().add(new StoreBatch.ClientGone(c.connectionKey)));
            }
        }
        if (c.clientId != null) {
            clientIds.remove(c.clientId, c);
        }
    }

    public int connectionCount() {
        return connections.size();
    }

    void claimClientId(String clientId, ServerConnection c) {
        if (clientId.isBlank()) {
            throw new BrokerException(ErrorCode.INVALID_CLIENT_ID, "client id must not be blank");
        }
        ServerConnection holder = clientIds.putIfAbsent(clientId, c);
        if (holder != null && holder != c) {
            throw new BrokerException(ErrorCode.INVALID_CLIENT_ID, "client id '" + clientId + "' is in use");
        }
    }

    /** The named queue, created (and stored) on first use. */
    MessageQueue queue(String name) {
        MessageQueue q = queues.get(name);
        if (q != null) {
            return q;
        }
        if (name.startsWith("$") || name.indexOf('\0') >= 0) {
            throw new BrokerException(ErrorCode.INVALID_DESTINATION, "queue names must not start with '$' or hold NUL: " + name);
        }
        return createDurable(QueueDefinition.queue(name));
    }

    private synchronized MessageQueue createDurable(QueueDefinition d) {
        MessageQueue existing = queues.get(d.name());
        if (existing != null) {
            return existing;
        }
        store.commit(new StoreBatch().add(new StoreBatch.PutQueue(d.name(), d.encode()))).join();
        return register(d);
    }

    /** Queue lookup for browsing and admin: null if there is none. */
    MessageQueue existingQueue(DestinationName d) {
        return queues.get(d.name());
    }

    /** Number of messages in a queue (ready, in flight and scheduled); -1 if no such queue. */
    public int messageCount(String queue) {
        MessageQueue q = queues.get(queue);
        return q == null ? -1 : q.executor().call(q::messageCount).join();
    }

    public long memoryUsed() {
        return memoryUsed.get();
    }

    public long duplicatesDropped() {
        return duplicatesDropped.get();
    }

    public int blockedProducers() {
        return blocked.size();
    }

    // ---- temporary destinations -------------------------------------------------------------

    /**
     * Creates a temporary destination owned by {@code owner}. A client that failed over from another
     * server asks for the name it had there, so that replies addressed to it still arrive.
     */
    DestinationName createTemporary(DestinationName.Kind kind, ServerConnection owner, String requestedName) {
        String name = requestedName != null ? requestedName : TEMP_PREFIX + owner.id + ":" + UUID.randomUUID();
        if (requestedName != null && (!requestedName.startsWith(TEMP_PREFIX) || requestedName.length() > 200
                || queues.containsKey(requestedName) || temporaryTopics.containsKey(requestedName))) {
            throw new BrokerException(ErrorCode.INVALID_DESTINATION, "cannot recreate temporary destination '"
                    + requestedName + "': it exists or is not a temporary name");
        }
        if (kind == DestinationName.Kind.TEMP_QUEUE) {
            QueueDefinition d = new QueueDefinition(name, QueueDefinition.Kind.TEMPORARY, null, null, false);
            queues.put(name, new MessageQueue(this, d, new SerialExecutor(pool, name), null, owner));
        } else {
            temporaryTopics.put(name, owner);
        }
        return new DestinationName(kind, name);
    }

    void deleteTemporary(DestinationName d, ServerConnection requester, boolean force) {
        if (d.kind() == DestinationName.Kind.TEMP_QUEUE) {
            MessageQueue q = queues.get(d.name());
            if (q == null) {
                return;
            }
            if (q.owner != requester) {
                throw new BrokerException(ErrorCode.INVALID_DESTINATION, "temporary queue belongs to another connection");
            }
            boolean deleted = q.executor().call(() -> {
                if (q.consumerCount() > 0 && !force) {
                    return false;
                }
                queues.remove(d.name());
                q.delete();
                return true;
            }).join();
            if (!deleted) {
                throw new BrokerException(ErrorCode.ILLEGAL_STATE, "temporary queue has active consumers");
            }
        } else {
            List<MessageQueue> subs = topicSubscriptions.getOrDefault(d.name(), List.of());
            if (!subs.isEmpty() && !force) {
                throw new BrokerException(ErrorCode.ILLEGAL_STATE, "temporary topic has active subscribers");
            }
            temporaryTopics.remove(d.name());
        }
    }

    // ---- subscriptions ----------------------------------------------------------------------

    /** The queue a consumer of {@code destination} reads, creating subscriptions as the request says. */
    MessageQueue consumerQueue(ServerConnection c, DestinationName destination, SelectorFilter selector,
                               boolean noLocal, String subscriptionName, byte kind) {
        return switch (destination.kind()) {
            case QUEUE -> queue(destination.name());
            case TEMP_QUEUE -> {
                MessageQueue q = queues.get(destination.name());
                if (q == null || q.isDeleted()) {
                    throw new BrokerException(ErrorCode.INVALID_DESTINATION, "temporary queue does not exist: " + destination.name());
                }
                if (q.owner != c) {
                    throw new BrokerException(ErrorCode.INVALID_DESTINATION, "temporary queues are consumed only by their connection");
                }
                yield q;
            }
            case TOPIC, TEMP_TOPIC -> subscription(c, destination, selector, noLocal, subscriptionName, kind);
        };
    }

    private MessageQueue subscription(ServerConnection c, DestinationName topic, SelectorFilter selector, boolean noLocal,
                                      String name, byte kind) {
        if (topic.kind() == DestinationName.Kind.TEMP_TOPIC) {
            Object owner = temporaryTopics.get(topic.name());
            if (owner == null) {
                throw new BrokerException(ErrorCode.INVALID_DESTINATION, "temporary topic does not exist: " + topic.name());
            }
            if (owner != c) {
                throw new BrokerException(ErrorCode.INVALID_DESTINATION, "temporary topics are consumed only by their connection");
            }
        }
        String selectorText = selector == null ? null : selector.text();
        return switch (kind) {
            case io.tern.protocol.Request.SUB_NONE -> {
                String qname = SUBSCRIPTION_PREFIX + "nd:" + UUID.randomUUID();
                QueueDefinition d = new QueueDefinition(qname, QueueDefinition.Kind.SUBSCRIPTION, topic.name(), selectorText, noLocal);
                MessageQueue q = new MessageQueue(this, d, new SerialExecutor(pool, qname), selector, c);
                queues.put(qname, q);
                subscriptions(topic.name()).add(q);
                yield q;
            }
            case io.tern.protocol.Request.SUB_SHARED -> sharedSubscription(c, topic, selector, name);
            case io.tern.protocol.Request.SUB_DURABLE, io.tern.protocol.Request.SUB_SHARED_DURABLE ->
                    durableSubscription(c, topic, selectorText, noLocal, name, kind == io.tern.protocol.Request.SUB_SHARED_DURABLE);
            default -> throw new BrokerException(ErrorCode.MALFORMED_FRAME, "unknown subscription kind " + kind);
        };
    }

    private synchronized MessageQueue sharedSubscription(ServerConnection c, DestinationName topic, SelectorFilter selector,
                                                         String name) {
        String qname = SUBSCRIPTION_PREFIX + "shared:" + nullToEmpty(c.clientId) + ":" + name;
        MessageQueue q = queues.get(qname);
        String selectorText = selector == null ? null : selector.text();
        if (q != null && !q.isDeleted()) {
            if (!q.definition().topic().equals(topic.name()) || !java.util.Objects.equals(q.definition().selector(), selectorText)) {
                throw new BrokerException(ErrorCode.INVALID_SUBSCRIPTION, "shared subscription '" + name
                        + "' exists with another topic or selector");
            }
            return q;
        }
        QueueDefinition d = new QueueDefinition(qname, QueueDefinition.Kind.SUBSCRIPTION, topic.name(), selectorText, false);
        q = new MessageQueue(this, d, new SerialExecutor(pool, qname), selector, null);
        queues.put(qname, q);
        subscriptions(topic.name()).add(q);
        return q;
    }

    private synchronized MessageQueue durableSubscription(ServerConnection c, DestinationName topic, String selector,
                                                          boolean noLocal, String name, boolean shared) {
        if (!shared && c.clientId == null) {
            throw new BrokerException(ErrorCode.ILLEGAL_STATE, "a durable subscription needs a client id");
        }
        String qname = durableName(c, name);
        MessageQueue q = queues.get(qname);
        if (q != null) {
            QueueDefinition d = q.definition();
            int active = q.executor().call(q::consumerCount).join();
            if (active > 0 && (!shared || !d.topic().equals(topic.name()) || !java.util.Objects.equals(d.selector(), selector))) {
                throw new BrokerException(ErrorCode.ILLEGAL_STATE, "durable subscription '" + name + "' has an active consumer");
            }
            if (d.topic().equals(topic.name()) && java.util.Objects.equals(d.selector(), selector) && d.noLocal() == noLocal) {
                return q;
            }
            dropQueue(q);
        }
        QueueDefinition d = new QueueDefinition(qname, QueueDefinition.Kind.DURABLE_SUBSCRIPTION, topic.name(), selector,
                noLocal);
        return createDurable(d);
    }

    private static String durableName(ServerConnection c, String name) {
        return SUBSCRIPTION_PREFIX + "durable:" + nullToEmpty(c.clientId) + ":" + name;
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    synchronized void unsubscribe(ServerConnection c, String name) {
        MessageQueue q = queues.get(durableName(c, name));
        if (q == null) {
            throw new BrokerException(ErrorCode.INVALID_DESTINATION, "no durable subscription named '" + name + "'");
        }
        int active = q.executor().call(q::consumerCount).join();
        if (active > 0) {
            throw new BrokerException(ErrorCode.ILLEGAL_STATE, "durable subscription '" + name + "' has an active consumer");
        }
        dropQueue(q);
    }

    /** Removes a queue with its messages, from memory and from the store. */
    void dropQueue(MessageQueue q) {
        queues.remove(q.name(), q);
        if (q.definition().topic() != null) {
            subscriptions(q.definition().topic()).remove(q);
        }
        q.executor().submit(q::delete).join();
        if (q.isDurable()) {
            store.commit(new StoreBatch().add(new StoreBatch.DeleteQueue(q.name()))).join();
        }
    }

    /** A consumer left; a non-durable subscription without consumers goes away. */
    void consumerClosed(MessageQueue q) {
        if (q.definition().kind() == QueueDefinition.Kind.SUBSCRIPTION && q.consumerCount() == 0) {
            queues.remove(q.name(), q);
            subscriptions(q.definition().topic()).remove(q);
            q.delete();
        }
    }

    // ---- routing ----------------------------------------------------------------------------

    private record Placement(MessageQueue queue, QueueEntry entry) {
    }

    private List<MessageQueue> targets(WireMessage m, ServerConnection origin) {
        DestinationName d = m.destination();
        return switch (d.kind()) {
            case QUEUE -> List.of(queue(d.name()));
            case TEMP_QUEUE -> {
                MessageQueue q = queues.get(d.name());
                if (q == null || q.isDeleted()) {
                    throw new BrokerException(ErrorCode.INVALID_DESTINATION, "temporary queue was deleted: " + d.name());
                }
                yield List.of(q);
            }
            case TOPIC, TEMP_TOPIC -> {
                if (d.kind() == DestinationName.Kind.TEMP_TOPIC && !temporaryTopics.containsKey(d.name())) {
                    throw new BrokerException(ErrorCode.INVALID_DESTINATION, "temporary topic was deleted: " + d.name());
                }
                List<MessageQueue> matching = new ArrayList<>();
                for (MessageQueue sub : topicSubscriptions.getOrDefault(d.name(), List.of())) {
                    if (sub.acceptsPublished(m, origin)) {
                        matching.add(sub);
                    }
                }
                yield matching;
            }
        };
    }

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
            routes.add(targets(m, origin));
        }
        StoreBatch batch = new StoreBatch();
        List<Placement> placements = new ArrayList<>();
        List<String> claimedIds = new ArrayList<>();
        for (int i = 0; i < sends.size(); i++) {
            WireMessage m = sends.get(i);
            String dup = m.duplicateId();
            if (dup != null) {
                if (duplicateIdsElsewhere.test(dup) || !duplicates.add(dup, m.persistent() && store.isDurable() ? batch : null)) {
                    duplicatesDropped.incrementAndGet();
                    continue;
                }
                claimedIds.add(dup);
            }
            byte[] encoded = null;
            for (MessageQueue q : routes.get(i)) {
                boolean durable = m.persistent() && q.isDurable() && store.isDurable();
                QueueEntry e = new QueueEntry(sequence.incrementAndGet(), m, durable, origin, 0);
                if (durable) {
                    encoded = encoded == null ? encode(m) : encoded;
                    batch.add(new StoreBatch.AddMessage(q.name(), e.sequence, encoded));
                }
                memoryUsed.addAndGet(e.size);
                placements.add(new Placement(q, e));
            }
        }
        for (Delivery d : acks) {
            if (d.entry().durable) {
                batch.add(new StoreBatch.RemoveMessage(d.queue().name(), d.entry().sequence));
            }
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        (sync ? store.commit(batch) : store.commitLazily(batch)).whenComplete((ok, failure) -> {
            if (failure != null) {
                placements.forEach(p -> released(p.entry()));
                claimedIds.forEach(duplicates::forget);
                undo(batch, acks, failure);
                done.completeExceptionally(storeFailure(failure));
                return;
            }
            apply(placements, acks, done);
        });
        return done;
    }

    /**
     * A commit failed after the local store may have written it (its backups did not confirm it):
     * the client is told it failed and may send again, so what it stored must not stay behind to be
     * delivered later. Removes the messages it added and puts back the ones it acknowledged (which
     * stay out with their consumer), as one more replicated batch. If that fails too, the node has
     * lost the quorum or was taken over: a node taken over discards its whole store when it learns it.
     */
    /** Orders undos of failed commits with a discard (see {@link #discardLeftInStore}). */
    private final Object undoing = new Object();

    private void undo(StoreBatch failed, List<Delivery> acks, Throwable cause) {
        StoreBatch undo = new StoreBatch();
        for (StoreBatch.Op op : failed.ops()) {
            if (op instanceof StoreBatch.AddMessage a) {
                undo.add(new StoreBatch.RemoveMessage(a.queue(), a.sequence()));
            }
        }
        for (Delivery d : acks) {
            if (d.entry().durable) {
                undo.add(new StoreBatch.AddMessage(d.queue().name(), d.entry().sequence, encode(d.entry().message)));
            }
        }
        if (undo.isEmpty()) {
            return;
        }
        synchronized (undoing) {
            if (availability.state() == NodeState.FENCED) {
                // It discards its store (it was taken over): an undo written now could come after the discard.
                LOG.warn("A commit failed ({}) while this node discards its store: not undone", storeFailure(cause).getMessage());
                return;
            }
            LOG.warn("A commit failed ({}): undoing its {} stored change(s)", storeFailure(cause).getMessage(), undo.ops().size());
            store.commit(undo).whenComplete((ok, failure) -> {
                if (failure != null) {
                    LOG.warn("Could not undo a failed commit ({}); a node that was taken over discards its store anyway",
                            storeFailure(failure).getMessage());
                }
            });
        }
    }

    /**
     * Takes over what another node stored (its replica, held here): its queues and subscriptions,
     * created here if missing; its messages, stored here as new messages of the same queues; and its
     * duplicate-detection ids, so that a resend from one of its clients is dropped here. Temporary
     * queues die with their connection and are not taken over. A message that was out with a client
     * session ({@code owners}: queue to sequence to owner) is kept for that session until it
     * recovers ({@link #recoverSession}) or {@code recoveryTimeoutMs} passes. Completes with the
     * number of messages taken, once they are stored (and replicated onward) and in their queues.
     */
    public CompletableFuture<Integer> adopt(Map<String, byte[]> definitions, Map<String, ? extends Map<Long, byte[]>> messages,
                                            java.util.Collection<String> duplicateIds,
                                            Map<String, ? extends Map<Long, String>> owners) {
        return adopt(definitions, messages, duplicateIds, owners, () -> { });
    }

    /**
     * As {@link #adopt(Map, Map, java.util.Collection, Map)}, running {@code onStored} once the
     * messages are stored (and replicated) and before any of them is delivered: a takeover records
     * itself there, so that no member can see this node's consumers take a message it does not yet
     * know was taken over.
     */
    public CompletableFuture<Integer> adopt(Map<String, byte[]> definitions, Map<String, ? extends Map<Long, byte[]>> messages,
                                            java.util.Collection<String> duplicateIds,
                                            Map<String, ? extends Map<Long, String>> owners, Runnable onStored) {
        for (byte[] encoded : definitions.values()) {
            QueueDefinition d = QueueDefinition.decode(encoded);
            if (d.kind() != QueueDefinition.Kind.TEMPORARY) {
                createDurable(d);
            }
        }
        StoreBatch batch = new StoreBatch();
        for (String id : duplicateIds) {
            duplicates.add(id, store.isDurable() ? batch : null);
        }
        List<Placement> placements = new ArrayList<>();
        Map<String, List<Placement>> held = new HashMap<>();
        messages.forEach((name, stored) -> {
            MessageQueue q = queues.get(name);
            if (q == null) {
                LOG.warn("Not taking over {} messages of queue {}: its definition was not replicated", stored.size(), name);
                return;
            }
            Map<Long, String> out = owners.containsKey(name) ? owners.get(name) : Map.of();
            stored.forEach((seq, bytes) -> {
                WireMessage m = FrameCodec.readMessage(Unpooled.wrappedBuffer(bytes));
                QueueEntry e = new QueueEntry(sequence.incrementAndGet(), m, store.isDurable(), null, 0);
                if (store.isDurable()) {
                    batch.add(new StoreBatch.AddMessage(q.name(), e.sequence, bytes));
                }
                memoryUsed.addAndGet(e.size);
                String owner = out.get(seq);
                if (owner == null) {
                    placements.add(new Placement(q, e));
                } else {
                    held.computeIfAbsent(owner, o -> new ArrayList<>()).add(new Placement(q, e));
                    if (e.durable && tracksDeliveries()) {
                        batch.add(new StoreBatch.MarkDelivered(q.name(), e.sequence, owner));
                    }
                }
            });
        });
        CompletableFuture<Void> done = new CompletableFuture<>();
        store.commit(batch).whenCompleteAsync((ok, failure) -> {
            if (failure != null) {
                placements.forEach(p -> released(p.entry()));
                held.values().forEach(ps -> ps.forEach(p -> released(p.entry())));
                done.completeExceptionally(storeFailure(failure));
            } else {
                try {
                    onStored.run();
                } catch (RuntimeException e) {
                    // Delivering what a takeover could not record would let the old owner bring it back too.
                    availability.fence("a takeover could not be recorded (" + e.getMessage() + "): this node serves "
                            + "nothing until it is restarted with a working data directory");
                    LOG.error("The takeover's own step after storing failed: none of its messages is delivered, and this "
                            + "node is fenced", e);
                    done.completeExceptionally(e);
                    return;
                }
                holdForRecovery(held).thenRun(() -> apply(placements, List.of(), done));
            }
        }, pool);
        int heldCount = held.values().stream().mapToInt(List::size).sum();
        return done.thenApply(v -> {
            if (heldCount > 0) {
                LOG.info("Keeping {} taken-over message(s) for the {} client session(s) that had them, for up to {} ms",
                        heldCount, held.size(), config.recoveryTimeoutMs());
            }
            return placements.size() + heldCount;
        });
    }

    private CompletableFuture<Void> holdForRecovery(Map<String, List<Placement>> held) {
        List<CompletableFuture<Void>> counted = new ArrayList<>();
        held.forEach((owner, ps) -> {
            for (Placement p : ps) {
                counted.add(p.queue().executor().submit(() -> p.queue().holdForRecovery(p.entry())));
            }
        });
        return CompletableFuture.allOf(counted.toArray(CompletableFuture[]::new)).thenRun(() -> held.forEach(this::keepFor));
    }

    /** Keeps in-flight entries for the session {@code owner} until it recovers them or the recovery timeout. */
    private void keepFor(String owner, List<Placement> ps) {
        heldForRecovery.merge(owner, new ArrayList<>(ps), (a, b) -> {
            a.addAll(b);
            return a;
        });
        scheduler.schedule(() -> releaseHeld(owner, "no session recovered them within the recovery timeout"),
                config.recoveryTimeoutMs(), TimeUnit.MILLISECONDS);
    }

    /** A connection's session kept in-flight deliveries for its client, which came back on a new connection. */
    void keepFor(String owner, MessageQueue q, List<QueueEntry> entries) {
        List<Placement> ps = new ArrayList<>();
        entries.forEach(e -> ps.add(new Placement(q, e)));
        keepFor(owner, ps);
    }

    /**
     * The connection {@code c} says hello with a connection key. If an older connection of the same
     * client is still open here (the client lost it, this node has not noticed yet), that one hands
     * its deliveries over (kept for the sessions, as after a takeover) and closes; completes then.
     */
    CompletableFuture<Void> claimConnectionKey(String key, ServerConnection c) {
        ServerConnection old = connectionKeys.put(key, c);
        synchronized (issuedKeys) {
            issuedKeys.add(key);
        }
        if (old == null && tracksDeliveries()) {
            // Ordered before anything the client does here: a node taking this one over knows it by its key.
            store.commitLazily(new StoreBatch().add(new StoreBatch.ClientConnected(key)));
        }
        if (old == null || old == c) {
            return CompletableFuture.completedFuture(null);
        }
        LOG.info("Client connection {} came back as connection {}: connection {} hands its deliveries over", key, c.id, old.id);
        return old.handOver();
    }

    /** Gives every message kept for {@code owner} back to its queue, counted as delivered once. */
    private void releaseHeld(String owner, String why) {
        List<Placement> ps = heldForRecovery.remove(owner);
        if (ps == null || ps.isEmpty()) {
            return;
        }
        synchronized (released) {
            released.add(owner);
        }
        LOG.info("Giving {} taken-over message(s) kept for session {} back to their queues: {}", ps.size(), owner, why);
        ps.forEach(p -> p.queue().executor().execute(() -> p.queue().returned(p.entry(), true)));
    }

    /**
     * What a failed commit tells the client: the store's own verdict if it gave one (a node fenced
     * for a discard says NOT_IN_QUORUM, so the client sends elsewhere), else STORE_FAILURE.
     */
    private static BrokerException storeFailure(Throwable failure) {
        Throwable t = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        return t instanceof BrokerException b ? b : new BrokerException(ErrorCode.STORE_FAILURE, t.getMessage());
    }

    /** This node's queues and connections now, for the console. */
    public NodeView view() {
        List<NodeView.QueueView> qs = new ArrayList<>();
        for (MessageQueue q : queues.values()) {
            qs.add(q.executor().call(q::view).join());
        }
        qs.sort(java.util.Comparator.comparing(NodeView.QueueView::name));
        List<NodeView.ConnectionView> cs = connections.values().stream().map(ServerConnection::view)
                .sorted(java.util.Comparator.comparingLong(NodeView.ConnectionView::id)).toList();
        return new NodeView(config.name(), nodeId, state(), heldForRecoveryCount(), memoryUsed.get(), qs, cs);
    }

    /** One word for operators: serving, starting, no-quorum, draining, fenced or stopping ({@link NodeState}). */
    public String state() {
        return availability.state().label();
    }

    /** Number of taken-over messages kept for client sessions that have not recovered yet. */
    public int heldForRecoveryCount() {
        return heldForRecovery.values().stream().mapToInt(List::size).sum();
    }

    /**
     * A session that failed over here lists what it had on the node this one took over. Messages
     * kept for it become its deliveries again (HELD), are acknowledged (ACKED) or go back to their
     * queue uncounted (UNSEEN); whatever else was kept for it goes back counted. When this node took
     * over the node the session came from ({@code tookOver}), a message listed as acknowledged that
     * it does not keep for the session was acknowledged there and replicated (or was not persistent):
     * nobody delivers it again, so it counts as acknowledged too, unless messages kept for the session
     * already went back to their queues unrecovered (then one of them may have gone to another
     * consumer).
     *
     * @return once the acknowledgements are stored: per listed message, its new delivery id (HELD), 1
     *     (ACKED, acknowledged here) or 0 (kept for nobody here, or UNSEEN)
     */
    CompletableFuture<long[]> recoverSession(ServerSession session, List<io.tern.protocol.Request.HeldMessage> listed,
                                             java.util.function.LongFunction<ServerConsumer> consumers, boolean tookOver) {
        long[] ids = new long[listed.size()];
        String owner = session.owner();
        List<Placement> found = owner == null ? null : heldForRecovery.remove(owner);
        List<Placement> kept = found != null ? found : new ArrayList<>();
        List<Delivery> acks = new ArrayList<>();
        List<Integer> acked = new ArrayList<>();
        int recovered = 0;
        for (int i = 0; i < listed.size(); i++) {
            io.tern.protocol.Request.HeldMessage m = listed.get(i);
            ServerConsumer c = consumers.apply(m.consumerId());
            Placement p = null;
            for (Placement k : kept) {
                if (k.entry().message.messageId().equals(m.messageId()) && (c == null || k.queue() == c.queue)) {
                    p = k;
                    break;
                }
            }
            if (p == null) {
                // Not kept for the session, and nothing kept for it went back unrecovered: acknowledged there.
                boolean releasedOwner;
                synchronized (released) {
                    releasedOwner = owner != null && released.contains(owner);
                }
                if (tookOver && !releasedOwner && m.state() == io.tern.protocol.Request.Held.ACKED) {
                    ids[i] = 1;
                }
                continue;
            }
            kept.remove(p);
            Placement back = p;
            switch (m.state()) {
                case HELD -> {
                    if (c != null && c.session == session) {
                        ids[i] = session.recovered(c, p.entry());
                        recovered++;
                    } else {
                        kept.add(p); // no consumer of this session reads that queue: back to it below
                    }
                }
                case ACKED -> {
                    acks.add(new Delivery(0, p.queue(), p.entry(), null));
                    acked.add(i);
                }
                case UNSEEN -> p.queue().executor().execute(() -> back.queue().returned(back.entry(), false));
            }
        }
        if (found != null) {
            LOG.info("Session {} recovered {} delivery(ies), {} acknowledged before the failover; {} go back to their queues",
                    owner, recovered, acks.size(), kept.size());
        }
        kept.forEach(p -> p.queue().executor().execute(() -> p.queue().returned(p.entry(), true)));
        if (acks.isEmpty()) {
            return CompletableFuture.completedFuture(ids);
        }
        // The answer waits for the acknowledgements to be stored: the client then counts them as done.
        return publish(List.of(), acks, null).handle((ok, failure) -> {
            if (failure != null) {
                LOG.error("Could not store the acknowledgements session {} made before its failover", owner, failure);
            } else {
                acked.forEach(i -> ids[i] = 1);
            }
            return ids;
        });
    }

    /**
     * A delivery mark for every stored message out with a client session now, and for every message
     * kept for a session that has not recovered, and the keys of the client connections here: what a
     * new backup needs besides the store's snapshot.
     */
    public List<StoreBatch.Mark> outstandingDeliveries() {
        List<StoreBatch.Mark> all = new ArrayList<>();
        connectionKeys.keySet().forEach(k -> all.add(new StoreBatch.ClientConnected(k)));
        for (ServerConnection c : List.copyOf(connections.values())) {
            c.outstandingDeliveries(all);
        }
        heldForRecovery.forEach((owner, ps) -> {
            for (Placement p : List.copyOf(ps)) {
                all.add(new StoreBatch.MarkDelivered(p.queue().name(), p.entry().sequence, owner));
            }
        });
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
    public void setAdmission(java.util.function.Function<AdmissionRequest, CompletableFuture<Admission>> admission) {
        this.admission = admission;
    }

    CompletableFuture<Admission> admit(String fromNode, String connectionKey) {
        return admission.apply(new AdmissionRequest(fromNode, connectionKey));
    }

    /** Applies a stored publish: one task per queue touched, each enqueuing and acknowledging in order. */
    private void apply(List<Placement> placements, List<Delivery> acks, CompletableFuture<Void> done) {
        Map<MessageQueue, List<QueueEntry>> enqueues = new LinkedHashMap<>();
        for (Placement p : placements) {
            enqueues.computeIfAbsent(p.queue(), q -> new ArrayList<>()).add(p.entry());
        }
        Map<MessageQueue, List<QueueEntry>> acked = new LinkedHashMap<>();
        for (Delivery d : acks) {
            acked.computeIfAbsent(d.queue(), q -> new ArrayList<>()).add(d.entry());
        }
        java.util.Set<MessageQueue> touched = new java.util.LinkedHashSet<>(enqueues.keySet());
        touched.addAll(acked.keySet());
        if (touched.isEmpty()) {
            done.complete(null);
            return;
        }
        AtomicInteger remaining = new AtomicInteger(touched.size());
        for (MessageQueue q : touched) {
            List<QueueEntry> in = enqueues.getOrDefault(q, List.of());
            List<QueueEntry> out = acked.getOrDefault(q, List.of());
            q.executor().execute(() -> {
                out.forEach(q::acknowledged);
                q.enqueueAll(in);
                if (remaining.decrementAndGet() == 0) {
                    done.complete(null);
                }
            });
        }
    }

    private static byte[] encode(WireMessage m) {
        ByteBuf buf = Unpooled.buffer(m.estimatedSize());
        try {
            FrameCodec.writeMessage(m, buf);
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            return bytes;
        } finally {
            buf.release();
        }
    }

    /** Runs {@code reply} now if queued messages fit the memory limit, else once they do. */
    void whenMemoryAvailable(Runnable reply) {
        if (memoryUsed.get() <= config.memoryLimitBytes()) {
            reply.run();
            return;
        }
        blocked.add(reply);
        wakeBlocked();
    }

    boolean memoryFull() {
        return memoryUsed.get() > config.memoryLimitBytes();
    }

    /** An entry left memory for good. */
    void released(QueueEntry entry) {
        memoryUsed.addAndGet(-entry.size);
        if (!blocked.isEmpty()) {
            wakeBlocked();
        }
    }

    private void wakeBlocked() {
        while (memoryUsed.get() <= config.memoryLimitBytes()) {
            Runnable r = blocked.poll();
            if (r == null) {
                return;
            }
            r.run();
        }
    }

    void schedule(MessageQueue q, long delayMs) {
        scheduler.schedule(() -> q.executor().execute(q::promoteScheduled), delayMs, TimeUnit.MILLISECONDS);
    }

    /** Called on {@code from}'s executor with an entry it no longer holds. */
    void deadLetter(MessageQueue from, QueueEntry entry) {
        LOG.info("Message {} reached {} delivery attempts on {}; moving it to {}", entry.message.messageId(),
                entry.deliveryCount, from.name(), config.deadLetterQueue());
        move(from, entry, config.deadLetterQueue(), entry.message.expiration());
    }

    /** Called on {@code from}'s executor with an expired entry it no longer holds. */
    void expire(MessageQueue from, QueueEntry entry) {
        if (from.name().equals(config.expiryQueue())) {
            dropStored(from, entry);
            return;
        }
        move(from, entry, config.expiryQueue(), 0);
    }

    private void dropStored(MessageQueue from, QueueEntry entry) {
        released(entry);
        if (entry.durable) {
            store.commit(new StoreBatch().add(new StoreBatch.RemoveMessage(from.name(), entry.sequence)));
        }
    }

    private void move(MessageQueue from, QueueEntry entry, String targetName, long expiration) {
        MessageQueue target = queue(targetName);
        WireMessage m = entry.message;
        Map<String, Object> props = new LinkedHashMap<>(m.properties());
        props.put("JMS_TERN_ORIGINAL_QUEUE", from.name());
        WireMessage moved = new WireMessage(m.messageId(), m.bodyType(), m.destination(), m.replyTo(), m.correlationId(),
                m.type(), m.persistent(), m.priority(), m.timestamp(), expiration, 0, props, m.body());
        boolean durable = moved.persistent() && store.isDurable();
        QueueEntry copy = new QueueEntry(sequence.incrementAndGet(), moved, durable, null, 0);
        StoreBatch batch = new StoreBatch();
        if (durable) {
            batch.add(new StoreBatch.AddMessage(targetName, copy.sequence, encode(moved)));
        }
        if (entry.durable) {
            batch.add(new StoreBatch.RemoveMessage(from.name(), entry.sequence));
        }
        memoryUsed.addAndGet(copy.size);
        released(entry);
        store.commit(batch).whenComplete((ok, failure) -> {
            if (failure != null) {
                LOG.error("Could not move message {} to {}", m.messageId(), targetName, failure);
                released(copy);
                return;
            }
            target.executor().execute(() -> target.enqueue(copy));
        });
    }

    // ---- lifecycle --------------------------------------------------------------------------

    String sendsRefused() {
        return availability.sendsRefused();
    }

    boolean deliveriesHeld() {
        return !availability.delivers();
    }

    /** Closes every client connection; completes when each has rolled back and returned its deliveries. */
    public CompletableFuture<Void> closeAllConnections() {
        List<CompletableFuture<Void>> gone = new ArrayList<>();
        for (ServerConnection c : List.copyOf(connections.values())) {
            gone.add(c.gone);
            c.closeNow();
        }
        return CompletableFuture.allOf(gone.toArray(CompletableFuture[]::new));
    }

    /**
     * Also drops sends whose duplicate-detection id {@code known} says this node holds for another
     * node: a client of a dead node may resend here before this node has taken its messages over.
     */
    public void setDuplicateIdsElsewhere(java.util.function.Predicate<String> known) {
        duplicateIdsElsewhere = known;
    }

    String clientsHeld() {
        return availability.clientsRefused();
    }

    /**
     * Drops every stored message of every queue, in the store too: what a node discards when it
     * learns that another node took its messages over while it was gone. Messages out with clients
     * are dropped when they come back. Returns the number of messages dropped.
     */
    public int discardStoredMessages() {
        synchronized (issuedKeys) {
            issuedKeys.clear(); // the clients this node had belong to the node that took it over
        }
        for (String owner : List.copyOf(heldForRecovery.keySet())) {
            releaseHeld(owner, "this node discards its messages");
        }
        StoreBatch batch = new StoreBatch();
        int dropped = 0;
        long upTo = sequence.get();
        for (MessageQueue q : List.copyOf(queues.values())) {
            // Deliveries still out (to connections closing now) are dropped when they come back.
            List<QueueEntry> gone = q.executor().call(() -> q.purgeAll(e -> dropStored(q, e), upTo)).join();
            for (QueueEntry e : gone) {
                if (e.durable) {
                    batch.add(new StoreBatch.RemoveMessage(q.name(), e.sequence));
                }
                released(e);
                dropped++;
            }
        }
        store.commit(batch).join();
        return dropped + discardLeftInStore();
    }

    /** Removes what the store still holds besides the queues' entries (a commit that failed and could not be undone). */
    private int discardLeftInStore() {
        // An undo of a failed commit may still be on its way to the disk (the failure that made this node
        // discard failed it a moment ago): the snapshot must see it. The node is fenced now, so no undo
        // starts after this.
        CompletableFuture<Void> undone;
        synchronized (undoing) {
            undone = store.written();
        }
        undone.join();
        StoreBatch batch = new StoreBatch();
        try (MessageStore.Snapshot s = store.snapshot()) {
            s.read(MessageStore.Recovery.asOps(op -> {
                if (op instanceof StoreBatch.AddMessage a) {
                    batch.add(new StoreBatch.RemoveMessage(a.queue(), a.sequence()));
                }
            }));
        }
        if (!batch.isEmpty()) {
            LOG.warn("Discarding {} stored message(s) no queue held (left by commits that failed)", batch.ops().size());
            store.commit(batch).join();
        }
        return batch.ops().size();
    }

    /** Where clients of this node go when it stops or drains: a client URI, "" if none is known. */
    public void setNextServer(java.util.function.Supplier<String> next) {
        this.nextServer = next;
    }

    /**
     * Drains this node: new clients are redirected to the next server, and every client connection
     * but {@code except} gets a lame-duck notice and moves away (as at a graceful stop; the clients
     * keep acknowledging what they hold here until they are done with it). Stays drained until the
     * node stops. Returns the number of client connections still here besides {@code except}.
     */
    int drain(ServerConnection except) {
        if (!availability.draining()) {
            availability.drain();
            for (ServerConnection c : List.copyOf(connections.values())) {
                if (c != except) {
                    c.lameDuck(nextServer.get());
                }
            }
        }
        return (int) connections.values().stream().filter(c -> c != except && !c.isAdmin()).count();
    }

    /**
     * Drains this node on an operator's word (console): every client moves away. Returns the number
     * of client connections still here.
     */
    public int drain() {
        return drain(null);
    }

    /** True if this node welcomed a client connection with {@code key} since it started or last discarded. */
    public boolean issuedHere(String key) {
        synchronized (issuedKeys) {
            return key != null && issuedKeys.contains(key);
        }
    }

    /** The server a new client is redirected to while this node drains; null if it is not draining. */
    String drainRedirect() {
        if (!availability.draining()) {
            return null;
        }
        String next = nextServer.get();
        return next == null || next.isEmpty() ? null : next;
    }

    boolean isDraining() {
        return availability.draining();
    }

    /**
     * The node {@code nodeId} is back and serves again at {@code uri}: its clients that failed over
     * here are told to move back (failback); each does once it holds no unacknowledged message.
     * Returns how many were told.
     */
    public int failBack(String nodeId, String uri) {
        int told = 0;
        for (ServerConnection c : List.copyOf(connections.values())) {
            if (nodeId.equals(c.failedOverFrom)) {
                c.failBack(uri);
                told++;
            }
        }
        if (told > 0) {
            LOG.info("Node {} is back at {}: {} client connection(s) that failed over from it move back", nodeId, uri, told);
        }
        return told;
    }

    /** Stops accepting connections; existing ones are closed by the acceptor. */
    public void beginShutdown() {
        availability.stop();
    }

    /**
     * Tells every client that this node is shutting down, and where to go: {@code target} picks a
     * client URI for each connection (empty when the node knows no other server).
     */
    public void lameDuck(java.util.function.Supplier<String> target) {
        for (ServerConnection c : List.copyOf(connections.values())) {
            c.lameDuck(target.get());
        }
    }

    @Override
    public void close() {
        availability.stop();
        List.copyOf(connections.values()).forEach(ServerConnection::closeNow);
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
