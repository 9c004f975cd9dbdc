package io.tern.client.impl;

import jakarta.jms.IllegalStateException;
import jakarta.jms.JMSException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;

/**
 * The state machine of a connection's link to the cluster: which server it uses, whether it is
 * moving, and what waits for a link. Every change goes through {@link #transition}, which logs
 * {@code old -> new (reason)} and wakes whoever waits on a state.
 *
 * <pre>
 *  CONNECTING ──first server took it──▶ CONNECTED
 *  CONNECTED ──FAILBACK notice──▶ FAILBACK_DUE ──nothing held──┐
 *      │  └────lame duck / sends refused──────────────────────▶ LEAVING ──transactions ended──▶ MOVING
 *      │                                                           │                            │
 *      └──link broke──▶ RECONNECTING ──same server gone──▶ FAILING_OVER                         │
 *                            ▲                                  │                               │
 *      CONNECTED ◀───────────┴──────── a server took it ◀──────┴───────────────────────────────┘
 *  any state ──close or give up──▶ CLOSED
 * </pre>
 *
 * A state with a link ({@link #hasLink}) serves requests on it; without one, requests are parked
 * and resumed on the next link. Deliveries are accepted from one link generation only
 * ({@link #accepting()}): the link being opened or used, never one being left. Links left by a move
 * stay open as <em>retiring</em> while the application holds deliveries of theirs.
 *
 * <p>The clock is injected so that the tests can drive the LEAVING deadline.
 *
 * @param <W> a request parked until there is a link
 */
final class LinkStates<W> {
    private static final Logger LOG = LoggerFactory.getLogger(LinkStates.class);

    enum State {
        /** The first link is being opened. */
        CONNECTING,
        /** A link serves requests. */
        CONNECTED,
        /** Connected, and the node this connection failed over from is back: move there once nothing is held. */
        FAILBACK_DUE,
        /** A planned move: open transactions end on the link (requests still flow), new ones wait. */
        LEAVING,
        /** A planned move: the link is left (retiring), a server to go to is sought. */
        MOVING,
        /** The link broke; the same server is retried. */
        RECONNECTING,
        /** The other servers are tried. */
        FAILING_OVER,
        CLOSED;

        boolean hasLink() {
            return this == CONNECTED || this == FAILBACK_DUE || this == LEAVING;
        }

        /** No transaction may begin: a planned move is under way. */
        boolean holdsTransactions() {
            return this == LEAVING || this == MOVING;
        }
    }

    /** One transport to one server; deliveries are tagged with the generation of the link they came on. */
    record Link(Transport transport, long gen, ClientUrl.HostPort server, String nodeId) {
    }

    /** Where a planned move goes ({@code target}, empty: anywhere) and why; {@code pauseMs} before it. */
    record Move(Link from, String target, String why, long pauseMs) {
    }

    private final LongSupplier nanoClock;
    private final long leaveTimeoutNs;
    private State state = State.CONNECTING;       // guarded by this
    private volatile Link link;                   // written under this; null unless state.hasLink()
    private String target = "";                   // guarded by this; FAILBACK_DUE, LEAVING, MOVING: where to
    private long leaveDeadlineNs;                 // guarded by this; LEAVING: move even with open transactions then
    private volatile long acceptingGen;           // written under this
    private final List<Link> retiring = new CopyOnWriteArrayList<>();
    private final List<W> parked = new ArrayList<>(); // guarded by this

    /** {@code leaveTimeoutMs}: how long a planned move lets open transactions end before it leaves anyway. */
    LinkStates(long leaveTimeoutMs, LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        this.leaveTimeoutNs = leaveTimeoutMs * 1_000_000L;
    }

    synchronized State state() {
        return state;
    }

    /** The link requests go on, read without the lock: every acknowledgement asks for it; null while there is none. */
    Link link() {
        return link;
    }

    /** The generation of the current link, or 0 while there is none. */
    long generation() {
        Link l = link;
        return l == null ? 0 : l.gen();
    }

    /** The generation deliveries are accepted from (0: none). */
    long accepting() {
        return acceptingGen;
    }

    /**
     * A link of {@code gen} is being opened: its deliveries count from now on (consumers are recreated
     * on it). Under the lock, ordered with the transitions; read without it ({@link #accepting}).
     */
    synchronized void accept(long gen) {
        acceptingGen = gen;
    }

