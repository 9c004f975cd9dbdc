package io.tern.client.impl;

import io.tern.client.TernDestination;
import io.tern.client.message.TernMessage;
import io.tern.protocol.Deliver;
import io.tern.protocol.Request;
import jakarta.jms.IllegalStateException;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageListener;
import jakarta.jms.Queue;
import jakarta.jms.QueueReceiver;
import jakarta.jms.Topic;
import jakarta.jms.TopicSubscriber;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.List;

/**
 * A consumer: a buffer of prefetched deliveries filled by the I/O thread, emptied by
 * {@code receive} or by the session's thread for a {@link MessageListener}. Credit goes back to the
 * server in batches of half the prefetch window. A synchronous consumer that no thread has been in
 * {@code receive()} for {@code idleReleaseMs} gives its buffer back and withdraws its credit (an idle
 * consumer, such as one a connection pool caches, must not hold messages others could take); the next
 * {@code receive()} grants the prefetch again.
 */
public final class TernMessageConsumer implements QueueReceiver, TopicSubscriber {
    private static final Logger LOG = LoggerFactory.getLogger(TernMessageConsumer.class);

    private final TernSession session;
    private final long id;
    private final TernDestination destination;
    private final String selector;
    private final boolean noLocal;
    private final int prefetch;
    /** Bytes of bodies the server may push before this consumer grants more (0: no byte bound). */
    private final int windowBytes;
    private final String subscription;
    private final byte subscriptionKind;
    private final ArrayDeque<Delivery> buffer = new ArrayDeque<>();
    /** The delivery taken from the buffer and not yet acknowledged or recorded by the session. */
    private Delivery.Tag inHand;
    private String inHandMessageId;
    private volatile MessageListener listener;
    private volatile boolean closed;
    private int consumedSinceCredit;
    private long consumedBytesSinceCredit;
    private int outstandingCredit;
    private boolean drainScheduled;
    private final long idleReleaseNs;
    /** Threads in {@code receive()} now. */
    private int receiving;
    /** When the last {@code receive()} returned (or the consumer was made). */
    private long activeNs = System.nanoTime();
    private boolean idleCheckPending;
    /** The buffer was given back and the server holds no credit for this consumer until it grants more. */
    private boolean creditWithdrawn;

    TernMessageConsumer(TernSession session, long id, TernDestination destination, String selector, boolean noLocal,
                        int prefetch, int windowBytes, long idleReleaseMs, String subscription, byte subscriptionKind) {
        this.session = session;
        this.subscription = subscription;
        this.subscriptionKind = subscriptionKind;
        this.id = id;
        this.destination = destination;
        this.selector = selector;
        this.noLocal = noLocal;
        this.prefetch = prefetch;
        this.windowBytes = prefetch > 0 ? windowBytes : 0; // without a prefetch the server sends only what is asked for
        this.idleReleaseNs = prefetch > 0 ? java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(idleReleaseMs) : 0;
    }

    long id() {
        return id;
    }

    /** The request that creates this consumer on a server (again, after a failover). */
    Request.CreateConsumer createRequest() {
        return new Request.CreateConsumer(session.id(), id, destination.toName(), selector, noLocal, subscription,
                subscriptionKind, prefetch, windowBytes);
    }

    // ---- called on the I/O thread ------------------------------------------------------------------

    void arrived(Deliver d, long gen) {
        boolean schedule;
        synchronized (this) {
            if (closed) {
                return;
            }
            buffer.add(new Delivery(gen, d));
            if (outstandingCredit > 0) {
                outstandingCredit--;
            }
            notifyAll();
            schedule = listener != null && !drainScheduled;
            drainScheduled |= schedule;
            if (creditWithdrawn && receiving == 0) {
                checkIdleLater(idleReleaseNs); // was in flight when the buffer was given back: give it back too
            }
        }
        if (schedule) {
            session.thread().execute(this::drainToListener);
        }
    }

    /** The server took back every unacknowledged delivery: drop what is buffered, credit restarts. */
    synchronized void resetAfterReturn() {
        buffer.clear();
        consumedSinceCredit = 0;
        consumedBytesSinceCredit = 0;
        outstandingCredit = 0;
        creditWithdrawn = false; // the server starts the consumer again with its prefetch
        checkIdleLater(idleReleaseNs);
    }

    // ---- an idle synchronous consumer gives its buffer back ---------------------------------------

    /** Made, or its listener removed: from now on it gives its buffer back when idle. */
    void watchIdle() {
        checkIdleLater(idleReleaseNs);
    }

    private synchronized void checkIdleLater(long delayNs) {
        if (idleReleaseNs == 0 || idleCheckPending || closed || listener != null) {
            return;
        }
        idleCheckPending = true;
        IdleChecks.schedule(this::releaseIfIdle, delayNs);
    }

