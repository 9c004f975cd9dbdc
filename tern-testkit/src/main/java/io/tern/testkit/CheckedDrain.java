package io.tern.testkit;

import io.tern.client.TernConnectionFactory;
import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import jakarta.jms.Session;

import java.util.function.Consumer;

/**
 * A consumer on one server only ({@code failover=false}) that takes every message of a queue and
 * acknowledges it one by one, accounted for by a {@link TotalQueueChecker}: what a fault test uses
 * at its end to take what each node still stores. Close it to stop.
 */
public final class CheckedDrain implements AutoCloseable {
    private final Connection connection;

    public CheckedDrain(String serverUrl, String queue, TotalQueueChecker checker, Consumer<Throwable> errors)
            throws JMSException {
        this(serverUrl, queue, checker, errors, (id, event) -> { });
    }

    /** As {@link #CheckedDrain(String, String, TotalQueueChecker, Consumer)}, telling {@code trace} of each message it takes. */
    public CheckedDrain(String serverUrl, String queue, TotalQueueChecker checker, Consumer<Throwable> errors,
                        java.util.function.BiConsumer<String, String> trace) throws JMSException {
        connection = new TernConnectionFactory(serverUrl + (serverUrl.contains("?") ? "&" : "?") + "failover=false").createConnection();
        try {
            connection.setExceptionListener(errors::accept);
            Session s = connection.createSession(false, Session.CLIENT_ACKNOWLEDGE);
            s.createConsumer(s.createQueue(queue)).setMessageListener(m -> {
                try {
                    checker.received(m.getJMSMessageID());
                    trace.accept(m.getJMSMessageID(), "drained from " + serverUrl);
                    m.acknowledge();
                    checker.acknowledged(m.getJMSMessageID());
                } catch (JMSException e) {
                    errors.accept(e);
                }
            });
            connection.start();
        } catch (JMSException e) {
            connection.close();
            throw e;
        }
    }

    @Override
    public void close() throws JMSException {
        connection.close();
    }
}
