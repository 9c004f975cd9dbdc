package io.tern.client.impl;

import io.tern.client.TernDestination;
import io.tern.client.message.TernMessage;
import io.tern.protocol.Deliver;
import io.tern.protocol.Request;
import io.tern.protocol.Response;
import jakarta.jms.Destination;
import jakarta.jms.IllegalStateException;
import jakarta.jms.InvalidDestinationException;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageListener;
import jakarta.jms.MessageProducer;
import jakarta.jms.QueueSession;
import jakarta.jms.Session;
import jakarta.jms.TopicSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;

/**
 * A session: one thread of control. Message listeners and completion listeners run on the session's
 * own thread; acknowledgement state is guarded by the session's monitor.
 */
public final class TernSession extends SessionFactories {
    private static final Logger LOG = LoggerFactory.getLogger(TernSession.class);
    private static final int DUPS_OK_BATCH = 64;

    private final TernConnection connection;
    private final int id;
    private final int mode;
    private final List<TernMessageConsumer> consumers = new CopyOnWriteArrayList<>();
    private final List<TernMessageProducer> producers = new CopyOnWriteArrayList<>();
    private final AckLedger ledger = new AckLedger(RECENT_ACKS, DUPS_OK_BATCH);
    private final SessionTransaction tx = new SessionTransaction();
    private final SessionAcks acks;
    private static final int RECENT_ACKS = 1024;
    private final SessionThreads threads;
    private final AsyncSends asyncSends = new AsyncSends();
    /** "queue" for a QueueSession, "topic" for a TopicSession, null for a Session of both domains. */
    private volatile String domain;
    private volatile MessageListener distinguishedListener;
    private volatile boolean closed;

    TernSession(TernConnection connection, int id, int mode) {
        this.connection = connection;
        this.id = id;
        this.mode = mode;
        this.threads = new SessionThreads(id);
        this.acks = new SessionAcks(id, mode, connection, ledger);
    }

    int id() {
        return id;
    }

    /** Made by createQueueSession or createTopicSession: the other domain's methods throw (specification 4.11). */
    void restrictTo(String domainName) {
        this.domain = domainName;
    }

    /** {@code method} belongs to the {@code methodDomain} domain only: refused on a session of the other one. */
    @Override
    void checkDomain(String methodDomain, String method) throws IllegalStateException {
        String d = domain;
        if (d != null && !d.equals(methodDomain)) {
            throw new IllegalStateException(method + " is not allowed on a " + ("queue".equals(d) ? "QueueSession" : "TopicSession"));
        }
    }

    @Override
    TernSession session() {
        return this;
    }

    @Override
    TernConnection connection() {
        return connection;
    }

    boolean isSessionThread() {
        return threads.isListenerThread();
    }

    boolean isCompletionThread() {
        return threads.isCompletionThread();
    }

    /** The thread of the session's message listeners (its thread of control). */
    ExecutorService thread() {
        return threads.listeners();
    }

    /** The thread of the session's completion listeners. */
    ExecutorService completions() {
        return threads.completions();
    }

    AsyncSends asyncSends() {
        return asyncSends;
    }

    /** A callback of this session may not commit, roll back or close it (specification 7.3.8). */
    private void rejectFromOwnCallback(String what) throws IllegalStateException {
        if (isCompletionThread()) {
            throw new IllegalStateException("a completion listener may not call " + what + "() on its own session");
        }
    }

    /** Waits until a listener that is running returns (used by Connection.stop). */
    void awaitListenerIdle() {
        threads.awaitListenerIdle();
    }

    @Override
    void checkOpen() throws JMSException {
        if (closed) {
            throw new IllegalStateException("the session is closed");
        }
        connection.checkUsable();
    }

    // ---- delivery bookkeeping (called by consumers on the application or session thread) -----

    int mode() {
        return mode;
    }

    /** Whether this session is transacted ({@link #getTransacted} without its closed check). */
    boolean transacted() {
        return mode == SESSION_TRANSACTED;
    }

    List<TernMessageConsumer> consumers() {
        return consumers;
    }

    /** The application now holds this delivery (or it expired in the buffer): acknowledged as the mode says. */
    void delivered(TernMessageConsumer consumer, Delivery d, boolean expired) {
        if (mode == SESSION_TRANSACTED) {
            transactionWork(ledger.current(d.tag()).gen());
        }
        acks.delivered(consumer.id(), d, expired);
    }

    private void flushDupsOk() {
        acks.flushDupsOk();
    }

    /** True if the application holds unacknowledged deliveries that came on the link of {@code gen}. */
    boolean holds(long gen) {
        return ledger.holds(gen);
    }