    /** Gives back the buffered deliveries of the current link if no thread was in receive() for the idle time. */
    private void releaseIfIdle() {
        long gen;
        long[] ids;
        synchronized (this) {
            idleCheckPending = false;
            if (closed || listener != null || receiving > 0) {
                return; // the receive that ends schedules the next check
            }
            long idleNs = System.nanoTime() - activeNs;
            if (idleNs < idleReleaseNs) {
                checkIdleLater(idleReleaseNs - idleNs);
                return;
            }
            gen = session.connection().generation();
            if (gen == 0 || (creditWithdrawn && buffer.isEmpty())) {
                return;
            }
            List<Delivery> kept = new java.util.ArrayList<>();
            java.util.ArrayList<Long> released = new java.util.ArrayList<>();
            for (Delivery d : buffer) {
                if (d.gen() == gen) {
                    released.add(d.deliver().deliveryId());
                } else {
                    kept.add(d); // of a broken link: the failover's recovery lists it
                }
            }
            buffer.clear();
            buffer.addAll(kept);
            ids = released.stream().mapToLong(Long::longValue).toArray();
            creditWithdrawn = true;
            consumedSinceCredit = 0;
            consumedBytesSinceCredit = 0;
        }
        LOG.debug("Consumer {} idle: gives back {} buffered message(s)", id, ids.length);
        session.connection().sendOn(gen, new Request.Release(id, ids));
    }

    private void receiveStarted() {
        boolean grant;
        synchronized (this) {
            receiving++;
            grant = creditWithdrawn;
            creditWithdrawn = false;
        }
        if (grant) {
            session.connection().fireAndForget(new Request.Credit(id, prefetch, windowBytes));
        }
    }

    private void receiveEnded() {
        synchronized (this) {
            receiving--;
            activeNs = System.nanoTime();
            checkIdleLater(idleReleaseNs);
        }
    }

    /** The server of the link of {@code gen} took back this consumer's deliveries: drop what is buffered from it. */
    synchronized void dropBuffered(long gen) {
        buffer.removeIf(d -> d.gen() == gen);
    }

    /** A new link: what was buffered stays with the old server; credit starts again from the prefetch. */
    synchronized void resetForLink() {
        resetAfterReturn();
        notifyAll();
    }

    /**
     * A planned move leaves the link of {@code gen}: drop the buffer (the server takes it back) and
     * name the deliveries the application holds, which that server must keep for their acknowledgement.
     */
    synchronized long[] handBack(long gen) {
        buffer.clear();
        long[] seen = session.seenIds(this, gen);
        Delivery.Tag h = inHand;
        if (h == null || h.gen() != gen) {
            return seen;
        }
        long[] keep = java.util.Arrays.copyOf(seen, seen.length + 1);
        keep[seen.length] = h.id();
        return keep;
    }

    /**
     * For a session's recovery after the link of {@code gen} broke: the delivery in hand (the
     * application works on it) is held; the buffered ones were never seen.
     */
    synchronized void listForRecovery(long gen, List<Request.HeldMessage> listed, List<Delivery.Tag> tags) {
        if (inHand != null && inHand.gen() == gen) {
            listed.add(new Request.HeldMessage(id, inHandMessageId, Request.Held.HELD));
            tags.add(inHand);
        }
        for (Delivery d : buffer) {
            if (d.gen() == gen) {
                listed.add(new Request.HeldMessage(id, d.deliver().message().messageId(), Request.Held.UNSEEN));
                tags.add(d.tag());
            }
        }
    }

    /** The delivery in hand is acknowledged or recorded by the session; a link left by a move may now close. */
    private void settled() {
        synchronized (this) {
            inHand = null;
        }
        session.connection().retireIfDone();
    }

    TernSession session() {
        return session;
    }

    /** True while the application works on a delivery that came on the link of {@code gen}. */
    synchronized boolean holds(long gen) {
        return inHand != null && inHand.gen() == gen;
    }

    synchronized void wake() {
        notifyAll();
    }

    void started() {
        wake();
        if (listener != null) {
            scheduleDrain();
        }
    }

    synchronized void markClosed() {
        closed = true;
        buffer.clear();
        notifyAll();
    }

    private void scheduleDrain() {
        synchronized (this) {
            if (drainScheduled) {
                return;
            }
            drainScheduled = true;
        }
        session.thread().execute(this::drainToListener);
    }

    // ---- receive ------------------------------------------------------------------------------

    @Override
    public Message receive() throws JMSException {
        return receive(0);
    }

    @Override
    public Message receive(long timeoutMs) throws JMSException {
        return receive(timeoutMs <= 0 ? Long.MAX_VALUE : timeoutMs, false);
    }

    @Override
    public Message receiveNoWait() throws JMSException {
        return receive(0, true);
    }

