package io.tern.client.impl;

import io.tern.client.FailoverEvent;
import io.tern.client.FailoverListener;
import io.tern.client.TemporaryDestinationOwner;
import io.tern.client.TernDestination;
import io.tern.client.TernTemporaryQueue;
import io.tern.client.TernTemporaryTopic;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.Deliver;
import io.tern.protocol.NodeInfo;
import io.tern.protocol.Notice;
import io.tern.protocol.DestinationName;
import io.tern.protocol.ErrorCode;
import io.tern.protocol.Request;
import io.tern.protocol.Response;
import jakarta.jms.Connection;
import jakarta.jms.ConnectionConsumer;
import jakarta.jms.ConnectionMetaData;
import jakarta.jms.Destination;
import jakarta.jms.ExceptionListener;
import jakarta.jms.IllegalStateException;
import jakarta.jms.JMSException;
import jakarta.jms.Queue;
import jakarta.jms.QueueConnection;
import jakarta.jms.QueueSession;
import jakarta.jms.ServerSessionPool;
import jakarta.jms.Session;
import jakarta.jms.Topic;
import jakarta.jms.TopicConnection;
import jakarta.jms.TopicSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Jakarta Messaging connection. It talks to one server at a time over a {@link Transport} (a
 * <em>link</em>); when the link breaks it fails over by itself (see {@link #failover}), and when the
 * server sends a lame-duck notice it moves (see {@link #move}).
 *
 * <p>States, changed only by {@link #transition}: CONNECTED (a link serves requests), RECONNECTING
 * (the link broke; retrying the same server), FAILING_OVER (walking the other servers), CLOSED.
 * Requests made while there is no link wait for one; a request whose link broke under it is resent,
 * answered, or failed as {@link #afterLinkLost} decides.
 */
public final class TernConnection implements Connection, QueueConnection, TopicConnection, TemporaryDestinationOwner {
    private static final Logger LOG = LoggerFactory.getLogger(TernConnection.class);

    enum State { CONNECTED, RECONNECTING, FAILING_OVER, CLOSED }

    /** One transport to one server; deliveries are tagged with the generation of the link they came on. */
    record Link(Transport transport, long gen, ClientUrl.HostPort server, String nodeId) {
    }

    /** A request waiting for a link, with the future its caller holds. */
    /** A request waiting for a link; {@code refusals}: how often its node refused it for want of quorum, since {@code refusedSinceNs}. */
    private record Waiting(Request request, Runnable onArrival, CompletableFuture<Response> result, int refusals,
                           long refusedSinceNs) {
    }

    private enum AfterLoss { RESEND, DONE, UNKNOWN }

    private final ClientConfig config;
    private final TopologyHolder topology;
    private final io.tern.client.ConnectionStrategy<ClientUrl.HostPort> strategy;
    private final Object linkLock = new Object();
    private State state = State.CONNECTED;           // guarded by linkLock
    private volatile Link link;                      // written under linkLock; null unless CONNECTED
    private Link movingFrom;                         // guarded by linkLock; the link a planned move leaves
    private final List<Waiting> waiting = new ArrayList<>(); // guarded by linkLock
    /** Links left by a planned move that still carry acknowledgements of what the application holds. */
    private final List<Link> retiring = new CopyOnWriteArrayList<>();
    private final AtomicLong generations = new AtomicLong();
    /** Deliveries are accepted only from the link of this generation (0: from none). */
    private volatile long acceptingGen;
    /** A planned move is waiting for open transactions to end; no new transaction may begin. */
    private volatile boolean moving;
    private final List<String> inDoubt = new CopyOnWriteArrayList<>();
    /** Sessions whose open transaction the last failover carried over: their parked sends went with it. */
    private final Set<Integer> recoveredTransactions = ConcurrentHashMap.newKeySet();
    /** Where the node this connection failed over from is back (a FAILBACK notice), until it moves there. */
    private volatile String failbackTarget;
    /** Names this connection for its whole life, across failovers: sessions recover under it. */
    private final String connectionKey = java.util.UUID.randomUUID().toString();
    private static final int MAX_REDIRECTS = 3;
    private final Map<Integer, TernSession> sessions = new ConcurrentHashMap<>();
    private final Map<Long, TernMessageConsumer> consumers = new ConcurrentHashMap<>();
    private final Map<String, DestinationName.Kind> temporaries = new ConcurrentHashMap<>();
    private final AtomicInteger sessionIds = new AtomicInteger();
    private final AtomicLong consumerIds = new AtomicLong();
    final Semaphore producerWindow;
    private final Object startLock = new Object();
    private final ExecutorService events;
    private volatile boolean started;
    private volatile boolean closed;
    private volatile JMSException failure;
    private volatile ExceptionListener exceptionListener;
    private volatile FailoverListener failoverListener;
    private String clientId;
    private volatile boolean clientIdLocked;
    private volatile int maxFrameSize = io.tern.protocol.Handshake.DEFAULT_MAX_FRAME_SIZE;

    public TernConnection(ClientConfig config, TopologyHolder topology,
                          io.tern.client.ConnectionStrategy<ClientUrl.HostPort> strategy,
                          FailoverListener failoverListener) throws JMSException {
        this.config = config;
        this.topology = topology;
        this.strategy = strategy;
        this.failoverListener = failoverListener;
        this.producerWindow = new Semaphore(config.producerWindowBytes());
        this.link = connectFirst();
        this.events = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tern-connection-events");
            t.setDaemon(true);
            return t;
        });
        if (config.clientId() != null) {
            setClientIdOnServer(config.clientId());
            clientIdLocked = true;
        }
    }

    /**
     * Tries the servers in the strategy's order; the error names each one tried and why it failed.
     * While a server answers that it is not ready yet (it is starting, or checking whether it was
     * taken over) and failover is on, tries again, for up to the call timeout.
     */
    private Link connectFirst() throws JMSException {
        long deadlineNs = System.nanoTime() + config.callTimeoutMs() * 1_000_000L;
        while (true) {
            try {
                return connectOnce();
            } catch (JMSException e) {
                if (!config.failover() || !ErrorCode.NOT_READY.name().equals(e.getErrorCode())
                        || System.nanoTime() - deadlineNs > 0) {
                    throw e;
                }
                LOG.debug("No server is ready yet ({}); trying again", e.getMessage());
                sleepJittered(100);
            }
        }
    }

    private Link connectOnce() throws JMSException {
        List<ClientUrl.HostPort> servers = config.url().isMulticast()
                ? List.of(MulticastLocator.locate(config.url(), Set.of())) : strategy.order(config.url().servers());
        StringBuilder tried = new StringBuilder();
        JMSException last = null;
        boolean allNotReady = true;
        for (ClientUrl.HostPort hp : servers) {
            try {
                return open(hp, null, config.callTimeoutMs());
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
     * {@value #MAX_REDIRECTS} times.
     */
    private Link open(ClientUrl.HostPort server, String fromNode, long helloTimeoutMs) throws JMSException {
        ClientUrl.HostPort target = server;
        for (int redirects = 0; ; redirects++) {
            long gen = generations.incrementAndGet();
            Transport t = Transport.connect(target.host(), target.port(), config.connectTimeoutMs(),
                    Math.min(config.connectTimeoutMs(), helloTimeoutMs), config.heartbeatMs(), topology, new LinkListener(gen));
            Response welcome;
            try {
                welcome = t.call(new Request.Hello(config.user(), config.password(), "tern-client", connectionKey, fromNode),
                        helloTimeoutMs);
            } catch (JMSException e) {
                t.close();
                throw e;
            }
            if (welcome instanceof Response.Redirect r) {
                t.close();
                ClientUrl.HostPort next = ClientUrl.hostPortOf(r.uri());
                if (next == null || redirects >= MAX_REDIRECTS) {
                    throw new JMSException("tern://" + target + " redirected to " + r.uri() + " ("
                            + r.reason() + "); " + (next == null ? "not a tern:// address" : "too many redirects"));
                }
                LOG.info("tern://{} redirects this connection to tern://{}: {}", target, next, r.reason());
                target = next;
                continue;
            }
            String nodeId = "";
            if (welcome instanceof Response.Welcome w) {
                maxFrameSize = w.maxFrameSize();
                nodeId = w.nodeId();
            }
            LOG.debug("Connected to {} ({})", target, welcome);
            acceptingGen = gen;
            strategy.connected(target);
            return new Link(t, gen, target, nodeId);
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
            if (gen != acceptingGen) {
                return; // a delivery from a link being left: its server takes it back
            }
            TernMessageConsumer c = consumers.get(deliver.consumerId());
            if (c != null) {
                c.arrived(deliver, gen);
            }
        }

        @Override
        public void onNotice(Notice notice) {
            Link l = currentLink();
            if (l == null || l.gen() != gen) {
                return;
            }
            if (notice.kind() == Notice.Kind.LAME_DUCK) {
                startMove(l, notice.target(), "tern://" + l.server() + " is shutting down or draining (lame-duck notice)");
            } else if (notice.kind() == Notice.Kind.FAILBACK && !notice.target().isEmpty()) {
                failbackTarget = notice.target();
                failBackIfFree();
            }
        }

        @Override
        public void onClosed(Throwable cause) {
            linkLost(gen, cause);
        }
    }

    // ---- state ------------------------------------------------------------------------------------

    /** The one place the state changes; logs {@code old -> new (reason)}. Call holding linkLock. */
    private void transition(State to, String reason) {
        State from = state;
        if (from == to) {
            return;
        }
        state = to;
        if (to == State.CLOSED || from == State.CLOSED) {
            LOG.debug("Connection {} -> {} ({})", from, to, reason);
        } else {
            LOG.info("Connection {} -> {} ({})", from, to, reason);
        }
        linkLock.notifyAll();
    }

    /** The current link, read without the lock: every acknowledgement asks for it. */
    private Link currentLink() {
        return link;
    }

    /**
     * Waits (up to the call timeout) until the link of generation {@code gen} is replaced by a
     * connected one, or the connection is closed: a failover, with its session recovery, is over.
     */
    void awaitLinkAfter(long gen) throws JMSException {
        long deadlineNs = System.nanoTime() + config.callTimeoutMs() * 1_000_000L;
        synchronized (linkLock) {
            while (state != State.CLOSED && (state != State.CONNECTED || link == null || link.gen() == gen)) {
                long leftMs = (deadlineNs - System.nanoTime()) / 1_000_000L;
                if (leftMs <= 0) {
                    return;
                }
                try {
                    linkLock.wait(leftMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw JmsErrors.wrap("interrupted waiting for the failover", e);
                }
            }
        }
    }

    /** The generation of the current link, or 0 while there is none. */
    long generation() {
        Link l = currentLink();
        return l == null ? 0 : l.gen();
    }

    private void startThread(String name, Runnable task) {
        Thread t = new Thread(task, name);
        t.setDaemon(true);
        t.start();
    }

    /** The link of generation {@code gen} broke: fail over, unless it was already left or the server said why. */
    private void linkLost(long gen, Throwable cause) {
        Link lost;
        synchronized (linkLock) {
            retiring.removeIf(r -> r.gen() == gen);
            if (state != State.CONNECTED || link == null || link.gen() != gen) {
                return;
            }
            lost = link;
            link = null;
            acceptingGen = 0;
            if (!config.failover() || !(cause instanceof LinkLostException)) {
                fail(JmsErrors.wrap("connection to tern://" + lost.server() + " lost", cause));
                return;
            }
            transition(State.RECONNECTING, "connection to tern://" + lost.server() + " lost: " + cause.getMessage());
        }
        consumers.values().forEach(TernMessageConsumer::wake);
        event(FailoverEvent.Kind.STARTED, lost.server(), null, cause.getMessage(), false);
        startThread("tern-failover", () -> failover(lost, cause));
    }

    // ---- failover ---------------------------------------------------------------------------------

    /**
     * After a crash: retries the same server with jittered back-off (a pulled cable is not a dead
     * server), then tries the failover node the cluster's map names for it, then walks the other
     * servers by the strategy, then makes one last multicast search.
     */
    private void failover(Link lost, Throwable cause) {
        List<String> tried = new ArrayList<>();
        long delayMs = config.reconnectDelayMs();
        for (int i = 0; i < config.reconnectAttempts() && !closed; i++) {
            sleepJittered(delayMs);
            delayMs *= 2;
            // A paused server takes the connection but never answers: the retry gives its handshake and
            // its welcome one heartbeat interval each, not the timeouts (a starting server answers NOT_READY at once).
            if (resume(lost.server(), lost, false, tried, Math.min(config.heartbeatMs(), config.callTimeoutMs()))) {
                return;
            }
        }
        synchronized (linkLock) {
            if (state == State.RECONNECTING) {
                transition(State.FAILING_OVER, "tern://" + lost.server() + " did not come back after "
                        + config.reconnectAttempts() + " attempts");
            }
        }
        walk(lost, failoverNodeOf(lost.server()), false, tried);
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
        String uri = "tern://" + server;
        for (NodeInfo n : t.members()) {
            if (n.clientUris().contains(uri)) {
                for (io.tern.protocol.FailoverInfo f : t.failover().getOrDefault(n.nodeId(), List.of())) {
                    for (String u : f.clientUris()) {
                        ClientUrl.HostPort hp = ClientUrl.hostPortOf(u);
                        if (hp != null) {
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
    private void walk(Link lost, ClientUrl.HostPort first, boolean planned, List<String> tried) {
        long startNs = System.nanoTime();
        long pauseMs = config.reconnectDelayMs();
        int rounds = 1;
        while (!walkOnce(lost, first, planned, tried)) {
            long elapsedMs = (System.nanoTime() - startNs) / 1_000_000L;
            if (closed || elapsedMs + pauseMs > config.failoverTimeoutMs()) {
                JMSException e = new JMSException("failover from tern://" + lost.server() + " failed after " + rounds
                        + " round(s) in " + elapsedMs + " ms; tried " + (tried.isEmpty()
                        ? "nothing: no other server is known" : String.join("; ", tried)));
                synchronized (linkLock) {
                    if (state != State.CLOSED) {
                        fail(e);
                    }
                }
                event(FailoverEvent.Kind.FAILED, lost.server(), null, e.getMessage(), planned);
                return;
            }
            LOG.info("Failover from tern://{}: no server took the connection ({}); next round in about {} ms",
                    lost.server(), String.join("; ", tried), pauseMs);
            sleepJittered(pauseMs);
            pauseMs = Math.min(pauseMs * 2, 1000);
            tried.clear();
            rounds++;
        }
    }

    /** One round of {@link #walk}; true once a server took the connection (or it was closed). */
    private boolean walkOnce(Link lost, ClientUrl.HostPort first, boolean planned, List<String> tried) {
        Set<ClientUrl.HostPort> failed = new HashSet<>();
        failed.add(lost.server());
        if (first != null && !first.equals(lost.server())) {
            if (resume(first, lost, planned, tried)) {
                return true;
            }
            failed.add(first);
        }
        for (ClientUrl.HostPort hp : strategy.order(knownServers())) {
            if (closed) {
                return true;
            }
            if (!failed.contains(hp)) {
                if (resume(hp, lost, planned, tried)) {
                    return true;
                }
                failed.add(hp);
            }
        }
        if (config.url().isMulticast() && !closed) {
            try {
                ClientUrl.HostPort found = MulticastLocator.locate(config.url(), failed);
                if (resume(found, lost, planned, tried)) {
                    return true;
                }
            } catch (JMSException e) {
                tried.add("multicast search: " + e.getMessage());
            }
        }
        return closed;
    }

    /** Every server this client knows of: the cluster list the servers sent, then the URL's own list. */
    private List<ClientUrl.HostPort> knownServers() {
        List<ClientUrl.HostPort> all = new ArrayList<>();
        ClusterTopology t = topology.topology();
        if (t != null) {
            for (NodeInfo n : t.members()) {
                for (String uri : n.clientUris()) {
                    ClientUrl.HostPort hp = ClientUrl.hostPortOf(uri);
                    if (hp != null && !all.contains(hp)) {
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

    private static void sleepJittered(long delayMs) {
        long jittered = (long) (delayMs * (0.5 + java.util.concurrent.ThreadLocalRandom.current().nextDouble()));
        try {
            Thread.sleep(Math.max(1, jittered)); // a back-off between reconnection attempts, not a wait for a condition
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Connects to {@code server} and recreates everything this connection had: client id, temporary
     * destinations, sessions and consumers. Then requests flow again, the waiting ones first.
     */
    private boolean resume(ClientUrl.HostPort server, Link lost, boolean planned, List<String> tried) {
        return resume(server, lost, planned, tried, config.callTimeoutMs());
    }

    /** As above, waiting up to {@code helloTimeoutMs} for the server's welcome. */
    private boolean resume(ClientUrl.HostPort server, Link lost, boolean planned, List<String> tried, long helloTimeoutMs) {
        Link l;
        try {
            l = open(server, planned ? null : lost.nodeId(), helloTimeoutMs);
        } catch (JMSException e) {
            tried.add(server + ": " + e.getMessage());
            return false;
        }
        recoveredTransactions.clear();
        try {
            recreate(l, planned ? null : lost);
        } catch (JMSException e) {
            acceptingGen = 0;
            l.transport().close();
            tried.add(server + ": " + e.getMessage());
            return false;
        }
        List<Waiting> resumed;
        synchronized (linkLock) {
            if (state == State.CLOSED) {
                l.transport().close();
                return true;
            }
            link = l;
            transition(State.CONNECTED, (planned ? "moved" : "failed over") + " from tern://" + lost.server()
                    + " to tern://" + server);
            resumed = new ArrayList<>(waiting);
            waiting.clear();
        }
        List<String> doubt = server.equals(lost.server()) ? List.of() : List.copyOf(inDoubt);
        inDoubt.clear();
        if (!doubt.isEmpty()) {
            LOG.warn("{} persistent send(s) were in flight when tern://{} failed and were resent to tern://{}, which "
                    + "drops any it holds the old server's duplicate ids for (replication); without replication, if the "
                    + "old server stored them and comes back, they exist twice: {}", doubt.size(), lost.server(), server, doubt);
        }
        event(FailoverEvent.Kind.COMPLETED, lost.server(), server, planned ? "planned move" : "failover", planned, doubt);
        consumers.values().forEach(TernMessageConsumer::wake);
        for (Waiting w : resumed) {
            if (w.request() instanceof Request.Send send && recoveredTransactions.contains(send.sessionId())) {
                w.result().complete(Response.OK); // sent with the recovered transaction already
            } else {
                attempt(w.request(), w.onArrival(), w.result(), w.refusals(), w.refusedSinceNs());
            }
        }
        recoveredTransactions.clear();
        return true;
    }

    /**
     * Recreates on {@code l} what this connection had. After a crash of {@code lost} (null for a
     * planned move, which hands everything back first), each session also recovers what it held from
     * {@code lost}: the server keeps those messages for it, so they can still be acknowledged or
     * committed; an open transaction's sends are sent again.
     */
    private void recreate(Link l, Link lost) throws JMSException {
        Transport t = l.transport();
        long timeout = config.callTimeoutMs();
        String id = clientId;
        if (id != null) {
            t.call(new Request.SetClientId(id), timeout);
        }
        for (Map.Entry<String, DestinationName.Kind> temp : temporaries.entrySet()) {
            t.call(new Request.CreateTemp(temp.getValue(), temp.getKey()), timeout);
        }
        for (TernSession s : sessions.values()) {
            TernSession.Recovery recovery = lost == null ? null : s.recovery(lost.gen());
            t.call(new Request.CreateSession(s.id(), wireMode(s.mode())), timeout);
            for (TernMessageConsumer c : s.consumers()) {
                c.resetForLink();
                t.call(c.createRequest(), timeout);
            }
            if (recovery != null && recovery.run(t, l.gen(), timeout)) {
                recoveredTransactions.add(s.id());
            }
        }
    }

    /**
     * A planned move, on a lame-duck notice from the server of {@code from}: let open transactions
     * end, let requests in flight be answered, hand back what consumers hold buffered, then resume on
     * {@code target} (or any other server). The old link stays open while the application still holds
     * unacknowledged messages from it, so that their acknowledgements reach the server that has them.
     */
    private void move(Link from, String target, String why, long pauseMs) {
        moving = true;
        try {
            if (pauseMs > 0) {
                sleepJittered(pauseMs); // refused again right after a move: give the cluster a moment to heal
            }
            long deadlineNs = System.nanoTime() + config.callTimeoutMs() * 1_000_000L;
            synchronized (linkLock) {
                while (openTransactionsOn(from.gen()) && System.nanoTime() < deadlineNs && link == from) {
                    linkLock.wait(50);
                }
                if (link != from || state != State.CONNECTED) {
                    return;
                }
                link = null;
                retiring.add(from); // from now on, what concerns its deliveries goes over it as a retiring link
                transition(State.FAILING_OVER, why + (target.isEmpty() ? "" : "; moving to " + target));
            }
            event(FailoverEvent.Kind.STARTED, from.server(), null, why, true);
            from.transport().awaitIdle(config.callTimeoutMs());
            acceptingGen = 0;
            for (TernMessageConsumer c : consumers.values()) {
                long[] keep = c.handBack(from.gen());
                from.transport().send(new Request.CloseConsumer(c.id(), keep));
            }
            walk(from, target.isEmpty() ? null : ClientUrl.hostPortOf(target), true, new ArrayList<>());
            retireIfDone();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            moving = false;
            synchronized (linkLock) {
                linkLock.notifyAll();
            }
        }
    }

    /** Starts a planned move off {@code from}, unless one is under way or {@code from} is no longer the link. */
    private void startMove(Link from, String target, String why) {
        startMove(from, target, why, 0);
    }

    /** As above, pausing {@code pauseMs} (with jitter) before the move. */
    private void startMove(Link from, String target, String why, long pauseMs) {
        synchronized (linkLock) {
            if (movingFrom == from || link != from) {
                return;
            }
            movingFrom = from;
        }
        startThread("tern-move", () -> move(from, target, why, pauseMs));
    }

    /** Requests parked while the link was already replaced: send them on the current link. */
    private void resumeWaitingIfConnected() {
        List<Waiting> resumed;
        synchronized (linkLock) {
            if (link == null) {
                return;
            }
            resumed = new ArrayList<>(waiting);
            waiting.clear();
        }
        for (Waiting w : resumed) {
            attempt(w.request(), w.onArrival(), w.result(), w.refusals(), w.refusedSinceNs());
        }
    }

    private boolean openTransactionsOn(long gen) {
        for (TernSession s : sessions.values()) {
            if (s.transactionGen() == gen) {
                return true;
            }
        }
        return false;
    }

    /** A transaction is about to begin: wait while a planned move is letting open transactions end. */
    void awaitNoMove() {
        synchronized (linkLock) {
            while (moving && state != State.CLOSED) {
                try {
                    linkLock.wait(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** A transaction ended: a planned move may be waiting for that. */
    void transactionEnded() {
        failBackIfFree();
        if (moving) {
            synchronized (linkLock) {
                linkLock.notifyAll();
            }
        }
    }

    /** Closes links left by a move once the application holds nothing of theirs. */
    /**
     * Moves back to the node this connection failed over from, once it is back (a FAILBACK notice)
     * and this connection holds no unacknowledged message and no open transaction. Checked on the
     * notice and after every acknowledgement, commit, recover and close.
     */
    private void failBackIfFree() {
        String target = failbackTarget;
        Link l = currentLink();
        if (target == null || l == null || state != State.CONNECTED) {
            return;
        }
        for (TernSession s : sessions.values()) {
            if (s.holds(l.gen()) || s.transactionGen() != 0) {
                return;
            }
        }
        for (TernMessageConsumer c : consumers.values()) {
            if (c.holds(l.gen())) {
                return;
            }
        }
        failbackTarget = null;
        startMove(l, target, "failback: the node this connection failed over from is back");
    }

    void retireIfDone() {
        failBackIfFree();
        if (retiring.isEmpty()) {
            return;
        }
        for (Link r : retiring) {
            boolean held = false;
            for (TernSession s : sessions.values()) {
                held |= s.holds(r.gen());
            }
            for (TernMessageConsumer c : consumers.values()) {
                held |= c.holds(r.gen());
            }
            if (!held && r.transport().inFlight() == 0 && retiring.remove(r)) {
                LOG.debug("Leaving tern://{}: nothing of it is held any more", r.server());
                r.transport().close();
            }
        }
    }

    private void fail(JMSException e) {
        // holds linkLock
        failure = e;
        transition(State.CLOSED, e.getMessage());
        List<Waiting> failed = new ArrayList<>(waiting);
        waiting.clear();
        failed.forEach(w -> w.result().completeExceptionally(e));
        consumers.values().forEach(TernMessageConsumer::wake);
        ExceptionListener l = exceptionListener;
        if (l != null) {
            events.execute(() -> l.onException(e));
        }
    }

    private void event(FailoverEvent.Kind kind, ClientUrl.HostPort from, ClientUrl.HostPort to, String reason, boolean planned) {
        event(kind, from, to, reason, planned, List.of());
    }

    private void event(FailoverEvent.Kind kind, ClientUrl.HostPort from, ClientUrl.HostPort to, String reason,
                       boolean planned, List<String> doubt) {
        FailoverListener a = failoverListener;
        ExceptionListener e = exceptionListener;
        FailoverListener b = e instanceof FailoverListener f && f != a ? f : null;
        if (a == null && b == null) {
            return;
        }
        FailoverEvent event = new FailoverEvent(kind, from.toString(), to == null ? "" : to.toString(), reason, planned, doubt);
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

    /** The server this connection uses now, as {@code host:port}; empty while it fails over or after close. */
    public String server() {
        Link l = currentLink();
        return l == null ? "" : l.server().toString();
    }

    /** Lets an application (or a test) follow this connection's moves. */
    public void setFailoverListener(FailoverListener listener) {
        failoverListener = listener;
    }

    ClientConfig config() {
        return config;
    }

    /** The largest frame the server accepts, as its welcome said. */
    int maxFrameSize() {
        return maxFrameSize;
    }

    public TopologyHolder topology() {
        return topology;
    }

    // ---- requests ---------------------------------------------------------------------------------

    Response call(Request request) throws JMSException {
        return call(request, null);
    }

    /**
     * Sends a request and waits for its answer, across a failover if one happens meanwhile (the
     * call timeout counts from the last time a link was up). An ERROR answer is thrown.
     */
    Response call(Request request, Runnable onArrival) throws JMSException {
        checkUsable();
        CompletableFuture<Response> f = request(request, onArrival);
        long gen = generation();
        Response r;
        while (true) {
            try {
                r = f.get(config.callTimeoutMs(), TimeUnit.MILLISECONDS);
                break;
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                throw c instanceof JMSException j ? j : JmsErrors.wrap(request.getClass().getSimpleName() + " failed", c);
            } catch (TimeoutException e) {
                long now = generation();
                if (now == 0 || now != gen) {
                    gen = now; // a failover ran meanwhile: the request waited for it, not for the server
                    continue;
                }
                throw JmsErrors.wrap(request.getClass().getSimpleName() + " to tern://" + currentLink().server()
                        + " got no answer in " + config.callTimeoutMs() + " ms", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw JmsErrors.wrap("interrupted waiting for the server", e);
            }
        }
        if (r instanceof Response.Error error) {
            throw JmsErrors.toJms(error);
        }
        return r;
    }

    CompletableFuture<Response> request(Request request) {
        return request(request, null);
    }

    /** Sends a request on the current link, or once there is one; the future has the answer. */
    CompletableFuture<Response> request(Request request, Runnable onArrival) {
        CompletableFuture<Response> result = new CompletableFuture<>();
        attempt(request, onArrival, result, 0, 0);
        return result;
    }

    /**
     * A send refused for want of quorum moves on to another server, again and again (a partition,
     * or a split the cluster is healing, can leave more than one node without quorum for a while),
     * with a growing pause between moves, until the call timeout since the first refusal has passed;
     * then the refusal is the answer.
     */
    private void attempt(Request request, Runnable onArrival, CompletableFuture<Response> result, int refusals,
                         long refusedSinceNs) {
        Link l;
        synchronized (linkLock) {
            if (state == State.CLOSED) {
                result.completeExceptionally(failure != null ? failure : new IllegalStateException("the connection is closed"));
                return;
            }
            l = link;
            if (l == null) {
                waiting.add(new Waiting(request, onArrival, result, refusals, refusedSinceNs));
                return;
            }
        }
        l.transport().request(request, onArrival).whenComplete((r, e) -> {
            long since = refusals == 0 ? System.nanoTime() : refusedSinceNs;
            if (e == null && r instanceof Response.Error err && err.code() == ErrorCode.NOT_IN_QUORUM
                    && request instanceof Request.Send && System.nanoTime() - since < config.callTimeoutMs() * 1_000_000L) {
                // The node is in a minority partition: move to another node and send there.
                LOG.info("tern://{} refuses sends ({}); moving to another server", l.server(), err.message());
                synchronized (linkLock) {
                    waiting.add(new Waiting(request, onArrival, result, refusals + 1, since));
                }
                startMove(l, "", "tern://" + l.server() + " refuses sends (no quorum)", Math.min(100L << Math.min(refusals, 4), 1000));
                if (currentLink() != l) {
                    resumeWaitingIfConnected();
                }
            } else if (e == null) {
                result.complete(r);
            } else if (!(e instanceof LinkLostException)) {
                result.completeExceptionally(e);
            } else {
                linkLost(l.gen(), e);
                switch (afterLinkLost(request)) {
                    case RESEND -> attempt(request, onArrival, result, refusals, refusedSinceNs);
                    case DONE -> result.complete(Response.OK);
                    default -> result.completeExceptionally(new JMSException(request.getClass().getSimpleName()
                            + " was in flight when the connection to tern://" + l.server()
                            + " broke; its outcome is unknown", "OUTCOME_UNKNOWN"));
                }
            }
        });
    }

    /**
     * What becomes of a request whose link broke before its answer came. Creations are resent on the
     * new link. A persistent send outside a transaction is resent with its duplicate-detection id.
     * A non-persistent send is dropped, as at-most-once allows. A transacted send, and the
     * acknowledgements, recoveries and closes, concern state the old server kept for this connection
     * and drops with it: they are done. Only a commit's outcome is unknown.
     */
    private AfterLoss afterLinkLost(Request r) {
        if (r instanceof Request.Send s) {
            TernSession session = sessions.get(s.sessionId());
            if (s.message().persistent() && (session == null || session.mode() != Session.SESSION_TRANSACTED)) {
                Object dupId = s.message().properties().get(io.tern.protocol.WireMessage.DUPLICATE_ID);
                inDoubt.add(String.valueOf(dupId));
                return AfterLoss.RESEND;
            }
            return AfterLoss.DONE;
        }
        if (r instanceof Request.Commit) {
            return AfterLoss.UNKNOWN;
        }
        if (r instanceof Request.CreateSession || r instanceof Request.CreateConsumer || r instanceof Request.Browse
                || r instanceof Request.CreateTemp || r instanceof Request.Unsubscribe || r instanceof Request.SetClientId) {
            return AfterLoss.RESEND;
        }
        return AfterLoss.DONE;
    }

    /** Sends without an answer; the server reports a failure with an ERROR frame, which is logged. */
    void fireAndForget(Request request) {
        Link l = currentLink();
        if (l != null) {
            l.transport().send(request);
        }
    }

    /**
     * Sends what concerns deliveries that came on the link of generation {@code gen} (acknowledgements,
     * recoveries, a transaction's commit) to that link, if it is still open: no other server knows
     * those deliveries. Returns the answer, or null when the link is gone (its server takes the
     * deliveries back, and drops the transaction). A commit lost in flight has an unknown outcome.
     */
    Response callOn(long gen, Request request) throws JMSException {
        Link l = linkOf(gen);
        if (l == null) {
            LOG.debug("{} not sent: the link it concerns is gone, and its server takes the deliveries back", request);
            return null;
        }
        try {
            return l.transport().call(request, config.callTimeoutMs());
        } catch (JMSException e) {
            if (!(e.getCause() instanceof LinkLostException || e instanceof LinkLostException)) {
                throw e;
            }
            if (request instanceof Request.Commit) {
                throw new JMSException("the connection to tern://" + l.server() + " broke during commit; "
                        + "the transaction's outcome is unknown", "OUTCOME_UNKNOWN");
            }
            return null;
        }
    }

    /** As {@link #callOn} for a one-way request. */
    void sendOn(long gen, Request request) {
        Link l = linkOf(gen);
        if (l != null) {
            l.transport().send(request);
        }
    }

    private Link linkOf(long gen) {
        Link l = currentLink();
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

    void checkUsable() throws JMSException {
        if (closed) {
            throw new IllegalStateException("the connection is closed");
        }
        JMSException f = failure;
        if (f != null) {
            throw f;
        }
    }

    JMSException failure() {
        return failure;
    }

    // ---- registry -----------------------------------------------------------------------------

    long nextConsumerId() {
        return consumerIds.incrementAndGet();
    }

    void register(TernMessageConsumer c) {
        consumers.put(c.id(), c);
    }

    void unregister(TernMessageConsumer c) {
        consumers.remove(c.id());
    }

    void unregister(TernSession s) {
        sessions.remove(s.id());
    }

    boolean isStarted() {
        return started;
    }

    // ---- Connection ---------------------------------------------------------------------------

    @Override
    public Session createSession(boolean transacted, int acknowledgeMode) throws JMSException {
        return createSession(transacted ? Session.SESSION_TRANSACTED : acknowledgeMode);
    }

    @Override
    public Session createSession(int sessionMode) throws JMSException {
        return newSession(sessionMode);
    }

    @Override
    public Session createSession() throws JMSException {
        return newSession(Session.AUTO_ACKNOWLEDGE);
    }

    TernSession newSession(int sessionMode) throws JMSException {
        checkUsable();
        clientIdLocked = true;
        int id = sessionIds.incrementAndGet();
        call(new Request.CreateSession(id, wireMode(sessionMode)));
        TernSession s = new TernSession(this, id, sessionMode);
        sessions.put(id, s);
        return s;
    }

    private static int wireMode(int sessionMode) throws JMSException {
        return switch (sessionMode) {
            case Session.SESSION_TRANSACTED -> Request.TRANSACTED;
            case Session.AUTO_ACKNOWLEDGE -> Request.AUTO_ACKNOWLEDGE;
            case Session.CLIENT_ACKNOWLEDGE -> Request.CLIENT_ACKNOWLEDGE;
            case Session.DUPS_OK_ACKNOWLEDGE -> Request.DUPS_OK_ACKNOWLEDGE;
            default -> throw new JMSException("unknown session mode " + sessionMode);
        };
    }

    @Override
    public QueueSession createQueueSession(boolean transacted, int acknowledgeMode) throws JMSException {
        return (QueueSession) createSession(transacted, acknowledgeMode);
    }

    @Override
    public TopicSession createTopicSession(boolean transacted, int acknowledgeMode) throws JMSException {
        return (TopicSession) createSession(transacted, acknowledgeMode);
    }

    @Override
    public synchronized String getClientID() throws JMSException {
        checkNotClosed();
        return clientId;
    }

    @Override
    public synchronized void setClientID(String id) throws JMSException {
        checkNotClosed();
        if (clientIdLocked || clientId != null) {
            throw new IllegalStateException("the client id can only be set right after the connection is created");
        }
        setClientIdOnServer(id);
        clientIdLocked = true;
    }

    private void setClientIdOnServer(String id) throws JMSException {
        if (id == null || id.isBlank()) {
            throw new jakarta.jms.InvalidClientIDException("client id must not be empty");
        }
        call(new Request.SetClientId(id));
        clientId = id;
    }

    void lockClientId() {
        clientIdLocked = true;
    }

    @Override
    public ConnectionMetaData getMetaData() throws JMSException {
        checkNotClosed();
        return TernConnectionMetaData.INSTANCE;
    }

    @Override
    public ExceptionListener getExceptionListener() throws JMSException {
        checkNotClosed();
        return exceptionListener;
    }

    @Override
    public void setExceptionListener(ExceptionListener listener) throws JMSException {
        checkNotClosed();
        clientIdLocked = true;
        exceptionListener = listener;
    }

    @Override
    public void start() throws JMSException {
        checkUsable();
        clientIdLocked = true;
        synchronized (startLock) {
            started = true;
            startLock.notifyAll();
        }
        consumers.values().forEach(TernMessageConsumer::started);
    }

    @Override
    public void stop() throws JMSException {
        checkNotClosed();
        rejectFromOwnCallback("stop");
        clientIdLocked = true;
        started = false;
        for (TernSession s : List.copyOf(sessions.values())) {
            s.awaitListenerIdle();
        }
    }

    private void rejectFromOwnCallback(String what) throws IllegalStateException {
        for (TernSession s : sessions.values()) {
            if (s.isSessionThread()) {
                throw new IllegalStateException("a message or completion listener may not call " + what
                        + "() on its own connection");
            }
        }
    }

    @Override
    public void close() throws JMSException {
        if (closed) {
            return;
        }
        rejectFromOwnCallback("close");
        synchronized (startLock) {
            started = false;
            startLock.notifyAll();
        }
        for (TernSession s : List.copyOf(sessions.values())) {
            try {
                s.close();
            } catch (JMSException e) {
                LOG.debug("Closing session {} failed: {}", s.id(), e.getMessage());
            }
        }
        closed = true;
        Link l;
        synchronized (linkLock) {
            l = link;
            link = null;
            acceptingGen = 0;
            transition(State.CLOSED, "closed by the application");
            List<Waiting> failed = new ArrayList<>(waiting);
            waiting.clear();
            failed.forEach(w -> w.result().completeExceptionally(new IllegalStateException("the connection is closed")));
        }
        consumers.values().forEach(TernMessageConsumer::wake);
        if (l != null) {
            l.transport().close();
        }
        for (Link r : retiring) {
            r.transport().close();
        }
        retiring.clear();
        events.shutdown();
    }

    boolean isClosed() {
        return closed;
    }

    private void checkNotClosed() throws IllegalStateException {
        if (closed) {
            throw new IllegalStateException("the connection is closed");
        }
    }

    // ---- temporary destinations ---------------------------------------------------------------

    TernTemporaryQueue createTemporaryQueue() throws JMSException {
        return new TernTemporaryQueue(createTemporary(DestinationName.Kind.TEMP_QUEUE), this);
    }

    TernTemporaryTopic createTemporaryTopic() throws JMSException {
        return new TernTemporaryTopic(createTemporary(DestinationName.Kind.TEMP_TOPIC), this);
    }

    /** Creates a temporary destination and remembers it, so that a failover recreates it under its name. */
    private String createTemporary(DestinationName.Kind kind) throws JMSException {
        Response r = call(new Request.CreateTemp(kind));
        String name = ((Response.TempCreated) r).destination().name();
        temporaries.put(name, kind);
        return name;
    }

    @Override
    public void deleteTemporary(TernDestination destination) throws JMSException {
        temporaries.remove(destination.toName().name());
        try {
            call(new Request.DeleteTemp(destination.toName()));
        } catch (JMSException e) {
            temporaries.put(destination.toName().name(), destination.kind());
            throw e;
        }
    }

    // ---- connection consumers (an optional application-server facility) ------------------------

    private static JMSException noConnectionConsumers() {
        return new JMSException("connection consumers (ServerSessionPool, an optional facility for application "
                + "servers) are not provided by Tern; use a MessageListener instead");
    }

    @Override
    public ConnectionConsumer createConnectionConsumer(Destination d, String s, ServerSessionPool p, int m) throws JMSException {
        throw noConnectionConsumers();
    }

    @Override
    public ConnectionConsumer createSharedConnectionConsumer(Topic t, String n, String s, ServerSessionPool p, int m) throws JMSException {
        throw noConnectionConsumers();
    }

    @Override
    public ConnectionConsumer createDurableConnectionConsumer(Topic t, String n, String s, ServerSessionPool p, int m) throws JMSException {
        throw noConnectionConsumers();
    }

    @Override
    public ConnectionConsumer createSharedDurableConnectionConsumer(Topic t, String n, String s, ServerSessionPool p, int m) throws JMSException {
        throw noConnectionConsumers();
    }

    @Override
    public ConnectionConsumer createConnectionConsumer(Queue q, String s, ServerSessionPool p, int m) throws JMSException {
        throw noConnectionConsumers();
    }

    @Override
    public ConnectionConsumer createConnectionConsumer(Topic t, String s, ServerSessionPool p, int m) throws JMSException {
        throw noConnectionConsumers();
    }
}