    boolean acknowledgesAfterListener() {
        return mode == AUTO_ACKNOWLEDGE || mode == DUPS_OK_ACKNOWLEDGE;
    }

    /** A message listener threw: in auto modes the message comes back at once (specification 8.7). */
    void listenerFailed(Delivery d) {
        if (mode == AUTO_ACKNOWLEDGE || mode == DUPS_OK_ACKNOWLEDGE) {
            flushDupsOk();
            try {
                recoverWith(List.of(d.tag()));
            } catch (JMSException e) {
                LOG.warn("Could not redeliver after a listener failure: {}", e.getMessage());
            }
        }
    }

    /** {@code Message.acknowledge()} in a CLIENT_ACKNOWLEDGE session (see {@link SessionAcks}). */
    void acknowledgeAll() throws JMSException {
        if (closed) {
            throw new IllegalStateException("the session of this message is closed");
        }
        if (mode == CLIENT_ACKNOWLEDGE) {
            acks.acknowledgeAll();
        }
    }

    /** Ids of the deliveries of {@code consumer} that the application holds, from the link of {@code gen}. */
    long[] seenIds(TernMessageConsumer consumer, long gen) {
        return ledger.seenIds(consumer.id(), gen);
    }

    // ---- recovery after a failover ---------------------------------------------------------------

    /** A send of the open transaction: kept, so that a failover can send it again on the new node. */
    void transactedSend(io.tern.protocol.WireMessage message) {
        tx.sent(message);
    }

    /**
     * What this session had on the link of {@code lostGen}, which broke: the deliveries the
     * application holds, those acknowledged automatically of late, those buffered unseen. Taken before
     * the consumers drop their buffers.
     */
    SessionRecovery recovery(long lostGen) {
        List<Request.HeldMessage> listed = new ArrayList<>();
        List<Delivery.Tag> tags = new ArrayList<>();
        // A commit in flight when the link broke may have been applied: its messages are listed as
        // acknowledged, and the node that took over settles each (see SessionRecovery.finishCommit).
        ledger.listForRecovery(lostGen, tx.committingOn(lostGen), listed, tags);
        for (TernMessageConsumer c : consumers) {
            c.listForRecovery(lostGen, listed, tags);
        }
        return new SessionRecovery(id, mode, ledger, tx, lostGen, listed, tags);
    }

    // ---- transactions and recovery ----------------------------------------------------------------

    /**
     * The generation of the link the open transaction did its first work on; 0 if it has done none.
     * A failover that replaces that link dooms the transaction: the old server dropped its work.
     */
    long transactionGen() {
        return tx.gen();
    }

    /** The transaction sends or receives on the link of {@code gen} (0: no link now). */
    void transactionWork(long gen) {
        if (!tx.begun()) {
            connection.awaitNoMove();
            tx.begin(gen);
        }
    }

    private void transactionEnded() {
        tx.ended();
        connection.transactionEnded();
    }

    @Override
    public boolean getTransacted() throws JMSException {
        checkNotClosed();
        return mode == SESSION_TRANSACTED;
    }

    @Override
    public int getAcknowledgeMode() throws JMSException {
        checkNotClosed();
        return mode;
    }

    @Override
    public void commit() throws JMSException {
        checkOpen();
        if (mode != SESSION_TRANSACTED) {
            throw new IllegalStateException("commit() on a session that is not transacted");
        }
        rejectFromOwnCallback("commit");
        asyncSends.await(null, connection.config().callTimeoutMs());
        try {
            tx.commit(id, connection, this::rollbackAfterFailedCommit);
        } finally {
            ledger.forgetSeen();
            transactionEnded();
        }
    }

    private void rollbackAfterFailedCommit() {
        try {
            recoverWith(ledger.seen());
        } catch (JMSException e) {
            LOG.debug("Rollback after a failed commit failed too: {}", e.getMessage());
        }
    }

    @Override
    public void rollback() throws JMSException {
        checkOpen();
        if (mode != SESSION_TRANSACTED) {
            throw new IllegalStateException("rollback() on a session that is not transacted");
        }
        rejectFromOwnCallback("rollback");
        asyncSends.await(null, connection.config().callTimeoutMs());
        try {
            recoverWith(ledger.seen());
        } finally {
            transactionEnded();
        }
    }

    @Override
    public void recover() throws JMSException {
        checkOpen();
        if (mode == SESSION_TRANSACTED) {
            throw new IllegalStateException("recover() on a transacted session; use rollback()");
        }
        flushDupsOk();
        recoverWith(ledger.seen());
    }

