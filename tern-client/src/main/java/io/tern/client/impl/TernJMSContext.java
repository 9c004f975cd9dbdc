package io.tern.client.impl;

import jakarta.jms.BytesMessage;
import jakarta.jms.ConnectionMetaData;
import jakarta.jms.Destination;
import jakarta.jms.ExceptionListener;
import jakarta.jms.IllegalStateRuntimeException;
import jakarta.jms.JMSConsumer;
import jakarta.jms.JMSContext;
import jakarta.jms.JMSException;
import jakarta.jms.JMSProducer;
import jakarta.jms.MapMessage;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.ObjectMessage;
import jakarta.jms.Queue;
import jakarta.jms.QueueBrowser;
import jakarta.jms.StreamMessage;
import jakarta.jms.TemporaryQueue;
import jakarta.jms.TemporaryTopic;
import jakarta.jms.TextMessage;
import jakarta.jms.Topic;

import java.io.Serializable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The simplified API: a connection and one session. Contexts made by {@link #createContext(int)} share
 * the connection; it closes when the last of them does. A consumer starts the connection unless
 * auto-start is off.
 */
public final class TernJMSContext implements JMSContext {
    private final TernConnection connection;
    private final AtomicInteger users;
    private final int sessionMode;
    private TernSession session;
    private TernMessageProducer producer;
    private boolean autoStart = true;
    private boolean closed;

    private TernJMSContext(TernConnection connection, AtomicInteger users, int sessionMode) {
        this.connection = connection;
        this.users = users;
        this.sessionMode = sessionMode;
    }

    public static TernJMSContext open(TernConnection connection, int sessionMode) throws JMSException {
        checkMode(sessionMode);
        return new TernJMSContext(connection, new AtomicInteger(1), sessionMode);
    }

    /** Checked before a connection is made for the context, so that a bad mode leaks none. */
    public static void checkMode(int mode) {
        if (mode < SESSION_TRANSACTED || mode > DUPS_OK_ACKNOWLEDGE) {
            throw new jakarta.jms.JMSRuntimeException("unknown session mode " + mode);
        }
    }

    interface Call<T> {
        T call() throws JMSException;
    }

    static <T> T unchecked(Call<T> c) {
        try {
            return c.call();
        } catch (JMSException e) {
            throw JmsErrors.unchecked(e);
        }
    }

    /** Every method but close on a closed context throws (JMSContext javadoc), even while its connection serves others. */
    private synchronized void checkOpen() {
        if (closed) {
            throw new IllegalStateRuntimeException("the context is closed");
        }
    }

    private synchronized TernSession session() {
        checkOpen();
        if (session == null) {
            session = unchecked(() -> connection.newSession(sessionMode));
        }
        return session;
    }

    private synchronized TernMessageProducer producer() {
        checkOpen();
        if (producer == null) {
            producer = (TernMessageProducer) unchecked(() -> session().createProducer(null));
        }
        return producer;
    }

    private JMSConsumer consumer(Call<MessageConsumer> create) {
        MessageConsumer c = unchecked(create);
        if (autoStart) {
            unchecked(() -> {
                connection.start();
                return null;
            });
        }
        return new TernJMSConsumer((TernMessageConsumer) c);
    }

    @Override
    public JMSContext createContext(int mode) {
        checkMode(mode);
        checkOpen();
        users.incrementAndGet();
        return new TernJMSContext(connection, users, mode);
    }

    @Override
    public JMSProducer createProducer() {
        return new TernJMSProducer(this, producer());
    }

    @Override
    public String getClientID() {
        checkOpen();
        return unchecked(connection::getClientID);
    }

    @Override
    public void setClientID(String clientID) {
        checkOpen();
        unchecked(() -> {
            connection.setClientID(clientID);
            return null;
        });
    }

    @Override
    public ConnectionMetaData getMetaData() {
        checkOpen();
        return unchecked(connection::getMetaData);
    }

    @Override
    public ExceptionListener getExceptionListener() {
        checkOpen();
        return unchecked(connection::getExceptionListener);
    }

    @Override
    public void setExceptionListener(ExceptionListener listener) {
        checkOpen();
        unchecked(() -> {
            connection.setExceptionListener(listener);
            return null;
        });
    }

    @Override
    public void start() {
        checkOpen();
        unchecked(() -> {
            connection.start();
            return null;
        });
    }

    @Override
    public void stop() {
        checkOpen();
        unchecked(() -> {
            connection.stop();
            return null;
        });
    }

    @Override
    public void setAutoStart(boolean autoStart) {
        checkOpen();
        this.autoStart = autoStart;
    }

    @Override
    public boolean getAutoStart() {
        checkOpen();
        return autoStart;
    }

    @Override
    public void close() {
        TernSession s;
        synchronized (this) {
            if (closed) {
                return;
            }
            s = session;
        }
        // Closed only once the session closed: a listener's refused close leaves the context whole.
        unchecked(() -> {
            if (s != null) {
                s.close();
            }
            return null;
        });
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        unchecked(() -> {
            if (users.decrementAndGet() == 0) {
                connection.close();
            }
            return null;
        });
    }

    @Override public BytesMessage createBytesMessage() { return unchecked(() -> session().createBytesMessage()); }
    @Override public MapMessage createMapMessage() { return unchecked(() -> session().createMapMessage()); }
    @Override public Message createMessage() { return unchecked(() -> session().createMessage()); }
    @Override public ObjectMessage createObjectMessage() { return unchecked(() -> session().createObjectMessage()); }
    @Override public ObjectMessage createObjectMessage(Serializable o) { return unchecked(() -> session().createObjectMessage(o)); }
    @Override public StreamMessage createStreamMessage() { return unchecked(() -> session().createStreamMessage()); }
    @Override public TextMessage createTextMessage() { return unchecked(() -> session().createTextMessage()); }
    @Override public TextMessage createTextMessage(String t) { return unchecked(() -> session().createTextMessage(t)); }
    @Override public boolean getTransacted() { return unchecked(() -> session().getTransacted()); }
    @Override public int getSessionMode() { checkOpen(); return sessionMode; }

    @Override
    public void commit() {
        unchecked(() -> {
            session().commit();
            return null;
        });
    }

    @Override
    public void rollback() {
        unchecked(() -> {
            session().rollback();
            return null;
        });
    }

    @Override
    public void recover() {
        unchecked(() -> {
            session().recover();
            return null;
        });
    }

    @Override public JMSConsumer createConsumer(Destination d) { return consumer(() -> session().createConsumer(d)); }
    @Override public JMSConsumer createConsumer(Destination d, String s) { return consumer(() -> session().createConsumer(d, s)); }
    @Override public JMSConsumer createConsumer(Destination d, String s, boolean n) { return consumer(() -> session().createConsumer(d, s, n)); }
    @Override public Queue createQueue(String name) { return unchecked(() -> session().createQueue(name)); }
    @Override public Topic createTopic(String name) { return unchecked(() -> session().createTopic(name)); }
    @Override public JMSConsumer createDurableConsumer(Topic t, String n) { return consumer(() -> session().createDurableConsumer(t, n)); }
    @Override public JMSConsumer createDurableConsumer(Topic t, String n, String s, boolean l) { return consumer(() -> session().createDurableConsumer(t, n, s, l)); }
    @Override public JMSConsumer createSharedDurableConsumer(Topic t, String n) { return consumer(() -> session().createSharedDurableConsumer(t, n)); }
    @Override public JMSConsumer createSharedDurableConsumer(Topic t, String n, String s) { return consumer(() -> session().createSharedDurableConsumer(t, n, s)); }
    @Override public JMSConsumer createSharedConsumer(Topic t, String n) { return consumer(() -> session().createSharedConsumer(t, n)); }
    @Override public JMSConsumer createSharedConsumer(Topic t, String n, String s) { return consumer(() -> session().createSharedConsumer(t, n, s)); }
    @Override public QueueBrowser createBrowser(Queue q) { return unchecked(() -> session().createBrowser(q)); }
    @Override public QueueBrowser createBrowser(Queue q, String s) { return unchecked(() -> session().createBrowser(q, s)); }
    @Override public TemporaryQueue createTemporaryQueue() { return unchecked(() -> session().createTemporaryQueue()); }
    @Override public TemporaryTopic createTemporaryTopic() { return unchecked(() -> session().createTemporaryTopic()); }

    @Override
    public void unsubscribe(String name) {
        unchecked(() -> {
            session().unsubscribe(name);
            return null;
        });
    }

    @Override
    public void acknowledge() {
        checkOpen();
        unchecked(() -> {
            if (sessionMode == CLIENT_ACKNOWLEDGE) {
                session().acknowledgeAll();
            }
            return null;
        });
    }
}