    /** Deliveries from no link count (a link is being left or failed to open). */
    synchronized void acceptNone() {
        acceptingGen = 0;
    }

    /** The machine's clock as this connection reads it (injected: tests drive it). */
    long nanoTime() {
        return nanoClock.getAsLong();
    }

    /** The one place the state changes; logs {@code old -> new (reason)}. Call holding the lock. */
    private void transition(State to, String reason) {
        State from = state;
        if (from == to) {
            return;
        }
        state = to;
        if (!to.hasLink()) {
            link = null;
        }
        if (to == State.CLOSED || from == State.CLOSED || from == State.CONNECTING) {
            LOG.debug("Connection {} -> {} ({})", from, to, reason);
        } else {
            LOG.info("Connection {} -> {} ({})", from, to, reason);
        }
        notifyAll();
    }

    // ---- the link breaks, a new one is found ---------------------------------------------------------

    /**
     * The link of {@code gen} broke. Returns it if it was the current one (a failover starts:
     * RECONNECTING), or null if it was already left (a retiring link is dropped).
     */
    synchronized Link lost(long gen, String reason) {
        retiring.removeIf(r -> r.gen() == gen);
        Link l = link;
        if (!state.hasLink() || l == null || l.gen() != gen) {
            return null;
        }
        acceptingGen = 0;
        transition(State.RECONNECTING, reason);
        return l;
    }

    /** The same server did not come back: RECONNECTING becomes FAILING_OVER. */
    synchronized void giveUpReconnecting(String reason) {
        if (state == State.RECONNECTING) {
            transition(State.FAILING_OVER, reason);
        }
    }

    /**
     * {@code l} took the connection and has everything recreated: CONNECTED. Returns the requests
     * that waited for a link, to be sent on it, or null if the connection was closed meanwhile.
     */
    synchronized List<W> connected(Link l, String reason) {
        if (state == State.CLOSED) {
            return null;
        }
        link = l;
        target = "";
        transition(State.CONNECTED, reason);
        List<W> resumed = new ArrayList<>(parked);
        parked.clear();
        return resumed;
    }

    // ---- planned moves --------------------------------------------------------------------------------

    /**
     * The server of {@code gen} asks the connection to leave (a lame-duck notice, or it refuses sends
     * for want of quorum): LEAVING, toward {@code target} (empty: any server). Returns the move to
     * start, or null if that link is not the current one or a move is already under way.
     */
    synchronized Move leave(long gen, String target, String why, long pauseMs) {
        Link l = link;
        if ((state != State.CONNECTED && state != State.FAILBACK_DUE) || l == null || l.gen() != gen) {
            return null;
        }
        this.target = target;
        leaveDeadlineNs = nanoClock.getAsLong() + leaveTimeoutNs + pauseMs * 1_000_000L;
        transition(State.LEAVING, why + (target.isEmpty() ? "" : "; moving to " + target));
        return new Move(l, target, why, pauseMs);
    }

    /** The node this connection failed over from is back at {@code target} (a FAILBACK notice on the link of {@code gen}). */
    synchronized void failbackDue(long gen, String target) {
        Link l = link;
        if (state == State.CONNECTED && l != null && l.gen() == gen && !target.isEmpty()) {
            this.target = target;
            transition(State.FAILBACK_DUE, "the node this connection failed over from is back at " + target);
        }
    }

    /**
     * Checked after every acknowledgement, commit, recover and close: if a failback is due and
     * {@code free} says the connection holds nothing of the current link, the move back starts.
     */
    synchronized Move failbackIfFree(java.util.function.LongPredicate holds) {
        Link l = link;
        if (state != State.FAILBACK_DUE || l == null || holds.test(l.gen())) {
            return null;
        }
        return leave(l.gen(), target, "failback: the server asks this connection to move to " + target
                + " (the node it failed over from is back, or a member joined and the connections spread)", 0);
    }

    /** True once a LEAVING move may leave: no open transaction on its link, or its deadline passed. */
    synchronized boolean mayLeave(boolean openTransactions) {
        return !openTransactions || nanoClock.getAsLong() - leaveDeadlineNs >= 0;
    }

