package io.tern.broker;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

/**
 * A node's availability ({@link NodeState}), changed by events from the server and from the cluster,
 * which plugs in here: it is the interface the broker owns for them. Every change goes through
 * {@link #transition}, which logs {@code old -> new (reason)} and tells the listeners.
 *
 * <p>Events start and end conditions, each named by the state it puts the node in, with its reason:
 * several can hold at once (a node fenced while it has no quorum). The state is the strongest
 * condition that holds, by {@link #PRECEDENCE}, else serving. So a node fenced while it has no quorum
 * is fenced, and is no-quorum again once the fence lifts; a drained node that loses the quorum
 * refuses sends, and drains again when it regains it.
 *
 * <p>A node whose messages others may take over (replicated) begins starting: it serves once its
 * cluster said it was not taken over meanwhile ({@link #started}).
 */
public final class NodeAvailability {
    private static final Logger LOG = LoggerFactory.getLogger(NodeAvailability.class);

    private final String node;
    private final boolean replicated;
    private final List<BiConsumer<NodeState, NodeState>> listeners = new CopyOnWriteArrayList<>();
    /** Which condition wins when several hold, strongest first; none: serving. */
    static final List<NodeState> PRECEDENCE = List.of(NodeState.STOPPING, NodeState.FENCED, NodeState.CHECKING,
            NodeState.STARTING, NodeState.NO_QUORUM, NodeState.DRAINING);
    private final java.util.EnumMap<NodeState, String> conditions = new java.util.EnumMap<>(NodeState.class); // guarded by this
    private volatile NodeState state;
    private volatile String reason;
    private volatile PauseWatch pauses; // null while pauses are not watched

    /**
     * @param replicated whether a majority may take this node's messages over (then it holds its
     *                   deliveries without the quorum)
     */
    NodeAvailability(String node, boolean replicated) {
        this.node = node;
        this.replicated = replicated;
        if (replicated) {
            this.reason = "node " + node + " has started: it serves once it has joined its cluster and checked that it was "
                    + "not taken over meanwhile";
            conditions.put(NodeState.STARTING, reason);
            this.state = NodeState.STARTING;
        } else {
            this.reason = "started";
            this.state = NodeState.SERVING;
        }
    }

    public NodeState state() {
        return state;
    }

    /** Why the node is in its state (the reason of the last transition). */
    public String reason() {
        return reason;
    }

    /** Hears every transition, after it is made, outside the lock. */
    void addListener(BiConsumer<NodeState, NodeState> listener) {
        listeners.add(listener);
    }

    /** Holds new clients with {@code why} (joining, checking for a takeover) until {@link #started()}. */
    public void starting(String why) {
        update(NodeState.STARTING, Objects.requireNonNull(why), why);
    }

    public void started() {
        update(NodeState.STARTING, null, "ready to serve");
    }

    /** The cluster's verdict: {@code why} is null when the quorum is held, else why not. */
    public void quorum(String why) {
        update(NodeState.NO_QUORUM, why, why == null ? "quorum held" : why);
    }

    /** How often the pause watch ticks: a threshold must be longer. */
    public static final long PAUSE_TICK_MS = PauseWatch.TICK_MS;

    /**
     * Watches for pauses of this JVM ({@link PauseWatch}): after a gap longer than {@code thresholdMs}
     * the node is {@link NodeState#CHECKING} while {@code check} asks the members what became of it
     * (it may have been taken over meanwhile); the requests its clients sent meanwhile wait, and
     * nothing is delivered, until the check is done. For a node whose messages others may take over.
     * {@code nanoClock} is the monotonic clock the gaps are measured on (tests make pauses with one of
     * their own).
     */
    public synchronized void watchPauses(long thresholdMs, java.util.function.LongSupplier nanoClock,
                                  java.util.function.LongConsumer check) {
        if (pauses != null) {
            throw new IllegalStateException("pauses are watched already");
        }
        PauseWatch watch = new PauseWatch(node, thresholdMs, nanoClock, new PauseWatch.Hooks() {
            @Override
            public void paused(long gapMs) {
                String why = "node " + node + " was stopped for " + gapMs + " ms (a pause of its JVM): it checks with "
                        + "the members whether it was taken over meanwhile";
                update(NodeState.CHECKING, why, why);
            }

            @Override
            public void check(long gapMs) {
                check.accept(gapMs);
            }

            @Override
            public void checked(long gapMs) {
                update(NodeState.CHECKING, null, "checked after a pause of " + gapMs + " ms");
            }
        });
        pauses = watch;
        watch.start();
    }