    private Message receive(long timeoutMs, boolean noWait) throws JMSException {
        return receive(timeoutMs, noWait, null);
    }

    /**
     * {@code JMSConsumer.receiveBody}: the next message's body as {@code type}. A message without a
     * body of that type throws MessageFormatException; in the automatic modes it stays first in line
     * and is not counted as delivered (specification 8.6, JMSConsumer javadoc), otherwise it counts as
     * received.
     */
    <T> T receiveBody(Class<T> type, long timeoutMs, boolean noWait) throws JMSException {
        Message m = receive(noWait ? 0 : timeoutMs <= 0 ? Long.MAX_VALUE : timeoutMs, noWait, type);
        return m == null ? null : m.getBody(type);
    }

    /** Why {@code m} has no body {@code receiveBody(type)} can return; null if it has one. */
    private static String noBodyAs(Message m, Class<?> type) throws JMSException {
        if (m instanceof jakarta.jms.StreamMessage || m.getClass() == TernMessage.class) {
            return "a " + (m instanceof jakarta.jms.StreamMessage ? "StreamMessage" : "Message") + " has no body receiveBody can return";
        }
        Object body;
        try {
            body = m.getBody(Object.class);
        } catch (jakarta.jms.MessageFormatException e) {
            return e.getMessage();
        }
        if (body == null) {
            return "the message has no body";
        }
        return m.isBodyAssignableTo(type) ? null : "the body is a " + body.getClass().getName() + ", not a " + type.getName();
    }

    private Message receive(long timeoutMs, boolean noWait, Class<?> bodyType) throws JMSException {
        checkOpen();
        if (listener != null) {
            throw new IllegalStateException("this consumer has a message listener; receive() is not allowed");
        }
        long deadline = timeoutMs == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + timeoutMs * 1_000_000L;
        receiveStarted();
        try {
            while (true) {
                if (noWait) {
                    pullOnce();
                } else {
                    requestOneIfNoPrefetch();
                }
                Delivery d = take(noWait ? 0 : deadline);
                if (d == null) {
                    return null;
                }
                try {
                    Message m = present(d);
                    if (m != null) {
                        String wrong = bodyType == null ? null : noBodyAs(m, bodyType);
                        if (wrong != null && session.acknowledgesAfterListener()) {
                            putBack(d);
                            throw new jakarta.jms.MessageFormatException(wrong);
                        }
                        session.delivered(this, d, false);
                        if (wrong != null) {
                            throw new jakarta.jms.MessageFormatException(wrong);
                        }
                        return m;
                    }
                } finally {
                    settled();
                }
            }
        } finally {
            receiveEnded();
        }
    }

    /** A delivery the application did not get after all: first in line again, not acknowledged. */
    private synchronized void putBack(Delivery d) {
        buffer.addFirst(d);
        if (consumedSinceCredit > 0) {
            consumedSinceCredit--;
        }
        consumedBytesSinceCredit = Math.max(0, consumedBytesSinceCredit - Deliver.creditBytes(d.deliver().message()));
    }

    /** With prefetch 0 the server sends only what is asked for: ask for one. */
    private void requestOneIfNoPrefetch() {
        if (prefetch > 0) {
            return;
        }
        synchronized (this) {
            if (!buffer.isEmpty() || outstandingCredit > 0) {
                return;
            }
            outstandingCredit = 1;
        }
        session.connection().fireAndForget(new Request.Credit(id, 1));
    }

    /** Asks the server to push what is available now; returns once it has. */
    private void pullOnce() throws JMSException {
        synchronized (this) {
            if (!buffer.isEmpty() || !session.connection().isStarted()) {
                return;
            }
        }
        requestOneIfNoPrefetch();
        session.call(new Request.Pull(id));
    }

    /**
     * True if the next buffered delivery came on the current link. One that came on a link that broke
     * is not given to the application: its acknowledgement could not reach the server that has it.
     * It waits for the failover, which lists it as unseen and drops it; the node that owns the message
     * then delivers it again.
     */
    private boolean nextIsCurrent() {
        Delivery next = buffer.peek();
        return next != null && next.gen() == session.connection().generation();
    }

