package io.tern.broker;

import io.tern.protocol.WireMessage;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where the cluster plugs its clustered queues into this node. A queue is partial on each node: a
 * producer's messages are stored by the node it sends to. When this node's consumers of a queue
 * could take more than its part holds (its <em>demand</em>), the cluster pulls messages of that
 * queue from the other nodes over cluster links: each link is a connection of this node to
 * another one, on which it consumes from that node's part like a client, stores what comes here
 * ({@link #storeMoved}), and acknowledges it there once it is stored. The other direction is
 * {@link #openLink}: another node's link to this one.
 */
public final class QueueMoves {
    /** Told on the queue's executor when the demand of a queue here changes; must return at once. */
    @FunctionalInterface
    public interface DemandListener {
        /**
         * @param selectors the selectors of this node's consumers of the queue (a null element: one takes
         *                  every message; empty: no consumer left)
         * @param hungry    they could take more than is ready here
         */
        void demandChanged(String queue, List<String> selectors, boolean hungry);
    }

    /** A queue's demand here, as last reported. */
    public record Demand(List<String> selectors, boolean hungry) {
    }

    /**
     * Tells the other nodes of the destinations they must keep a part of (subscriptions, temporary
     * queues: see {@link #homed}).
     */
    public interface Mirrors {
        /** {@code definition} is homed here: the other nodes create their part; completes once they did. */
        CompletableFuture<Void> homed(String name, byte[] definition);

        /** {@code name} is no longer homed here ({@code everywhere}: it is gone everywhere). */
        void unhomed(String name, boolean everywhere);

        /** True if another node homes {@code name}. */
        boolean homedElsewhere(String name);
    }

    private static final Mirrors ALONE = new Mirrors() {
        @Override
        public CompletableFuture<Void> homed(String name, byte[] definition) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void unhomed(String name, boolean everywhere) {
        }

        @Override
        public boolean homedElsewhere(String name) {
            return false;
        }
    };

    /** How long a subscriber or a temporary queue waits for the other nodes to have their part. */
    private static final long MIRROR_WAIT_MS = 2000;

    private final Broker broker;
    private final Map<String, Demand> demand = new ConcurrentHashMap<>();
    private volatile Mirrors mirrors = ALONE;
    private volatile DemandListener listener = (queue, selectors, hungry) -> { };
    /** Without a cluster to ask, moves in doubt go back to their queue. */
    private volatile java.util.function.Consumer<MovesInDoubt> inDoubt = MovesInDoubt::returnHere;

    QueueMoves(Broker broker) {
        this.broker = broker;
    }

    public void setDemandListener(DemandListener listener) {
        this.listener = listener;
    }

    public void setMirrors(Mirrors mirrors) {
        this.mirrors = mirrors;
    }

    /**
     * A subscription or a temporary queue was created here: every other node keeps a part of it,
     * where publications made there (or replies sent there) wait for this node to pull them. Waits
     * (up to {@value #MIRROR_WAIT_MS} ms) until they have it, so that a message sent anywhere after
     * the subscriber was created reaches it.
     */
    void homed(QueueDefinition d) {
        try {
            mirrors.homed(d.name(), d.encode()).get(MIRROR_WAIT_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            org.slf4j.LoggerFactory.getLogger(QueueMoves.class).warn("Not every member confirmed its part of {} within {} ms: "
                    + "messages sent there just now may not reach it", d.name(), MIRROR_WAIT_MS);
        }
    }

    void unhomed(String name, boolean everywhere) {
        mirrors.unhomed(name, everywhere);
    }

    boolean homedElsewhere(String name) {
        return mirrors.homedElsewhere(name);
    }

    /** The destination name in an encoded definition (of {@link #shared} or {@link Mirrors#homed}). */
    public static String nameOf(byte[] definition) {
        return QueueDefinition.decode(definition).name();
    }

    /** Another node homes this destination: this node keeps a part of it. */
    public void mirror(byte[] definition) {
        broker.destinations().mirror(QueueDefinition.decode(definition));
    }

    /** Another node no longer homes {@code name}: this node's part goes, unless this node homes it too. */
    public void unmirror(String name, boolean everywhere) {
        broker.destinations().unmirror(name, everywhere);
    }

    /** The definitions of what this node homes (and every durable subscription), for a member that joins. */
    public List<byte[]> shared() {
        return broker.destinations().shared().stream().map(QueueDefinition::encode).toList();
    }

    /** Who resolves moves in doubt (see {@link MovesInDoubt}); the cluster's links. */
    public void setInDoubtResolver(java.util.function.Consumer<MovesInDoubt> resolver) {
        this.inDoubt = resolver;
    }

    /**
     * Deliveries to {@code peer}'s link that it may or may not have stored: resolved by the cluster.
     * {@code start}: the start of the peer that link served (null: not known, the holder of its messages now).
     */
    void inDoubt(String peer, PeerStart start, List<Delivery> deliveries) {
        if (!deliveries.isEmpty()) {
            inDoubt.accept(new MovesInDoubt(broker, peer, start, deliveries));
        }
    }

    /** Every queue that has consumers here now, with its demand. */
    public Map<String, Demand> demand() {
        return Collections.unmodifiableMap(demand);
    }

    void changed(String queue, List<String> selectors, boolean hungry) {
        if (selectors.isEmpty()) {
            demand.remove(queue);
        } else {
            demand.put(queue, new Demand(selectors, hungry));
        }
        listener.demandChanged(queue, selectors, hungry);
    }

    /**
     * Serves the cluster link of member {@code peer} (its start {@code start}): a connection without
     * HELLO whose frames go to {@code sink}; the caller passes it the member's requests and closes it
     * when the member leaves.
     */
    public ServerConnection openLink(String peer, PeerStart start, FrameSink sink) {
        return broker.connections().connectLink(peer, start, sink);
    }

    /**
     * Stores messages another node moved here, in this node's part of {@code queue}, each counted
     * as one more move. The same move given twice (a move in doubt given again) is dropped
     * ({@link WireMessage#moveDedupKey}). Completes once the rest is stored and replicated: then the
     * other node may forget them.
     */
    public CompletableFuture<Void> storeMoved(String queue, List<WireMessage> moved) {
        MessageQueue existing = broker.destinations().get(queue);
        MessageQueue q = existing != null ? existing : broker.destinations().queue(queue);
        List<WireMessage> messages = moved.stream().map(WireMessage::moved).toList();
        return broker.store(messages, Collections.nCopies(messages.size(), List.of(q)), List.of(), null, true, true);
    }
}
