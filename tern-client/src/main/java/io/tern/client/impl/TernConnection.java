package io.tern.client.impl;

import io.tern.client.FailoverListener;
import io.tern.client.TemporaryDestinationOwner;
import io.tern.client.TernDestination;
import io.tern.client.TernTemporaryQueue;
import io.tern.client.TernTemporaryTopic;
import io.tern.protocol.Deliver;
import io.tern.protocol.DestinationName;
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
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Jakarta Messaging connection: its sessions, consumers, temporary destinations and client id.
 * It talks to one server at a time over a {@link Transport} (a <em>link</em>); the link's states
 * live in {@link LinkStates}, the moves between servers (failover after a crash, planned moves) in
 * {@link FailoverAgent}, and the way each request takes to a server in {@link RequestRouter}.
 */
public final class TernConnection implements Connection, QueueConnection, TopicConnection, TemporaryDestinationOwner {
    private static final Logger LOG = LoggerFactory.getLogger(TernConnection.class);

    private final ClientConfig config;
    private final TopologyHolder topology;
    private final LinkStates<RequestRouter.Waiting> states;
    private final RequestRouter router;
    private final FailoverAgent agent;
    private final Map<Integer, TernSession> sessions = new ConcurrentHashMap<>();
    private final Map<Long, TernMessageConsumer> consumers = new ConcurrentHashMap<>();
    private final Map<String, DestinationName.Kind> temporaries = new ConcurrentHashMap<>();
    private final AtomicInteger sessionIds = new AtomicInteger();
    private final AtomicLong consumerIds = new AtomicLong();
    final Semaphore producerWindow;
    private final Object startLock = new Object();
    private final ExecutorService events;
    private volatile boolean started;
    private volatile boolean closed; // by the application; not the link's CLOSED, which also follows a failover that gave up
    private volatile JMSException failure;
    private volatile ExceptionListener exceptionListener;
    private String clientId;
    private volatile boolean clientIdLocked;
    private volatile int maxFrameSize = io.tern.protocol.Handshake.DEFAULT_MAX_FRAME_SIZE;

