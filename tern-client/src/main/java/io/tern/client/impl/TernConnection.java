package io.tern.client.impl;

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

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** A Jakarta Messaging connection over one {@link Transport}. */
public final class TernConnection implements Connection, QueueConnection, TopicConnection, TemporaryDestinationOwner,
        Transport.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(TernConnection.class);

    private final ClientConfig config;
    private final TopologyHolder topology;
    private final io.tern.client.ConnectionStrategy<ClientUrl.HostPort> strategy;
    private Transport transport;
    private final Map<Integer, TernSession> sessions = new ConcurrentHashMap<>();
    private final Map<Long, TernMessageConsumer> consumers = new ConcurrentHashMap<>();
    private final AtomicInteger sessionIds = new AtomicInteger();
    private final AtomicLong consumerIds = new AtomicLong();
    final Semaphore producerWindow;
    private final Object startLock = new Object();
    private volatile boolean started;
    private volatile boolean closed;
    private volatile JMSException failure;
    private volatile ExceptionListener exceptionListener;
    private String clientId;
    private volatile boolean clientIdLocked;
    private volatile int maxFrameSize = io.tern.protocol.Handshake.DEFAULT_MAX_FRAME_SIZE;

    public TernConnection(ClientConfig config, TopologyHolder topology,
                          io.tern.client.ConnectionStrategy<ClientUrl.HostPort> strategy) throws JMSException {
        this.config = config;
        this.topology = topology;
        this.strategy = strategy;
        this.producerWindow = new Semaphore(config.producerWindowBytes());
        this.transport = connectFirst();
        Response welcome = call(new Request.Hello(config.user(), config.password(), "tern-client"));
        LOG.debug("Connected to {} ({})", transport.remote(), welcome);
        if (welcome instanceof Response.Welcome w) {
            maxFrameSize = w.maxFrameSize();
        }
        if (config.clientId() != null) {
            setClientIdOnServer(config.clientId());
            clientIdLocked = true;
        }
    }

    /** Tries the servers in the strategy's order; the error names each one tried and why it failed. */
    private Transport connectFirst() throws JMSException {
        java.util.List<ClientUrl.HostPort> servers = config.url().isMulticast()
                ? java.util.List.of(MulticastLocator.locate(config.url())) : strategy.order(config.url().servers());
        StringBuilder tried = new StringBuilder();
        JMSException last = null;
        for (ClientUrl.HostPort hp : servers) {
            try {
                Transport t = Transport.connect(hp.host(), hp.port(), config.connectTimeoutMs(), config.heartbeatMs(),
                        topology, this);
                strategy.connected(hp);
                return t;
            } catch (JMSException e) {
                last = e;
                tried.append(tried.length() == 0 ? "" : "; ").append(hp).append(": ").append(e.getMessage());
            }
        }
        if (servers.size() == 1) {
            throw last;
        }
        JMSException all = new JMSException("could not connect to any of " + servers.size() + " servers (" + tried + ")");
        all.setLinkedException(last);
        throw all;
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

    // ---- transport ----------------------------------------------------------------------------

    Response call(Request request) throws JMSException {
        checkUsable();
        return transport.call(request, config.callTimeoutMs());
    }

    Response call(Request request, Runnable onArrival) throws JMSException {
        checkUsable();
        return transport.call(request, onArrival, config.callTimeoutMs());
    }

    CompletableFuture<Response> request(Request request) {
        return transport.request(request);
    }

    /** Sends without an answer; the server reports a failure with an ERROR frame, which is logged. */
    void fireAndForget(Request request) {
        transport.send(request);
    }

    @Override
    public void onDeliver(Deliver deliver) {
        TernMessageConsumer c = consumers.get(deliver.consumerId());
        if (c != null) {
            c.arrived(deliver);
        }
    }

    @Override
    public void onClosed(Throwable cause) {
        if (closed) {
            return;
        }
        failure = JmsErrors.wrap("connection to tern://" + transport.remote() + " lost", cause);
        consumers.values().forEach(TernMessageConsumer::wake);
        ExceptionListener l = exceptionListener;
        if (l != null) {
            Thread t = new Thread(() -> l.onException(failure), "tern-exception-listener");
            t.setDaemon(true);
            t.start();
        }
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
        int wireMode = switch (sessionMode) {
            case Session.SESSION_TRANSACTED -> Request.TRANSACTED;
            case Session.AUTO_ACKNOWLEDGE -> Request.AUTO_ACKNOWLEDGE;
            case Session.CLIENT_ACKNOWLEDGE -> Request.CLIENT_ACKNOWLEDGE;
            case Session.DUPS_OK_ACKNOWLEDGE -> Request.DUPS_OK_ACKNOWLEDGE;
            default -> throw new JMSException("unknown session mode " + sessionMode);
        };
        int id = sessionIds.incrementAndGet();
        call(new Request.CreateSession(id, wireMode));
        TernSession s = new TernSession(this, id, sessionMode);
        sessions.put(id, s);
        return s;
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
        consumers.values().forEach(TernMessageConsumer::wake);
        transport.close();
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
        Response r = call(new Request.CreateTemp(DestinationName.Kind.TEMP_QUEUE));
        return new TernTemporaryQueue(((Response.TempCreated) r).destination().name(), this);
    }

    TernTemporaryTopic createTemporaryTopic() throws JMSException {
        Response r = call(new Request.CreateTemp(DestinationName.Kind.TEMP_TOPIC));
        return new TernTemporaryTopic(((Response.TempCreated) r).destination().name(), this);
    }

    @Override
    public void deleteTemporary(TernDestination destination) throws JMSException {
        call(new Request.DeleteTemp(destination.toName()));
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
