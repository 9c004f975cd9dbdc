package io.tern.client.impl;

import io.tern.client.TernDestination;
import io.tern.client.message.ForeignMessages;
import io.tern.client.message.TernMessage;
import io.tern.protocol.Request;
import io.tern.protocol.Response;
import io.tern.protocol.WireMessage;
import jakarta.jms.CompletionListener;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Destination;
import jakarta.jms.IllegalStateException;
import jakarta.jms.InvalidDestinationException;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.Queue;
import jakarta.jms.QueueSender;
import jakarta.jms.Topic;
import jakarta.jms.TopicPublisher;

import java.util.concurrent.CompletableFuture;

/**
 * A producer. Persistent sends outside a transaction wait until the server has stored the message
 * (they carry a duplicate-detection id, so a resend after a failure is dropped by the server);
 * non-persistent and transacted sends are asynchronous within the connection's producer window.
 */
public final class TernMessageProducer implements QueueSender, TopicPublisher {
    /** The producer whose completion listener runs on this thread now. */
    private static final ThreadLocal<TernMessageProducer> IN_CALLBACK_OF = new ThreadLocal<>();

    private final TernSession session;
    private final TernDestination destination;
    private int deliveryMode = DeliveryMode.PERSISTENT;
    private int priority = Message.DEFAULT_PRIORITY;
    private long timeToLive = Message.DEFAULT_TIME_TO_LIVE;
    private long deliveryDelay = Message.DEFAULT_DELIVERY_DELAY;
    private boolean disableMessageId;
    private boolean disableTimestamp;
    private volatile boolean closed;
    /** Message ids, which persistent sends also carry as their duplicate-detection id. */
    private final MessageIds ids = new MessageIds();

    TernMessageProducer(TernSession session, TernDestination destination) {
        this.session = session;
        this.destination = destination;
    }

    private void checkOpen() throws JMSException {
        if (closed) {
            throw new IllegalStateException("the producer is closed");
        }
        session.checkOpen();
    }

    // ---- settings -----------------------------------------------------------------------------

    @Override public void setDisableMessageID(boolean v) throws JMSException { checkOpen(); disableMessageId = v; }
    @Override public boolean getDisableMessageID() throws JMSException { checkOpen(); return disableMessageId; }
    @Override public void setDisableMessageTimestamp(boolean v) throws JMSException { checkOpen(); disableTimestamp = v; }
    @Override public boolean getDisableMessageTimestamp() throws JMSException { checkOpen(); return disableTimestamp; }
    @Override public int getDeliveryMode() throws JMSException { checkOpen(); return deliveryMode; }
    @Override public int getPriority() throws JMSException { checkOpen(); return priority; }
    @Override public long getTimeToLive() throws JMSException { checkOpen(); return timeToLive; }
    @Override public void setTimeToLive(long v) throws JMSException { checkOpen(); timeToLive = v; }
    @Override public long getDeliveryDelay() throws JMSException { checkOpen(); return deliveryDelay; }
    @Override public void setDeliveryDelay(long v) throws JMSException { checkOpen(); deliveryDelay = v; }

    @Override
    public void setDeliveryMode(int mode) throws JMSException {
        checkOpen();
        checkMode(mode);
        deliveryMode = mode;
    }

    @Override
    public void setPriority(int p) throws JMSException {
        checkOpen();
        checkPriority(p);
        priority = p;
    }

    private static void checkMode(int mode) throws JMSException {
        if (mode != DeliveryMode.PERSISTENT && mode != DeliveryMode.NON_PERSISTENT) {
            throw new JMSException("delivery mode must be PERSISTENT or NON_PERSISTENT: " + mode);
        }
    }

    private static void checkPriority(int p) throws JMSException {
        if (p < 0 || p > 9) {
            throw new JMSException("priority must be 0..9: " + p);
        }
    }

    @Override
    public Destination getDestination() throws JMSException {
        checkOpen();
        return destination;
    }