    public TernConnection(ClientConfig config, TopologyHolder topology,
                          io.tern.client.ConnectionStrategy<ClientUrl.HostPort> strategy,
                          FailoverListener failoverListener, ClientEvents meters) throws JMSException {
        this.config = config;
        this.topology = topology;
        this.producerWindow = new Semaphore(config.producerWindowBytes());
        this.events = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tern-connection-events");
            t.setDaemon(true);
            return t;
        });
        this.states = new LinkStates<>(config.callTimeoutMs(), System::nanoTime);
        this.router = new RequestRouter(this, config, states);
        this.agent = new FailoverAgent(this, config, topology, strategy, states, failoverListener, meters, events);
        try {
            agent.connectFirst();
        } catch (JMSException e) {
            events.shutdown();
            throw e;
        }
        if (config.clientId() != null) {
            try {
                setClientIdOnServer(config.clientId());
            } catch (JMSException | RuntimeException e) {
                close(); // the application never gets this connection: it must not stay open
                throw e;
            }
            clientIdLocked = true;
        }
    }

    // ---- what the link's parts ask of the connection ------------------------------------------------

    RequestRouter router() {
        return router;
    }

    FailoverAgent failoverAgent() {
        return agent;
    }

    TernSession session(int id) {
        return sessions.get(id);
    }

    Collection<TernSession> sessions() {
        return sessions.values();
    }

    Map<String, DestinationName.Kind> temporaries() {
        return temporaries;
    }

    synchronized String clientIdOrNull() {
        return clientId;
    }

    ExceptionListener exceptionListenerOrNull() {
        return exceptionListener;
    }

    void maxFrameSize(int size) {
        maxFrameSize = size;
    }

    /** A delivery arrived on the link of {@code gen}, the one deliveries are accepted from. */
    void delivered(Deliver deliver, long gen) {
        TernMessageConsumer c = consumers.get(deliver.consumerId());
        if (c != null) {
            c.arrived(deliver, gen);
        }
    }

    void wakeConsumers() {
        consumers.values().forEach(TernMessageConsumer::wake);
    }

    /** True if the application holds unacknowledged deliveries of the link of {@code gen}. */
    boolean holds(long gen) {
        return holds(gen, true);
    }

    /**
     * As {@link #holds}, leaving out transacted sessions: what a planned move waits for before it
     * leaves a link. A transacted session's work on the link is waited for as an open transaction,
     * and its next transaction cannot begin during the move (it would wait for the move, and the
     * move for it).
     */
    boolean holdsToAcknowledge(long gen) {
        return holds(gen, false);
    }

    private boolean holds(long gen, boolean transacted) {
        return sessions.values().stream().anyMatch(s -> (transacted || !s.transacted()) && s.holds(gen))
                || consumers.values().stream().anyMatch(c -> (transacted || !c.session().transacted()) && c.holds(gen));
    }

    /** True if this connection has a consumer (open, on any session). */
    boolean consumes() {
        return !consumers.isEmpty();
    }

    /** True if any session has an open transaction that did some work. */
    boolean openTransactions() {
        return sessions.values().stream().anyMatch(s -> s.transactionGen() != 0);
    }

    /** True if a session has an open transaction that did some work on the link of {@code gen}. */
    boolean openTransactionsOn(long gen) {
        return sessions.values().stream().anyMatch(s -> s.transactionGen() == gen);
    }

    /** A planned move leaves {@code from}: each consumer hands back what it buffered, naming what the application holds. */
    void handBack(LinkStates.Link from) {
        for (TernMessageConsumer c : consumers.values()) {
            long[] keep = c.handBack(from.gen());
            from.transport().send(new Request.CloseConsumer(c.id(), keep));
        }
    }

    /** The connection gives up (failover failed, or the link broke and failover is off): CLOSED, the application told. */
    void fail(JMSException e) {
        List<RequestRouter.Waiting> parked = new ArrayList<>();
        synchronized (this) {
            if (states.state() == LinkStates.State.CLOSED) {
                return;
            }
            failure = e;
        }
        states.close(e.getMessage(), parked).forEach(l -> l.transport().close());
        RequestRouter.fail(parked, e);
        wakeConsumers();
        ExceptionListener l = exceptionListener;
        if (l != null) {
            events.execute(() -> l.onException(e));
        }
    }

    /**
     * Waits (up to the call timeout) until the link of generation {@code gen} is replaced by a
     * connected one, or the connection is closed: a failover, with its session recovery, is over.
     */
    void awaitLinkAfter(long gen) throws JMSException {
        try {
            states.awaitLinkAfter(gen, config.callTimeoutMs());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw JmsErrors.wrap("interrupted waiting for the failover", e);
        }
    }

    /** The generation of the current link, or 0 while there is none. */
    long generation() {
        return states.generation();
    }

    /** A transaction is about to begin: wait while a planned move is letting open transactions end. */
    void awaitNoMove() {
        try {
            states.awaitNoMove();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A transaction ended: a planned move may be waiting for that, or a failback. */
    void transactionEnded() {
        states.wake();
        agent.checkFailback();
    }

    /** Closes links left by a move once the application holds nothing of theirs; starts a due failback. */
    void retireIfDone() {
        agent.retireIfDone();
    }

    Response call(Request request) throws JMSException {
        return router.call(request, null);
    }

    Response call(Request request, Runnable onArrival) throws JMSException {
        return router.call(request, onArrival);
    }

    CompletableFuture<Response> request(Request request) {
        return router.request(request, null);
    }

    void fireAndForget(Request request) {
        router.fireAndForget(request);
    }

    Response callOn(long gen, Request request) throws JMSException {
        return router.callOn(gen, request);
    }

    void sendOn(long gen, Request request) {
        router.sendOn(gen, request);
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

    /** The server this connection uses now, as {@code host:port}; empty while it fails over or after close. */
    public String server() {
        LinkStates.Link l = states.link();
        return l == null ? "" : l.server().toString();
    }

    /** The server and generation of the link of {@code gen}, for diagnostics ("host:port#gen"); "?#gen" if gone. */
    String linkName(long gen) {
        LinkStates.Link l = states.linkOf(gen);
        return (l == null ? "?" : l.server().toString()) + "#" + gen;
    }

    /** Lets an application (or a test) follow this connection's moves. */
    public void setFailoverListener(FailoverListener listener) {
        agent.setFailoverListener(listener);
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
        return newSession(sessionMode(transacted, acknowledgeMode));
    }

    /** Not transacted with SESSION_TRANSACTED is no mode the API permits (it lists the three others). */
    private int sessionMode(boolean transacted, int acknowledgeMode) throws JMSException {
        checkNotClosed();
        if (!transacted && acknowledgeMode == Session.SESSION_TRANSACTED) {
            throw new JMSException("a session that is not transacted takes AUTO_ACKNOWLEDGE, CLIENT_ACKNOWLEDGE or "
                    + "DUPS_OK_ACKNOWLEDGE, not SESSION_TRANSACTED");
        }
        return transacted ? Session.SESSION_TRANSACTED : acknowledgeMode;
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

    static int wireMode(int sessionMode) throws JMSException {
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
        TernSession s = newSession(sessionMode(transacted, acknowledgeMode));
        s.restrictTo("queue");
        return s;
    }

    @Override
    public TopicSession createTopicSession(boolean transacted, int acknowledgeMode) throws JMSException {
        TernSession s = newSession(sessionMode(transacted, acknowledgeMode));
        s.restrictTo("topic");
        return s;
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
        rejectFromOwnCallback("stop", false);
        clientIdLocked = true;
        started = false;
        for (TernSession s : List.copyOf(sessions.values())) {
            s.awaitListenerIdle();
        }
    }

    /**
     * A message listener of this connection may not stop or close it; a completion listener may not
     * close it (it may stop it: specification 6.1.5 and 7.3.8).
     */
    private void rejectFromOwnCallback(String what, boolean completionsToo) throws IllegalStateException {
        for (TernSession s : sessions.values()) {
            if (s.isSessionThread() || (completionsToo && s.isCompletionThread())) {
                throw new IllegalStateException("a " + (s.isSessionThread() ? "message" : "completion")
                        + " listener may not call " + what + "() on its own connection");
            }
        }
    }

    @Override
    public void close() throws JMSException {
        if (closed) {
            return;
        }
        rejectFromOwnCallback("close", true);
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
        agent.closedByApplication();
        List<RequestRouter.Waiting> parked = new ArrayList<>();
        List<LinkStates.Link> links = states.close("closed by the application", parked);
        RequestRouter.fail(parked, new IllegalStateException("the connection is closed"));
        wakeConsumers();
        links.forEach(l -> l.transport().close());
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

    private volatile boolean queueDomainOnly;

    /** Made by createQueueConnection: the topic-only connection-consumer methods throw IllegalStateException. */
    public void queueDomainOnly() {
        queueDomainOnly = true;
    }

    private JMSException noConnectionConsumers() throws IllegalStateException {
        checkNotClosed();
        return new JMSException("connection consumers (ServerSessionPool, an optional facility for application "
                + "servers) are not provided by Tern; use a MessageListener instead");
    }

    /** A topic-only method of a QueueConnection (specification 4.11): IllegalStateException, as the API says. */
    private JMSException noTopicConnectionConsumers() throws IllegalStateException {
        checkNotClosed();
        if (queueDomainOnly) {
            return new IllegalStateException("a QueueConnection has no topic connection consumers");
        }
        return noConnectionConsumers();
    }

    @Override
    public ConnectionConsumer createConnectionConsumer(Destination d, String s, ServerSessionPool p, int m) throws JMSException {
        throw noConnectionConsumers();
    }

    @Override
    public ConnectionConsumer createSharedConnectionConsumer(Topic t, String n, String s, ServerSessionPool p, int m) throws JMSException {
        throw noTopicConnectionConsumers();
    }

    @Override
    public ConnectionConsumer createDurableConnectionConsumer(Topic t, String n, String s, ServerSessionPool p, int m) throws JMSException {
        throw noTopicConnectionConsumers();
    }

    @Override
    public ConnectionConsumer createSharedDurableConnectionConsumer(Topic t, String n, String s, ServerSessionPool p, int m) throws JMSException {
        throw noTopicConnectionConsumers();
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