    /**
     * Waits while the move off {@code m.from()} lets open transactions end ({@code open} says whether
     * any is open on it; {@link #wake} after a transaction ends), then leaves the link: MOVING, the
     * link retiring. Returns false if the move was overtaken (the link broke, or the connection closed).
     */
    synchronized boolean awaitLeft(Move m, java.util.function.BooleanSupplier open) throws InterruptedException {
        return awaitTransactionsEnded(m, open) && leave(m);
    }

    /**
     * The waiting part of {@link #awaitLeft}: true once no transaction is open on the link (or the
     * move's deadline passed), while it is still LEAVING it; false if the move was overtaken.
     */
    synchronized boolean awaitTransactionsEnded(Move m, java.util.function.BooleanSupplier open) throws InterruptedException {
        while (state == State.LEAVING && link == m.from() && !mayLeave(open.getAsBoolean())) {
            long leftMs = Math.max(1, (leaveDeadlineNs - nanoClock.getAsLong()) / 1_000_000L);
            wait(leftMs);
        }
        return state == State.LEAVING && link == m.from();
    }

    /** Leaves the link of the move now: MOVING, the link retiring; false if the move was overtaken. */
    synchronized boolean leave(Move m) {
        if (state != State.LEAVING || link != m.from()) {
            return false;
        }
        retiring.add(m.from()); // from now on, what concerns its deliveries goes over it as a retiring link
        transition(State.MOVING, m.why() + (m.target().isEmpty() ? "" : "; moving to " + m.target()));
        return true;
    }

    /** A transaction is about to begin: waits while a planned move is under way. */
    synchronized void awaitNoMove() throws InterruptedException {
        while (state.holdsTransactions()) {
            wait();
        }
    }

    /** Something a waiter depends on changed (a transaction ended). */
    synchronized void wake() {
        notifyAll();
    }

    // ---- requests without a link ------------------------------------------------------------------

    /**
     * The link to send {@code request} on, or null after parking it until the next link: while there
     * is none, or while the current one is {@code refusedBy} (a link that just refused it).
     */
    synchronized Link linkOrPark(W request, Link refusedBy) throws JMSException {
        if (state == State.CLOSED) {
            throw new IllegalStateException("the connection is closed");
        }
        Link l = link;
        if (l == null || l == refusedBy) {
            parked.add(request);
            return null;
        }
        return l;
    }

    /**
     * Waits (up to {@code timeoutMs}) until the link of generation {@code gen} is replaced by a
     * connected one, or the connection is closed: a failover, with its session recovery, is over.
     */
    synchronized void awaitLinkAfter(long gen, long timeoutMs) throws InterruptedException {
        long deadlineNs = nanoClock.getAsLong() + timeoutMs * 1_000_000L;
        while (state != State.CLOSED && (!state.hasLink() || link == null || link.gen() == gen)) {
            long leftMs = (deadlineNs - nanoClock.getAsLong()) / 1_000_000L;
            if (leftMs <= 0) {
                return;
            }
            wait(leftMs);
        }
    }

    // ---- retiring links -----------------------------------------------------------------------------

    /** The link of {@code gen} if it is current or retiring and open; null otherwise. */
    Link linkOf(long gen) {
        Link l = link;
        if (l != null && l.gen() == gen) {
            return l;
        }
        for (Link r : retiring) {
            if (r.gen() == gen && r.transport().isOpen()) {
                return r;
            }
        }
        return null;
    }

    List<Link> retiring() {
        return retiring;
    }

    /** {@code r} is retired (nothing of it is held any more): true if it was still retiring, to be closed. */
    boolean retire(Link r) {
        return retiring.remove(r);
    }

    // ---- the end --------------------------------------------------------------------------------------

    /**
     * CLOSED: returns the links to close (the current one and the retiring ones) and, through
     * {@code parkedOut}, the requests that waited, to be failed.
     */
    synchronized List<Link> close(String reason, List<W> parkedOut) {
        List<Link> toClose = new ArrayList<>();
        if (link != null) {
            toClose.add(link);
        }
        toClose.addAll(retiring);
        retiring.clear();
        acceptingGen = 0;
        transition(State.CLOSED, reason);
        parkedOut.addAll(parked);
        parked.clear();
        return toClose;
    }
}
