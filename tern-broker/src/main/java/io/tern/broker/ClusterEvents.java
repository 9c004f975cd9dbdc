package io.tern.broker;

import io.tern.protocol.ClusterTopology;
import io.tern.protocol.NodeInfo;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * What happened in the cluster as this node saw it, for the console's timeline: members that joined
 * and left, members suspected, nodes taken over (by this node or another), fail-backs, and this node's
 * own state changes (draining, fenced, without the quorum, serving). The last {@link #CAPACITY} are
 * kept, numbered, so that a console that lost its stream asks for those after the last it had.
 * Thread-safe; listeners are told outside the lock, on the thread that recorded.
 */
public final class ClusterEvents {
    /** Events kept. */
    public static final int CAPACITY = 500;

    /**
     * One event.
     *
     * @param id     its number on this node, from 1
     * @param timeMs when this node recorded it (its wall clock)
     * @param kind   joined, left, suspected, taken-over, failed-back, or a state of this node
     *               (serving, starting, checking, draining, no-quorum, fenced, stopping)
     * @param node   the node it is about, by name
     * @param detail what else there is to say
     */
    public record Event(long id, long timeMs, String kind, String node, String detail) {
    }

    private final ArrayDeque<Event> events = new ArrayDeque<>();
    private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();
    private final LongSupplier clock;
    /** This run of the node: ids start again at 1 when it restarts, so a reader names the run too. */
    private final String run = Long.toString(java.util.concurrent.ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
    private long lastId;
    /** Names of every member seen, by node id: a node taken over is no longer in the view. */
    private final Map<String, String> names = new HashMap<>();
    private Set<String> members = Set.of();

    ClusterEvents(LongSupplier clock) {
        this.clock = clock;
    }

    public Event record(String kind, String node, String detail) {
        Event e;
        synchronized (this) {
            e = new Event(++lastId, clock.getAsLong(), kind, node, detail == null ? "" : detail);
            events.addLast(e);
            if (events.size() > CAPACITY) {
                events.removeFirst();
            }
        }
        for (Consumer<Event> l : listeners) {
            l.accept(e);
        }
        return e;
    }

    /** The events kept whose id is greater than {@code afterId}, oldest first. */
    public synchronized List<Event> after(long afterId) {
        List<Event> out = new ArrayList<>();
        for (Event e : events) {
            if (e.id() > afterId) {
                out.add(e);
            }
        }
        return out;
    }

    /** This run of the node (see {@link #after}): a reader that names another run has seen none of these events. */
    public String run() {
        return run;
    }

    /** Tells {@code listener} of every event from now on; the returned action stops that. */
    public Runnable subscribe(Consumer<Event> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** The name of {@code nodeId} as the views said it, or the id itself if none did. */
    public synchronized String nameOf(String nodeId) {
        return names.getOrDefault(nodeId, nodeId);
    }

    /** A new view: members that joined and left since the last one. */
    void viewChanged(ClusterTopology topology) {
        List<String[]> changes = new ArrayList<>();
        synchronized (this) {
            Set<String> now = new HashSet<>();
            for (NodeInfo m : topology.members()) {
                now.add(m.nodeId());
                names.put(m.nodeId(), m.name());
                if (!members.isEmpty() && !members.contains(m.nodeId())) {
                    changes.add(new String[] {"joined", m.name(), "on machine " + m.machineId()});
                }
            }
            for (String gone : members) {
                if (!now.contains(gone)) {
                    changes.add(new String[] {"left", names.getOrDefault(gone, gone), "no longer in the view"});
                }
            }
            members = now;
        }
        changes.forEach(c -> record(c[0], c[1], c[2]));
    }
}
