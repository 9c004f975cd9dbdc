package io.tern.client.impl;

import io.tern.client.FailoverEvent;
import io.tern.client.FailoverListener;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.Deliver;
import io.tern.protocol.ErrorCode;
import io.tern.protocol.NodeInfo;
import io.tern.protocol.Notice;
import io.tern.protocol.Request;
import io.tern.protocol.Response;
import jakarta.jms.ExceptionListener;
import jakarta.jms.JMSException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Finds a connection its server and moves it: the first connect, the failover after a crash (the
 * same server again, then the failover node the cluster's map names, then the others, then one last
 * multicast search), and the planned moves a server asks for (lame duck, failback, refused sends).
 * Each move ends in {@link #resume}: the new link gets everything the connection had recreated
 * ({@link SessionRebuilder}), then the parked requests. The states it walks through are
 * {@link LinkStates}'.
 */
final class FailoverAgent {
    private static final Logger LOG = LoggerFactory.getLogger(FailoverAgent.class);
    private static final int MAX_REDIRECTS = 3;

    private final TernConnection connection;
    private final ClientConfig config;
    private final TopologyHolder topology;
    private final io.tern.client.ConnectionStrategy<ClientUrl.HostPort> strategy;
    private final LinkStates<RequestRouter.Waiting> states;
    private final AtomicLong generations = new AtomicLong();
    private final ExecutorService events;
    private volatile FailoverListener failoverListener;
    /** Names this connection for its whole life, across failovers: sessions recover under it. */
    private final String connectionKey = java.util.UUID.randomUUID().toString();
    private final CredentialGuard guard;
    private final ClientEvents meters;

    FailoverAgent(TernConnection connection, ClientConfig config, TopologyHolder topology,
                  io.tern.client.ConnectionStrategy<ClientUrl.HostPort> strategy, LinkStates<RequestRouter.Waiting> states,
                  FailoverListener failoverListener, ClientEvents meters, ExecutorService events) {
        this.meters = meters;
        this.connection = connection;
        this.config = config;
        this.topology = topology;
        this.strategy = strategy;
        this.states = states;
        this.failoverListener = failoverListener;
        this.events = events;
        this.guard = new CredentialGuard(config, topology::topology);
    }

    /** The application closed the connection: counted, as its opening was. */
    void closedByApplication() {
        meters.closed();
    }

    void setFailoverListener(FailoverListener listener) {
        failoverListener = listener;
    }

    // ---- the first connect -------------------------------------------------------------------------

    /**
     * Tries the servers in the strategy's order; the error names each one tried and why it failed.
     * While a server answers that it is not ready yet (it is starting, or checking whether it was
     * taken over) and failover is on, tries again, for up to the call timeout.
     */
    void connectFirst() throws JMSException {
        long deadlineNs = states.nanoTime() + config.callTimeoutMs() * 1_000_000L;
        while (true) {
            try {
                LinkStates.Link l = connectOnce();
                states.connected(l, "connected to " + config.uri(l.server()));
                meters.opened();
                return;
            } catch (JMSException e) {
                if (!config.failover() || !ErrorCode.NOT_READY.name().equals(e.getErrorCode())
                        || states.nanoTime() - deadlineNs > 0) {
                    throw e;
                }
                LOG.debug("No server is ready yet ({}); trying again", e.getMessage());
                sleepJittered(100);
            }
        }
    }

    private LinkStates.Link connectOnce() throws JMSException {
        if (config.url().isMulticast()) {
            guard.checkMulticast();
        }
        List<ClientUrl.HostPort> servers = config.url().isMulticast()
                ? List.of(MulticastLocator.locate(config.url(), Set.of())) : strategy.order(config.url().servers());
        StringBuilder tried = new StringBuilder();
        JMSException last = null;
        boolean allNotReady = true;
        for (ClientUrl.HostPort hp : servers) {
            try {
                return open(hp, null, false, config.callTimeoutMs());
            } catch (JMSException e) {
                last = e;
                allNotReady &= ErrorCode.NOT_READY.name().equals(e.getErrorCode());
                tried.append(tried.length() == 0 ? "" : "; ").append(hp).append(": ").append(e.getMessage());
            }
        }
        if (servers.size() == 1) {
            throw last;
        }
        JMSException all = new JMSException("could not connect to any of " + servers.size() + " servers (" + tried + ")",
                allNotReady ? ErrorCode.NOT_READY.name() : null);
        all.setLinkedException(last);
        throw all;
    }

    /**
     * Connects to {@code server} and says hello; deliveries on the new link are accepted from now on.
     * {@code fromNode} is the node this connection fails over from (null otherwise): a server that does
     * not own that node's messages redirects the client to the one that does, at most
     * {@value #MAX_REDIRECTS} times. {@code holdsNothing}: the connection holds nothing of that node
     * ({@link Request.Hello#holdsNothing}).
     */
    private LinkStates.Link open(ClientUrl.HostPort server, String fromNode, boolean holdsNothing, long helloTimeoutMs)
            throws JMSException {
        ClientUrl.HostPort target = server;
        for (int redirects = 0; ; redirects++) {
            long gen = generations.incrementAndGet();
            Transport t = Transport.connect(target.host(), target.port(), config.tls(), config.connectTimeoutMs(),
                    Math.min(config.connectTimeoutMs(), helloTimeoutMs), config.heartbeatMs(), topology, new LinkListener(gen));
            Response welcome;
            try {
                welcome = t.call(new Request.Hello(config.user(), config.password(), "tern-client", connectionKey, fromNode,
                        holdsNothing), helloTimeoutMs);
            } catch (JMSException e) {
                t.close();
                throw e;
            }
            if (welcome instanceof Response.Redirect r) {
                t.close();
                ClientUrl.HostPort next = ClientUrl.hostPortOf(r.uri());
                if (next != null && !guard.mayTell(next)) {
                    throw new JMSException(config.uri(target) + " redirected to " + r.uri() + " (" + r.reason()
                            + "); not followed: the password would go to a server of an unsigned cluster list");
                }
                if (next == null || redirects >= MAX_REDIRECTS) {
                    throw new JMSException(config.uri(target) + " redirected to " + r.uri() + " ("
                            + r.reason() + "); " + (next == null ? "not a tern:// address" : "too many redirects"));
                }
                LOG.info("{} redirects this connection to {}: {}", config.uri(target), config.uri(next), r.reason());
                target = next;
                continue;
            }
            String nodeId = "";
            if (welcome instanceof Response.Welcome w) {
                connection.maxFrameSize(w.maxFrameSize());
                nodeId = w.nodeId();
            }
            LOG.debug("Connected to {} ({})", target, welcome);
            states.accept(gen);
            strategy.connected(target);
            return new LinkStates.Link(t, gen, target, nodeId);
        }
    }

    /** Routes what a transport reports to this connection, tagged with the link's generation. */
    private final class LinkListener implements Transport.Listener {
        private final long gen;

        LinkListener(long gen) {
            this.gen = gen;
        }

        @Override
        public void onDeliver(Deliver deliver) {
            if (gen != states.accepting()) {
                return; // a delivery from a link being left: its server takes it back
            }
            connection.delivered(deliver, gen);
        }

        @Override
        public void onNotice(Notice notice) {
            LinkStates.Link l = states.link();
            if (l == null || l.gen() != gen) {
                return;
            }
            if (notice.kind() == Notice.Kind.LAME_DUCK) {
                leave(l, notice.target(), config.uri(l.server()) + " is shutting down or draining (lame-duck notice)", 0);
            } else if (notice.kind() == Notice.Kind.FAILBACK && !notice.target().isEmpty()
                    && ClientUrl.hostPortOf(notice.target()) != null && guard.mayTell(ClientUrl.hostPortOf(notice.target()))) {
                states.failbackDue(gen, notice.target());
                checkFailback();
            }
        }

        @Override
        public void onClosed(Throwable cause) {
            linkLost(gen, cause);
        }
    }

    // ---- failover after a crash ------------------------------------------------------------------------

    /** The link of generation {@code gen} broke: fail over, unless it was already left or the server said why. */
    void linkLost(long gen, Throwable cause) {
        LinkStates.Link current = states.link();
        if (current == null || current.gen() != gen) {
            states.lost(gen, ""); // at most a retiring link: dropped
            return;
        }
        if (!config.failover() || !(cause instanceof LinkLostException)) {
            connection.fail(JmsErrors.wrap("connection to " + config.uri(current.server()) + " lost", cause));
            return;
        }
        LinkStates.Link lost = states.lost(gen, "connection to " + config.uri(current.server()) + " lost: " + cause.getMessage());
        if (lost == null) {
            return;
        }
        connection.wakeConsumers();
        event(FailoverEvent.Kind.STARTED, lost.server(), null, cause.getMessage(), false, List.of());
        String why = "the connection to " + config.uri(lost.server()) + " broke (" + cause.getMessage() + ")";
        boolean silence = ((LinkLostException) cause).silence;
        startThread("tern-failover", () -> failover(lost, why, silence));
    }

    /**
     * True if this connection holds nothing of the link it lost: it only sends (no consumer, so no
     * delivery unacknowledged, nor an automatic acknowledgement still on its way) and has no open
     * transaction. Then the lost server's failover node can take it at once.
     */
    private boolean holdsNothing(LinkStates.Link lost) {
        return !connection.consumes() && !connection.holds(lost.gen()) && !connection.openTransactions();
    }

    /**
     * After a crash: retries the same server with jittered back-off (a pulled cable is not a dead
     * server), then tries the failover node the cluster's map names for it, then walks the other
     * servers by the strategy, then makes one last multicast search. A connection that holds nothing
     * of a server gone silent (paused, or cut off) goes to its failover node at once: that node serves
     * it without waiting to learn whether the server is gone, and keeps one copy of what it resends.
     */
    private void failover(LinkStates.Link lost, String why, boolean silence) {
        List<String> tried = new ArrayList<>();
        long delayMs = config.reconnectDelayMs();
        ClientUrl.HostPort failoverNode = failoverNodeOf(lost.server());
        int attempts = silence && failoverNode != null && holdsNothing(lost) ? 0 : config.reconnectAttempts();
        for (int i = 0; i < attempts && !connection.isClosed(); i++) {
            sleepJittered(delayMs);
            delayMs *= 2;
            // A paused server takes the connection but never answers: the retry gives its handshake and
            // its welcome one heartbeat interval each, not the timeouts (a starting server answers NOT_READY at once).
            if (resume(lost.server(), lost, false, tried, Math.min(config.heartbeatMs(), config.callTimeoutMs()))) {
                return;
            }
        }
        states.giveUpReconnecting(attempts == 0 ? config.uri(lost.server()) + " went silent; this connection holds nothing "
                + "of it and goes to its failover node" : config.uri(lost.server()) + " did not come back after " + attempts
                + " attempts");
        walk(lost, attempts == 0 ? failoverNode : failoverNodeOf(lost.server()), false, why, tried);
    }

    /**
     * The server the cluster's failover map names for {@code server}: it holds the replica of what
     * {@code server} stored and takes over its queues. Null if the map names none.
     */
    private ClientUrl.HostPort failoverNodeOf(ClientUrl.HostPort server) {
        ClusterTopology t = topology.topology();
        if (t == null) {
            return null;
        }
        String uri = config.uri(server);
        for (NodeInfo n : t.members()) {
            if (n.clientUris().contains(uri)) {
                for (io.tern.protocol.FailoverInfo f : t.failover().getOrDefault(n.nodeId(), List.of())) {
                    for (String u : f.clientUris()) {
                        ClientUrl.HostPort hp = ClientUrl.hostPortOf(u);
                        if (hp != null && guard.mayTell(hp)) {
                            return hp;
                        }
                    }
                }
            }
        }
        return null;
    }

    /**
     * Tries {@code first} (the lame-duck notice's target, may be null), then every other server, then
     * multicast; round after round with back-off until one takes the connection or the failover
     * timeout passes. A round can fail while the cluster settles: a node that died during its own
     * takeover is still in the others' view for the failure-detection time, and they send its clients
     * to it.
     */
    private void walk(LinkStates.Link lost, ClientUrl.HostPort first, boolean planned, String why, List<String> tried) {
        long startNs = states.nanoTime();
        long pauseMs = config.reconnectDelayMs();
        int rounds = 1;
        while (!walkOnce(lost, first, planned, tried)) {
            long elapsedMs = (states.nanoTime() - startNs) / 1_000_000L;
            if (connection.isClosed() || elapsedMs + pauseMs > config.failoverTimeoutMs()) {
                JMSException e = new JMSException("failover from " + config.uri(lost.server()) + " failed after " + rounds
                        + " round(s) in " + elapsedMs + " ms; tried " + (tried.isEmpty()
                        ? "nothing: no other server is known" : String.join("; ", tried)) + guard.skipped()
                        + ". It began because " + why);
                connection.fail(e);
                event(FailoverEvent.Kind.FAILED, lost.server(), null, e.getMessage(), planned, List.of());
                return;
            }
            LOG.info("Failover from {}: no server took the connection ({}); next round in about {} ms",
                    config.uri(lost.server()), String.join("; ", tried), pauseMs);
            sleepJittered(pauseMs);
            pauseMs = Math.min(pauseMs * 2, 1000);
            tried.clear();
            rounds++;
        }
    }

    /** One round of {@link #walk}; true once a server took the connection (or it was closed). */
    private boolean walkOnce(LinkStates.Link lost, ClientUrl.HostPort first, boolean planned, List<String> tried) {
        Set<ClientUrl.HostPort> failed = new HashSet<>();
        failed.add(lost.server());
        if (first != null && !first.equals(lost.server())) {
            if (resume(first, lost, planned, tried, config.callTimeoutMs())) {
                return true;
            }
            failed.add(first);
        }
        for (ClientUrl.HostPort hp : strategy.order(knownServers())) {
            if (connection.isClosed()) {
                return true;
            }
            if (!failed.contains(hp)) {
                if (resume(hp, lost, planned, tried, config.callTimeoutMs())) {
                    return true;
                }
                failed.add(hp);
            }
        }
        if (config.url().isMulticast() && !connection.isClosed()) {
            try {
                guard.checkMulticast();
                ClientUrl.HostPort found = MulticastLocator.locate(config.url(), failed);
                if (resume(found, lost, planned, tried, config.callTimeoutMs())) {
                    return true;
                }
            } catch (JMSException e) {
                tried.add("multicast search: " + e.getMessage());
            }
        }
        return connection.isClosed();
    }

    /** Every server this client knows of: the cluster list the servers sent, then the URL's own list. */
    private List<ClientUrl.HostPort> knownServers() {
        List<ClientUrl.HostPort> all = new ArrayList<>();
        ClusterTopology t = topology.topology();
        if (t != null) {
            for (NodeInfo n : t.members()) {
                for (String uri : n.clientUris()) {
                    ClientUrl.HostPort hp = ClientUrl.hostPortOf(uri);
                    if (hp != null && !all.contains(hp) && guard.mayTell(hp)) {
                        all.add(hp);
                    }
                }
            }
        }
        if (!config.url().isMulticast()) {
            for (ClientUrl.HostPort hp : config.url().servers()) {
                if (!all.contains(hp)) {
                    all.add(hp);
                }
            }
        }
        return all;
    }

    /**
     * Connects to {@code server} (waiting up to {@code helloTimeoutMs} for its welcome) and recreates
     * everything this connection had. Then requests flow again, the parked ones first.
     */
    private boolean resume(ClientUrl.HostPort first, LinkStates.Link lost, boolean planned, List<String> tried,
                           long helloTimeoutMs) {
        LinkStates.Link l;
        try {
            l = open(first, planned ? null : lost.nodeId(), !planned && holdsNothing(lost), helloTimeoutMs);
        } catch (JMSException e) {
            tried.add(first + ": " + e.getMessage());
            return false;
        }
        ClientUrl.HostPort server = l.server(); // where the redirects, if any, led
        Set<Integer> recoveredTransactions;
        try {
            recoveredTransactions = new SessionRebuilder(connection, config.callTimeoutMs()).rebuild(l, planned ? null : lost);
        } catch (JMSException e) {
            states.acceptNone();
            l.transport().close();
            tried.add(server + ": " + e.getMessage());
            return false;
        }
        List<RequestRouter.Waiting> parked = states.connected(l, (planned ? "moved" : "failed over") + " from "
                + config.uri(lost.server()) + " to " + config.uri(server));
        if (parked == null) {
            l.transport().close(); // closed meanwhile
            return true;
        }
        if (!planned) {
            // A link lost to silence stayed open (Transport.suspended): the connection has moved on now.
            lost.transport().close();
        }
        List<String> doubt = connection.router().takeInDoubt();
        if (server.equals(lost.server())) {
            doubt = List.of();
        }
        if (!doubt.isEmpty()) {
            LOG.warn("{} persistent send(s) were in flight when {} failed and were resent to {}, which "
                    + "drops any it holds the old server's duplicate ids for (replication); without replication, if the "
                    + "old server stored them and comes back, they exist twice: {}", doubt.size(), config.uri(lost.server()), config.uri(server), doubt);
        }
        event(FailoverEvent.Kind.COMPLETED, lost.server(), server, planned ? "planned move" : "failover", planned, doubt);
        connection.wakeConsumers();
        connection.router().resume(parked, recoveredTransactions);
        return true;
    }

    // ---- planned moves -----------------------------------------------------------------------------

    /**
     * The server of {@code from} asks this connection to leave (or refuses its sends): unless a move
     * is already under way, one starts on its own thread, pausing {@code pauseMs} (with jitter) first.
     */
    void leave(LinkStates.Link from, String target, String why, long pauseMs) {
        LinkStates.Move m = states.leave(from.gen(), target, why, pauseMs);
        if (m != null) {
            startThread("tern-move", () -> move(m));
        }
    }

    /**
     * A planned move: let open transactions end, let requests in flight be answered, hand back what
     * consumers hold buffered, then resume on the target (or any other server). The old link stays
     * open while the application still holds unacknowledged messages from it, so that their
     * acknowledgements reach the server that has them.
     */
    private void move(LinkStates.Move m) {
        LinkStates.Link from = m.from();
        try {
            if (m.pauseMs() > 0) {
                sleepJittered(m.pauseMs()); // refused again right after a move: give the cluster a moment to heal
            }
            if (!states.awaitTransactionsEnded(m, () -> connection.openTransactionsOn(from.gen()))) {
                return;
            }
            event(FailoverEvent.Kind.STARTED, from.server(), null, m.why(), true, List.of());
            from.transport().awaitIdle(config.callTimeoutMs());
            states.acceptNone();
            connection.handBack(from);
            // Still the current link: an acknowledgement of what the application holds goes over it, and if
            // its node fails meanwhile, the failover settles it where that node's messages go.
            awaitReleased(from.gen());
            if (!states.leave(m)) {
                return;
            }
            ClientUrl.HostPort target = m.target().isEmpty() ? null : ClientUrl.hostPortOf(m.target());
            walk(from, target != null && guard.mayTell(target) ? target : null, true, m.why(), new ArrayList<>());
            retireIfDone();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Moves back to the node this connection failed over from, once it is back (a FAILBACK notice)
     * and this connection holds no unacknowledged message and no open transaction. Checked on the
     * notice and after every acknowledgement, commit, recover and close.
     */
    void checkFailback() {
        LinkStates.Move m = states.failbackIfFree(gen -> connection.holds(gen) || connection.openTransactions());
        if (m != null) {
            startThread("tern-move", () -> move(m));
        }
    }

    /** How long a planned move waits for the application to acknowledge what it holds of the link it leaves. */
    private static final long RELEASE_WAIT_MS = 2_000;
    private final Object released = new Object();
    private long settlements; // guarded by released: how often the application settled something

    /**
     * Waits (at most {@link #RELEASE_WAIT_MS}) until the application holds nothing it must still
     * acknowledge of the link of {@code gen} ({@link TernConnection#holdsToAcknowledge}); what it
     * holds then is acknowledged over that link as a retiring one.
     * The connection is asked outside the monitor (it takes the sessions' locks).
     */
    private void awaitReleased(long gen) throws InterruptedException {
        long deadlineNs = states.nanoTime() + RELEASE_WAIT_MS * 1_000_000L;
        while (true) {
            long seen;
            synchronized (released) {
                seen = settlements;
            }
            if (!connection.holdsToAcknowledge(gen)) {
                return;
            }
            synchronized (released) {
                long leftMs = (deadlineNs - states.nanoTime()) / 1_000_000L;
                if (leftMs <= 0) {
                    return;
                }
                if (settlements == seen) {
                    released.wait(leftMs);
                }
            }
        }
    }

    /** Closes links left by a move once the application holds nothing of theirs. */
    void retireIfDone() {
        synchronized (released) {
            settlements++;
            released.notifyAll();
        }
        checkFailback();
        for (LinkStates.Link r : states.retiring()) {
            if (!connection.holds(r.gen()) && r.transport().inFlight() == 0 && states.retire(r)) {
                LOG.debug("Leaving {}: nothing of it is held any more", config.uri(r.server()));
                r.transport().close();
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------

    void event(FailoverEvent.Kind kind, ClientUrl.HostPort from, ClientUrl.HostPort to, String reason,
               boolean planned, List<String> doubt) {
        FailoverListener a = failoverListener;
        ExceptionListener e = connection.exceptionListenerOrNull();
        FailoverListener b = e instanceof FailoverListener f && f != a ? f : null;
        if (a == null && b == null && meters == ClientEvents.NONE) {
            return;
        }
        FailoverEvent event = new FailoverEvent(kind, from.toString(), to == null ? "" : to.toString(), reason, planned, doubt);
        meters.failover(event);
        if (a == null && b == null) {
            return;
        }
        events.execute(() -> {
            for (FailoverListener l : new FailoverListener[] {a, b}) {
                if (l != null) {
                    try {
                        l.onFailover(event);
                    } catch (RuntimeException ex) {
                        LOG.warn("Failover listener threw", ex);
                    }
                }
            }
        });
    }

    private static void startThread(String name, Runnable task) {
        Thread t = new Thread(task, name);
        t.setDaemon(true);
        t.start();
    }

    private static void sleepJittered(long delayMs) {
        long jittered = (long) (delayMs * (0.5 + java.util.concurrent.ThreadLocalRandom.current().nextDouble()));
        try {
            Thread.sleep(Math.max(1, jittered)); // a back-off between reconnection attempts, not a wait for a condition
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

}