    /**
     * True while the requests of clients wait: the node checks after a pause, or its JVM was just
     * stopped and the watch has not noticed yet. Released by the transition out of {@link NodeState#CHECKING}.
     */
    public boolean holdsRequests() {
        return stalled() || state == NodeState.CHECKING; // the tick before the state: see PauseWatch
    }

    /** The JVM was stopped and the pause watch has not run since (its last tick is too old). */
    private boolean stalled() {
        PauseWatch w = pauses;
        return w != null && w.stale();
    }

    private volatile long ownershipDoubtedUntilNs = System.nanoTime();

    /**
     * A failover node refused this node's replication because it took this node over: until this
     * node has checked (and discarded, if so), it must not hand anything of its own to others, such
     * as the moves that were in doubt when a link closed ({@link MovesInDoubt#resolvable}).
     */
    public void doubtOwnership(long ms) {
        ownershipDoubtedUntilNs = System.nanoTime() + ms * 1_000_000L;
    }

    boolean ownershipInDoubt() {
        return System.nanoTime() - ownershipDoubtedUntilNs < 0;
    }

    /**
     * True while this node may hand over what it stored, or answer for it: it serves (or drains), its
     * JVM was not just stopped, and no member said it took it over. A node fenced, starting, without
     * the quorum or checking after a pause may have been taken over: its taker answers instead.
     */
    public boolean answersForItsMessages() {
        NodeState s = state;
        return (s == NodeState.SERVING || s == NodeState.DRAINING) && !ownershipInDoubt() && !holdsRequests();
    }

    /** Fences the node with {@code why}: no client served, nothing delivered, until {@link #unfence}. */
    public void fence(String why) {
        update(NodeState.FENCED, Objects.requireNonNull(why), why);
    }

    /** Lifts a fence, unless one for good holds ({@link #fenceUntilRestart}). */
    public void unfence(String why) {
        synchronized (this) {
            if (fencedForGood) {
                return;
            }
        }
        update(NodeState.FENCED, null, why);
    }

    /** Fences the node with {@code why} until it is restarted: {@link #unfence} no longer lifts it. */
    public void fenceUntilRestart(String why) {
        synchronized (this) {
            fencedForGood = true;
        }
        update(NodeState.FENCED, Objects.requireNonNull(why), why);
    }

    private boolean fencedForGood; // guarded by this

    /** Drains the node on an operator's word; it stays drained until it stops. */
    public void drain() {
        String why = "drained by an operator: clients move to other nodes";
        update(NodeState.DRAINING, why, why);
    }

    public void stop() {
        PauseWatch w = pauses;
        if (w != null) {
            w.close();
        }
        update(NodeState.STOPPING, "shutting down", "shutting down");
    }

    /** Why new clients are refused now (starting or fenced), or null. */
    String clientsRefused() {
        NodeState s = state;
        return s == NodeState.STARTING || s == NodeState.FENCED ? reason : null;
    }

    /** Why sends are refused now (no quorum), or null. */
    synchronized String sendsRefused() {
        return state.acceptsSends() ? null : conditions.getOrDefault(NodeState.NO_QUORUM, reason);
    }

    boolean delivers() {
        return !stalled() && state.delivers(replicated);
    }

    /** True once drained: it stays so until it stops, also while a stronger condition holds. */
    synchronized boolean draining() {
        return conditions.containsKey(NodeState.DRAINING);
    }

    /**
     * Starts ({@code holds} is its reason) or ends ({@code holds} null) the condition that puts the node
     * in state {@code condition}; {@code why} is logged with the transition, if the state changes.
     */
    private void update(NodeState condition, String holds, String why) {
        NodeState from;
        NodeState to;
        synchronized (this) {
            if (holds == null) {
                conditions.remove(condition);
            } else {
                conditions.put(condition, holds);
            }
            from = state;
            to = PRECEDENCE.stream().filter(conditions::containsKey).findFirst().orElse(NodeState.SERVING);
            if (to == from) {
                reason = to == NodeState.SERVING ? reason : conditions.get(to); // the same state, perhaps for a new reason
                return;
            }
            transition(to, why);
        }
        for (BiConsumer<NodeState, NodeState> l : listeners) {
            l.accept(from, to);
        }
    }

    /** The one place the state changes; the reason is then the condition's that holds ({@code why} when serving). */
    private void transition(NodeState to, String why) {
        NodeState from = state;
        reason = to == NodeState.SERVING ? why : conditions.get(to);
        state = to;
        if (to == NodeState.SERVING || to == NodeState.STARTING || to == NodeState.STOPPING) {
            LOG.info("Node {}: {} -> {} ({})", node, from, to, why);
        } else {
            LOG.warn("Node {}: {} -> {} ({})", node, from, to, why);
        }
    }
}
