package io.tern.cluster;

import io.tern.broker.PeerStart;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * The takeovers of other members this node heard of since it started, kept after their records are
 * forgotten (the member discarded for them): the last {@value #KEPT} per member. They tell who took
 * over one start of a member that has restarted since ({@link #takerOf}): a move left in doubt with
 * that start is the taker's to have, not the member's new start's, which discarded what it stored.
 * Not kept on disk: a node that restarts has no moves in doubt.
 */
final class TakeoverHistory {
    private static final int KEPT = 8;

    /** A takeover of one start ({@code incarnation}, empty: whichever start its replica held) at {@code epoch}. */
    private record Taken(long epoch, String incarnation, String taker) {
    }

    private final Map<String, Deque<Taken>> byNode = new HashMap<>(); // guarded by this

    synchronized void taken(String nodeId, long epoch, String incarnation, String taker) {
        Deque<Taken> all = byNode.computeIfAbsent(nodeId, n -> new ArrayDeque<>());
        Taken t = new Taken(epoch, incarnation == null ? "" : incarnation, taker);
        if (!all.contains(t)) {
            all.addLast(t);
            if (all.size() > KEPT) {
                all.removeFirst();
            }
        }
    }

    /**
     * The node that took over {@code start} of {@code nodeId}: the first takeover of that start (or of
     * a start not named) after the view in which a link to it opened. Epochs and view ids are one
     * sequence (see {@link TakeoverRecords}): that start was in the view then, so its takeover came
     * later, and one before it was of an older start. Null if this node knows of none.
     */
    synchronized String takerOf(String nodeId, PeerStart start) {
        Taken first = null;
        for (Taken t : byNode.getOrDefault(nodeId, new ArrayDeque<>())) {
            boolean thatStart = t.incarnation().isEmpty() || t.incarnation().equals(start.incarnation());
            if (thatStart && t.epoch() > start.openedInView() && (first == null || t.epoch() < first.epoch())) {
                first = t;
            }
        }
        return first == null ? null : first.taker();
    }
}