    @Override
    public Queue getQueue() throws JMSException {
        return (Queue) getDestination();
    }

    @Override
    public Topic getTopic() throws JMSException {
        return (Topic) getDestination();
    }

    // ---- send ---------------------------------------------------------------------------------

    @Override
    public void send(Message m) throws JMSException {
        send(m, deliveryMode, priority, timeToLive);
    }

    @Override
    public void send(Message m, int mode, int prio, long ttl) throws JMSException {
        sendTo(null, m, mode, prio, ttl, null);
    }

    @Override
    public void send(Destination d, Message m) throws JMSException {
        send(d, m, deliveryMode, priority, timeToLive);
    }

    @Override
    public void send(Destination d, Message m, int mode, int prio, long ttl) throws JMSException {
        sendTo(requireDestination(d), m, mode, prio, ttl, null);
    }

    @Override
    public void send(Message m, CompletionListener l) throws JMSException {
        send(m, deliveryMode, priority, timeToLive, l);
    }

    @Override
    public void send(Message m, int mode, int prio, long ttl, CompletionListener l) throws JMSException {
        sendTo(null, m, mode, prio, ttl, requireListener(l));
    }

    @Override
    public void send(Destination d, Message m, CompletionListener l) throws JMSException {
        send(d, m, deliveryMode, priority, timeToLive, l);
    }

    @Override
    public void send(Destination d, Message m, int mode, int prio, long ttl, CompletionListener l) throws JMSException {
        sendTo(requireDestination(d), m, mode, prio, ttl, requireListener(l));
    }

    @Override public void send(Queue q, Message m) throws JMSException { send((Destination) q, m); }
    @Override public void send(Queue q, Message m, int mode, int prio, long ttl) throws JMSException { send((Destination) q, m, mode, prio, ttl); }
    @Override public void publish(Message m) throws JMSException { send(m); }
    @Override public void publish(Topic t, Message m) throws JMSException { send(t, m); }
    @Override public void publish(Message m, int mode, int prio, long ttl) throws JMSException { send(m, mode, prio, ttl); }
    @Override public void publish(Topic t, Message m, int mode, int prio, long ttl) throws JMSException { send(t, m, mode, prio, ttl); }

    private Destination requireDestination(Destination d) throws JMSException {
        if (destination != null) {
            throw new UnsupportedOperationException("this producer was created with a destination; use send(Message)");
        }
        if (d == null) {
            throw new InvalidDestinationException("destination must not be null");
        }
        return d;
    }

    private static CompletionListener requireListener(CompletionListener l) {
        if (l == null) {
            throw new IllegalArgumentException("completion listener must not be null");
        }
        return l;
    }

