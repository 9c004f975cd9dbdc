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
 * holds the peer's messages itself (it took the peer over), those the peer had stored leave here and
 * the rest go back to their queue here ({@link #settleHere()}).
 */
public final class MovesInDoubt {
    private final Broker broker;
    private final String peer;
    private final PeerStart start;
    private final List<Delivery> deliveries;
    private final AtomicBoolean resolved = new AtomicBoolean();
    private final long discardsAtStart;

    MovesInDoubt(Broker broker, String peer, PeerStart start, List<Delivery> deliveries) {
        this(broker, peer, start, deliveries, broker.discards());
    }

    private MovesInDoubt(Broker broker, String peer, PeerStart start, List<Delivery> deliveries, long discardsAtStart) {
        this.broker = broker;
        this.discardsAtStart = discardsAtStart;
        this.peer = peer;
        this.start = start;
        this.deliveries = List.copyOf(deliveries);
    }

    /**
     * True while this node may resolve them: it serves (or drains). A node fenced, starting, without
     * the quorum, or whose JVM was just stopped (the pause watch has not checked yet) may have been
     * taken over: its taker resolves them, from its replica.
     */
    public boolean resolvable() {
        return broker.availability().answersForItsMessages();
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

    /**
     * The start of the peer whose link they were on; null if not known (they were out with a node
     * this node took over): the peer's start that holds its messages now decides.
     */
    public PeerStart start() {
        return start;
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
        deliveries.forEach(d -> MoveTrace.event("in-doubt-stored-there", peer, d.queue().name(), d.entry().message));
        return broker.publish(List.of(), deliveries, null).whenComplete((ok, failure) -> {
            if (failure != null) {
                resolved.set(false); // not removed here (no quorum, or taken over): resolved again, or discarded with the store
            }
        });
    }

    /**
     * This node holds the peer's messages itself: it took the peer over. What the peer had stored
     * (its replica's ids, taken over, name the move) is the peer's: taken over from its replica if
     * it still had it, else consumed or moved on there. The rest are ready here again, not counted as
     * a redelivery. Returns the peer's, which leave here by {@link #storedThere()}; null if none.
     */
    public MovesInDoubt settleHere() {
        if (!resolved.compareAndSet(false, true)) {
            return null;
        }
        List<Delivery> storedThere = new java.util.ArrayList<>();
        for (Delivery d : deliveries) {
            if (broker.storedAsMove(d.entry().message)) {
                MoveTrace.event("in-doubt-stored-there", peer, d.queue().name(), d.entry().message);
                storedThere.add(d);
            } else {
                MoveTrace.event("in-doubt-back", peer, d.queue().name(), d.entry().message);
                d.giveBack(false);
            }
        }
        return storedThere.isEmpty() ? null : new MovesInDoubt(broker, peer, start, storedThere, discardsAtStart);
    }

    /** This node holds the peer's messages itself: they are ready here again, not counted as a redelivery. */
    public void returnHere() {
        if (resolved.compareAndSet(false, true)) {
            for (Delivery d : deliveries) {
                MoveTrace.event("in-doubt-returned", peer, d.queue().name(), d.entry().message);
                d.giveBack(false);
            }
        }
    }
}