    /** The next delivery, waiting until {@code deadlineNs}; null on timeout or close. */
    private Delivery take(long deadlineNs) throws JMSException {
        synchronized (this) {
            while (true) {
                if (closed) {
                    return null;
                }
                JMSException failure = session.connection().failure();
                if (failure != null) {
                    throw failure;
                }
                if (session.connection().isStarted() && nextIsCurrent()) {
                    Delivery d = buffer.poll();
                    inHand = d.tag();
                    inHandMessageId = d.deliver().message().messageId();
                    return d;
                }
                long waitNs = deadlineNs == Long.MAX_VALUE ? Long.MAX_VALUE : deadlineNs - System.nanoTime();
                if (waitNs <= 0) {
                    return null;
                }
                try {
                    wait(Math.max(1, Math.min(waitNs / 1_000_000L, 1000)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                }
            }
        }
    }

    /**
     * Turns a delivery into the application's message and grants credit; null (and acknowledged) if it
     * expired while buffered. The caller tells the session when the application has it.
     */
    private Message present(Delivery delivery) throws JMSException {
        Deliver d = delivery.deliver();
        TernMessage m = session.toMessage(d);
        m.deliveredVia(session.connection().linkName(delivery.gen()) + " delivery " + d.deliveryId());
        m.setJMSDestination(destination.kind().isQueueLike() ? destination : TernDestination.of(d.message().destination()));
        grantCredit(Deliver.creditBytes(d.message()));
        if (d.message().isExpired(System.currentTimeMillis())) {
            session.delivered(this, delivery, true);
            return null;
        }
        return m;
    }

    /** The application took a delivery of {@code bytes}: grants it back once half the prefetch or of the byte window is taken. */
    private void grantCredit(int bytes) {
        if (prefetch == 0) {
            return;
        }
        int grant = 0;
        int grantBytes = 0;
        synchronized (this) {
            consumedSinceCredit++;
            consumedBytesSinceCredit += bytes;
            if (consumedSinceCredit >= Math.max(1, prefetch / 2)
                    || (windowBytes > 0 && consumedBytesSinceCredit >= Math.max(1, windowBytes / 2))) {
                grant = consumedSinceCredit;
                grantBytes = windowBytes > 0 ? (int) Math.min(Integer.MAX_VALUE, consumedBytesSinceCredit) : 0;
                consumedSinceCredit = 0;
                consumedBytesSinceCredit = 0;
            }
        }
        if (grant > 0) {
            session.connection().fireAndForget(new Request.Credit(id, grant, grantBytes));
        }
    }

    // ---- listener -----------------------------------------------------------------------------

    private void drainToListener() {
        while (true) {
            MessageListener l;
            Delivery d;
            synchronized (this) {
                l = listener;
                if (closed || l == null || !session.connection().isStarted() || !nextIsCurrent()) {
                    drainScheduled = false;
                    return;
                }
                d = buffer.poll();
                inHand = d.tag();
                inHandMessageId = d.deliver().message().messageId();
            }
            try {
                deliverTo(l, d);
            } finally {
                settled();
            }
        }
    }

    private void deliverTo(MessageListener l, Delivery d) {
        Message m;
        try {
            m = present(d);
        } catch (JMSException e) {
            LOG.warn("Could not read delivery {}: {}", d.deliver().deliveryId(), e.getMessage());
            return;
        }
        if (m == null) {
            return;
        }
        // In the automatic modes the acknowledgement follows onMessage; otherwise the listener may
        // acknowledge or commit the message itself, so the session must know it first.
        boolean after = session.acknowledgesAfterListener();
        if (!after) {
            session.delivered(this, d, false);
        }
        try {
            l.onMessage(m);
        } catch (RuntimeException e) {
            LOG.warn("Message listener of consumer {} threw; the message will be redelivered", id, e);
            session.listenerFailed(d);
            return;
        }
        if (after) {
            session.delivered(this, d, false);
        }
    }

    @Override
    public MessageListener getMessageListener() throws JMSException {
        checkOpen();
        return listener;
    }

    @Override
    public void setMessageListener(MessageListener l) throws JMSException {
        checkOpen();
        listener = l;
        if (l != null) {
            scheduleDrain();
        } else {
            watchIdle();
        }
    }

    // ---- the rest of the API ------------------------------------------------------------------

    @Override
    public String getMessageSelector() throws JMSException {
        checkOpen();
        return selector;
    }

    @Override
    public Queue getQueue() throws JMSException {
        checkOpen();
        return (Queue) destination;
    }

    @Override
    public Topic getTopic() throws JMSException {
        checkOpen();
        return (Topic) destination;
    }

    @Override
    public boolean getNoLocal() throws JMSException {
        checkOpen();
        return noLocal;
    }

    private void checkOpen() throws JMSException {
        if (closed) {
            throw new IllegalStateException("the consumer is closed");
        }
        session.checkOpen();
    }

    @Override
    public void close() throws JMSException {
        if (closed) {
            return;
        }
        long[] seen = session.seenIds(this, session.connection().generation());
        markClosed();
        if (listener != null && !session.isSessionThread()) {
            session.awaitListenerIdle(); // a listener in progress on another thread completes first (MessageConsumer javadoc)
        }
        session.removed(this);
        try {
            if (session.connection().failure() == null && !session.connection().isClosed() && !session.isClosed()) {
                session.call(new Request.CloseConsumer(id, seen));
            }
        } finally {
            session.connection().unregister(this);
        }
    }
}
