package io.tern.broker;

import io.tern.broker.store.StoreBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Recovery holds: messages this node took over that were out with a client session of the dead
 * node (or that a connection of a client that came back on a new connection had out), kept in
 * flight for that session (by owner, see {@code ServerSession.owner}) until it recovers them
 * ({@link #recover}) or the recovery timeout gives them back to their queues for other consumers.
 */
final class RecoveryHolds {
    private static final Logger LOG = LoggerFactory.getLogger(RecoveryHolds.class);

    private final Broker broker;
    private final ScheduledExecutorService scheduler;
    private final long recoveryTimeoutMs;
    /**
     * Sessions whose kept messages went back to their queues unrecovered (the most recent 100,000, as
     * many as the hand-over keys {@link ConnectionRegistry} keeps): what such a session lists as
     * acknowledged may have gone to another consumer since.
     */
    private final java.util.Set<String> released = java.util.Collections.newSetFromMap(
            new LinkedHashMap<String, Boolean>() {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                    return size() > 100_000;
                }
            });
    /**
     * Messages taken over from a dead node that were out with one of its client sessions, kept for
     * that session (by owner, see {@code ServerSession.owner}) until it recovers them or the recovery
     * timeout gives them to other consumers.
     */
    private final Map<String, List<Placement>> heldForRecovery = new ConcurrentHashMap<>();

    RecoveryHolds(Broker broker, ScheduledExecutorService scheduler, long recoveryTimeoutMs) {
        this.broker = broker;
        this.scheduler = scheduler;
        this.recoveryTimeoutMs = recoveryTimeoutMs;
    }

    /**
     * Keeps taken-over messages (owner to its messages) in flight for their sessions: completes once
     * each queue counts them as in flight.
     */
    CompletableFuture<Void> hold(Map<String, List<Placement>> held) {
        List<CompletableFuture<Void>> counted = new ArrayList<>();
        held.forEach((owner, ps) -> {
            for (Placement p : ps) {
                counted.add(p.queue().executor().submit(() -> p.queue().holdForRecovery(p.entry())));
            }
        });
        return CompletableFuture.allOf(counted.toArray(CompletableFuture[]::new)).thenRun(() -> held.forEach(this::keepFor));
    }

    /**
     * Keeps in-flight entries for the session {@code owner} until it recovers them or their recovery
     * timeout: each keep has its own, so a timer of an earlier keep for the same owner does not give
     * back what was kept for it later.
     */
    void keepFor(String owner, List<Placement> ps) {
        List<Placement> kept = List.copyOf(ps);
        heldForRecovery.merge(owner, new ArrayList<>(kept), (a, b) -> {
            a.addAll(b);
            return a;
        });
        scheduler.schedule(() -> timedOut(owner, kept), recoveryTimeoutMs, TimeUnit.MILLISECONDS);
    }

    /** The recovery timeout of one keep: what of it is still kept for {@code owner} goes back to its queues. */
    private void timedOut(String owner, List<Placement> kept) {
        java.util.Set<Placement> mine = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        mine.addAll(kept);
        List<Placement> back = new ArrayList<>();
        heldForRecovery.computeIfPresent(owner, (k, held) -> {
            held.removeIf(p -> mine.contains(p) && back.add(p));
            return held.isEmpty() ? null : held;
        });
        giveBack(owner, back, "no session recovered them within the recovery timeout");
    }

    /** A connection's session kept in-flight deliveries for its client, which came back on a new connection. */
    void keepFor(String owner, MessageQueue q, List<QueueEntry> entries) {
        List<Placement> ps = new ArrayList<>();
        entries.forEach(e -> ps.add(new Placement(q, e)));
        keepFor(owner, ps);
    }

    /** Gives every message kept for {@code owner} back to its queue, counted as delivered once. */
    void release(String owner, String why) {
        List<Placement> ps = heldForRecovery.remove(owner);
        if (ps != null) {
            giveBack(owner, ps, why);
        }
    }

    private void giveBack(String owner, List<Placement> ps, String why) {
        if (ps.isEmpty()) {
            return;
        }
        synchronized (released) {
            released.add(owner);
        }
        LOG.info("Giving {} taken-over message(s) kept for session {} back to their queues: {}", ps.size(), owner, why);
        ps.forEach(p -> p.queue().executor().execute(() -> p.queue().returned(p.entry(), true)));
    }

    /** Gives everything kept back to its queues (the node discards its messages). */
    void releaseAll(String why) {
        for (String owner : List.copyOf(heldForRecovery.keySet())) {
            release(owner, why);
        }
    }

    /** A delivery mark for every message kept for a session: what a new backup needs to keep them too. */
    void marks(List<StoreBatch.Mark> into) {
        heldForRecovery.forEach((owner, ps) -> {
            for (Placement p : List.copyOf(ps)) {
                into.add(new StoreBatch.MarkDelivered(p.queue().name(), p.entry().sequence, owner));
            }
        });
    }

    /** Number of taken-over messages kept for client sessions that have not recovered yet. */
    int count() {
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
    CompletableFuture<long[]> recover(ServerSession session, List<io.tern.protocol.Request.HeldMessage> listed,
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
        return broker.publish(List.of(), acks, null).handle((ok, failure) -> {
            if (failure != null) {
                LOG.error("Could not store the acknowledgements session {} made before its failover", owner, failure);
            } else {
                acked.forEach(i -> ids[i] = 1);
            }
            return ids;
        });
    }
}