    /**
     * Gives every unacknowledged delivery back to its server. On the current link the consumers'
     * buffers are emptied on the I/O thread the moment the answer arrives: deliveries before it were
     * returned, those after it are new. Deliveries of a link left by a move go back over that link.
     */
    private void recoverWith(List<Delivery.Tag> tags) throws JMSException {
        long current = connection.generation();
        Map<Long, long[]> groups = AckLedger.byGen(tags);
        try {
            for (Map.Entry<Long, long[]> e : groups.entrySet()) {
                long gen = e.getKey();
                if (gen != current && connection.callOn(gen, returnRequest(e.getValue())) != null) {
                    // That server took back everything of this session it had out, the unseen ones uncounted: what
                    // is still buffered from it must not reach the application (the link may be the current one
                    // again, after a stall), or it would get those messages twice.
                    consumers.forEach(c -> c.dropBuffered(gen));
                }
            }
            connection.call(returnRequest(groups.getOrDefault(current, new long[0])),
                    () -> consumers.forEach(TernMessageConsumer::resetAfterReturn));
        } finally {
            ledger.forgetSeenAndDupsOk();
            connection.retireIfDone();
        }
    }

    private Request returnRequest(long[] seenIds) {
        return mode == SESSION_TRANSACTED ? new Request.Rollback(id, seenIds) : new Request.Recover(id, seenIds);
    }

    // ---- close ------------------------------------------------------------------------------------

    @Override
    public void close() throws JMSException {
        if (closed) {
            return;
        }
        if (isSessionThread()) {
            throw new IllegalStateException("a message listener may not close its own session");
        }
        rejectFromOwnCallback("close");
        asyncSends.await(null, connection.config().callTimeoutMs());
        flushDupsOk();
        for (TernMessageProducer p : producers) {
            p.closeQuietly();
        }
        awaitListenerIdle();
        Map<Long, long[]> held = AckLedger.byGen(ledger.seen());
        consumers.forEach(TernMessageConsumer::markClosed);
        closed = true;
        try {
            if (connection.failure() == null && !connection.isClosed()) {
                long current = connection.generation();
                for (Map.Entry<Long, long[]> e : held.entrySet()) {
                    if (e.getKey() != current) {
                        connection.callOn(e.getKey(), new Request.CloseSession(id, e.getValue()));
                    }
                }
                connection.call(new Request.CloseSession(id, held.getOrDefault(current, new long[0])));
            }
        } finally {
            ledger.forgetSeen();
            consumers.forEach(c -> connection.unregister(c));
            consumers.clear();
            connection.unregister(this);
            connection.retireIfDone();
            threads.shutdown();
        }
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    void checkNotClosed() throws IllegalStateException {
        if (closed) {
            throw new IllegalStateException("the session is closed");
        }
    }

    void removed(TernMessageConsumer c) {
        consumers.remove(c);
    }

    void removed(TernMessageProducer p) {
        producers.remove(p);
    }

    // ---- listener, producers and consumers (the other factories: SessionFactories) -------------

    @Override
    public MessageListener getMessageListener() throws JMSException {
        checkNotClosed();
        return distinguishedListener;
    }

    @Override
    public void setMessageListener(MessageListener listener) throws JMSException {
        checkNotClosed();
        distinguishedListener = listener;
    }

    @Override
    public void run() {
        throw new jakarta.jms.IllegalStateRuntimeException("Session.run() belongs to application-server facilities Tern does not provide");
    }

    @Override
    public MessageProducer createProducer(Destination destination) throws JMSException {
        checkOpen();
        TernMessageProducer p = new TernMessageProducer(this, destination == null ? null : TernDestination.from(destination));
        producers.add(p);
        return p;
    }

    @Override
    TernMessageConsumer consumer(Destination destination, String selector, boolean noLocal, String subscription,
                                 byte kind) throws JMSException {
        checkOpen();
        if (destination == null) {
            throw new InvalidDestinationException("consumer destination must not be null");
        }
        TernDestination d = TernDestination.from(destination);
        connection.lockClientId();
        TernMessageConsumer c = new TernMessageConsumer(this, connection.nextConsumerId(), d, selector, noLocal,
                connection.config().prefetch(), connection.config().consumerWindowBytes(), connection.config().idleReleaseMs(),
                subscription, kind);
        connection.register(c);
        try {
            connection.call(c.createRequest());
        } catch (JMSException e) {
            connection.unregister(c);
            throw e;
        }
        consumers.add(c);
        c.watchIdle();
        return c;
    }

    Response call(Request r) throws JMSException {
        return connection.call(r);
    }

    /** Wraps a received wire message as the application sees it. */
    TernMessage toMessage(Deliver d) throws JMSException {
        TernMessage.Acknowledger ack = mode == CLIENT_ACKNOWLEDGE ? this::acknowledgeAll : null;
        return TernMessage.fromWire(d.message(), d.deliveryCount(), ack);
    }
}
