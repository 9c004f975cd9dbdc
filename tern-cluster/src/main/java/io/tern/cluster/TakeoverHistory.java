package io.tern.cluster;

import io.tern.broker.PeerStart;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * The takeovers of other members this node heard of since it started, kept after their records are
 * forgotten (the member discarded for them): the last {@value #KEPT} per member. They tell who holds
 * what one start of a member stored once that member has restarted ({@link #holderOf}): a move left
 * in doubt with that start is that holder's to have, not the member's new start's, which discarded
 * what it stored. Not kept on disk: a node that restarts has no moves in doubt.
 */
final class TakeoverHistory {
    private static final int KEPT = 8;
    private static final int MAX_HOPS = 8;

    /** A takeover of one start ({@code incarnation}, empty: whichever start its replica held) at {@code epoch}. */
    private record Taken(long epoch, String incarnation, String taker) {
    }

    /** Who holds what a start stored, and the epoch of the takeover that gave it to them (-1: none, the node itself). */
    record Holder(String node, long epoch) {
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
     * Who holds what {@code start} of {@code nodeId} stored: the node that took that start over (the
     * first takeover of it, or of a start not named, from the view in which a link to it opened: that
     * start was in the view then, so its takeover came no earlier), then whoever took that node over
     * after it did, and so on; {@code nodeId} itself (epoch -1) if this node knows of no takeover.
     * Epochs are view ids (see {@link TakeoverRecords}), so a takeover after the link opened has the
     * greater one. Limit: after the whole cluster restarted, view ids begin again while an epoch is
     * raised above the last one discarded for, and an old takeover can then seem to follow a link.
     */
    synchronized Holder holderOf(String nodeId, PeerStart start) {
        Taken t = first(nodeId, start.incarnation(), start.openedInView(), true);
        if (t == null) {
            return new Holder(nodeId, -1);
        }
        for (int hops = 0; hops < MAX_HOPS; hops++) {
            Taken next = first(t.taker(), "", t.epoch(), false); // whatever start of the taker held it then
            if (next == null) {
                break;
            }
            t = next;
        }
        return new Holder(t.taker(), t.epoch());
    }

    /** The first takeover of {@code incarnation} of {@code nodeId} (empty: of any start) from epoch {@code since}. */
    private Taken first(String nodeId, String incarnation, long since, boolean inclusive) {
        Taken first = null;
        for (Taken t : byNode.getOrDefault(nodeId, new ArrayDeque<>())) {
            boolean thatStart = incarnation.isEmpty() || t.incarnation().isEmpty() || t.incarnation().equals(incarnation);
            boolean after = inclusive ? t.epoch() >= since : t.epoch() > since;
            if (thatStart && after && (first == null || t.epoch() < first.epoch())) {
                first = t;
            }
        }
        return first;
    }
}