    private void sendTo(Destination explicit, Message message, int mode, int prio, long ttl, CompletionListener listener)
            throws JMSException {
        checkOpen();
        if (message == null) {
            throw new jakarta.jms.MessageFormatException("message must not be null");
        }
        checkMode(mode);
        checkPriority(prio);
        TernDestination target = explicit != null ? TernDestination.from(explicit) : destination;
        if (target == null) {
            throw new UnsupportedOperationException("this producer has no destination; use send(Destination, Message)");
        }
        long now = System.currentTimeMillis();
        String messageId = disableMessageId ? null : ids.next();
        TernMessage tern = ForeignMessages.adopt(message);
        for (Message m : tern == message ? new Message[] {message} : new Message[] {message, tern}) {
            m.setJMSDestination(target);
            m.setJMSDeliveryMode(mode);
            m.setJMSPriority(prio);
            m.setJMSExpiration(ttl > 0 ? now + ttl : 0);
            m.setJMSTimestamp(disableTimestamp ? 0 : now);
            m.setJMSMessageID(messageId);
            m.setJMSDeliveryTime(now + deliveryDelay);
        }
        WireMessage wire = tern.toWire(messageId != null ? messageId : ids.next());
        TernConnection c = session.connection();
        checkSize(wire, c.maxFrameSize());
        boolean transacted = session.getTransacted();
        if (transacted) {
            session.transactionWork(c.generation());
            session.transactedSend(wire);
        }
        boolean sync = listener == null && mode == DeliveryMode.PERSISTENT && !transacted;
        if (sync) {
            c.call(new Request.Send(session.id(), wire));
            return;
        }
        int permits = Math.min(wire.estimatedSize(), c.config().producerWindowBytes());
        acquire(c, permits);
        AsyncSends pending = session.asyncSends();
        pending.started(this);
        CompletableFuture<Response> answer;
        try {
            answer = c.request(new Request.Send(session.id(), wire));
        } catch (RuntimeException e) {
            c.producerWindow.release(permits);
            pending.done(this);
            throw e;
        }
        answer.whenComplete((r, failure) -> {
            c.producerWindow.release(permits);
            if (listener == null) {
                if (failure != null || r instanceof Response.Error) {
                    org.slf4j.LoggerFactory.getLogger(TernMessageProducer.class).warn("Asynchronous send failed: {}",
                            failure != null ? failure.toString() : ((Response.Error) r).message());
                }
                pending.done(this);
                return;
            }
            // On the session's completion thread: one callback at a time, never on the sending thread.
            session.completions().execute(() -> {
                IN_CALLBACK_OF.set(this);
                try {
                    complete(listener, message, r, failure);
                } finally {
                    IN_CALLBACK_OF.remove();
                    pending.done(this);
                }
            });
        });
    }

    /** Bytes of a send frame around its message: kind, correlation, digest, type, session. */
    private static final int SEND_ENVELOPE = 1 + 8 + 8 + 1 + 4;

    /**
     * Refuses a message the server would refuse, before it goes on the wire (the server would close
     * the connection). The exact size is computed only when the estimate comes near the limit.
     */
    private static void checkSize(WireMessage wire, int maxFrameSize) throws JMSException {
        if ((long) wire.estimatedSize() * 3 + 4096 < maxFrameSize) {
            return;
        }
        io.netty.buffer.ByteBuf buf = io.netty.buffer.Unpooled.buffer();
        try {
            io.tern.protocol.FrameCodec.writeMessage(wire, buf);
            int size = buf.readableBytes() + SEND_ENVELOPE;
            if (size > maxFrameSize) {
                throw new jakarta.jms.ResourceAllocationException("message of " + size
                        + " bytes exceeds the server's maximum frame size of " + maxFrameSize + " bytes", "MESSAGE_TOO_LARGE");
            }
        } finally {
            buf.release();
        }
    }

    private static void acquire(TernConnection c, int permits) throws JMSException {
        try {
            c.producerWindow.acquire(permits);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JMSException("interrupted while waiting for room in the producer window");
        }
    }

    private static void complete(CompletionListener l, Message m, Response r, Throwable failure) {
        if (failure != null) {
            l.onException(m, failure instanceof Exception e ? JmsErrors.wrap("send failed", e) : new JMSException(failure.toString()));
        } else if (r instanceof Response.Error e) {
            l.onException(m, JmsErrors.toJms(e));
        } else {
            l.onCompletion(m);
        }
    }

    void closeQuietly() {
        closed = true;
    }

    /**
     * Waits for this producer's asynchronous sends and their completion listeners, then closes. A
     * completion listener of this very producer may not close it (it would wait for itself).
     */
    @Override
    public void close() throws JMSException {
        if (IN_CALLBACK_OF.get() == this) {
            throw new IllegalStateException("a completion listener may not close its own producer");
        }
        if (closed) {
            return;
        }
        if (!session.isCompletionThread()) { // another producer's callback: its own queue would wait behind it
            session.asyncSends().await(this, session.connection().config().callTimeoutMs());
        }
        closed = true;
        session.removed(this);
    }
}
