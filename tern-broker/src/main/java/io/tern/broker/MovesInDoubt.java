package io.tern.broker;

import io.tern.protocol.WireMessage;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Messages that were on their way to another node (delivered to its cluster link, not yet
 * acknowledged) when the link closed, or when this node took over the node that sent them: that
 * node may have stored them or not. They stay out of their queue here until {@code resolved}: the
 * node that holds {@link #peer()}'s messages now is given them ({@link #byQueue()}, it drops what it
 * has already) and, once it has them, they are removed here ({@link #storedThere()}); or, if this node
 * holds the peer's messages itself (it took the peer over, and dropped from the peer's replica what
 * it still had here), they go back to their queue here ({@link #returnHere()}).
 */
public final class MovesInDoubt {
    private final Broker broker;
    private final String peer;
    private final List<Delivery> deliveries;
    private final AtomicBoolean resolved = new AtomicBoolean();
    private final long discardsAtStart;

    MovesInDoubt(Broker broker, String peer, List<Delivery> deliveries) {
        this.broker = broker;
        this.discardsAtStart = broker.discards();
        this.peer = peer;
        this.deliveries = List.copyOf(deliveries);
    }

    /**
     * True while this node may resolve them: it serves (or drains). A node fenced, starting or
     * without the quorum may have been taken over: its taker resolves them, from its replica.
     */
    public boolean resolvable() {
        NodeState s = broker.availability().state();
        return (s == NodeState.SERVING || s == NodeState.DRAINING) && !broker.availability().ownershipInDoubt();
    }

    /**
     * True once this node discarded its messages since (it had been taken over): its taker resolves
     * these from its replica; here they are dropped ({@link #returnHere} drops them).
     */
    public boolean obsolete() {
        return broker.discards() != discardsAtStart;
    }

    /** The node the messages were on their way to. */
    public String peer() {
        return peer;
    }

    public int size() {
        return deliveries.size();
    }

    /** The messages, by the queue they are in. */
    public Map<String, List<WireMessage>> byQueue() {
        Map<String, List<WireMessage>> all = new LinkedHashMap<>();
        for (Delivery d : deliveries) {
            all.computeIfAbsent(d.queue().name(), q -> new java.util.ArrayList<>()).add(d.entry().message);
        }
        return all;
    }

    /** The holder of the peer's messages has them now: they leave this node (a replicated removal). */
    public CompletableFuture<Void> storedThere() {
        if (!resolved.compareAndSet(false, true)) {
            return CompletableFuture.completedFuture(null);
        }
        return broker.publish(List.of(), deliveries, null).whenComplete((ok, failure) -> {
            if (failure != null) {
                resolved.set(false); // not removed here (no quorum, or taken over): resolved again, or discarded with the store
            }
        });
    }

    /** This node holds the peer's messages itself: they are ready here again, not counted as a redelivery. */
    public void returnHere() {
        if (resolved.compareAndSet(false, true)) {
            for (Delivery d : deliveries) {
                d.giveBack(false);
            }
        }
    }
}
