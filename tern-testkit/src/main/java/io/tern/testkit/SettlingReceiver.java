package io.tern.testkit;

import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import jakarta.jms.TransactionRolledBackException;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A consumer loop for fault tests, accounted for by a {@link TotalQueueChecker}: receives, and
 * acknowledges (CLIENT_ACKNOWLEDGE) or commits (transacted) every {@code batch} messages, or when
 * none came for 200 ms. A commit that throws TransactionRolledBackException applied nothing: its
 * messages come again (counted in {@link #rolledBack}). Any other failure of an acknowledgement or a
 * commit leaves its messages in doubt in the checker.
 */
public final class SettlingReceiver implements Runnable {
    private final Session session;
    private final MessageConsumer consumer;
    private final TotalQueueChecker checker;
    private final int batch;
    private final BooleanSupplier stop;
    private final Consumer<Throwable> errors;
    private final AtomicInteger received = new AtomicInteger();
    private final AtomicInteger rolledBack = new AtomicInteger();
    private volatile Consumer<JMSException> settleFailures = e -> { };
    private volatile java.util.function.BiConsumer<String, String> trace = (id, event) -> { };

    public SettlingReceiver(Session session, MessageConsumer consumer, TotalQueueChecker checker, int batch,
                            BooleanSupplier stop, Consumer<Throwable> errors) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1: " + batch);
        }
        this.session = session;
        this.consumer = consumer;
        this.checker = checker;
        this.batch = batch;
        this.stop = stop;
        this.errors = errors;
    }

    /** Also tells {@code failures} of each acknowledgement or commit that left messages in doubt. */
    public SettlingReceiver onSettleFailure(Consumer<JMSException> failures) {
        this.settleFailures = failures;
        return this;
    }

    /**
     * Also tells {@code trace} of each message's events ("received", "acknowledged", "in doubt",
     * "rolled back"), for a test that explains where a lost or repeated message went.
     */
    public SettlingReceiver trace(java.util.function.BiConsumer<String, String> trace) {
        this.trace = trace;
        return this;
    }

    public int received() {
        return received.get();
    }

    public int rolledBack() {
        return rolledBack.get();
    }

    @Override
    public void run() {
        List<String> pending = new ArrayList<>();
        Message last = null;
        try {
            while (!stop.getAsBoolean()) {
                Message m = consumer.receive(200);
                if (m != null) {
                    checker.received(m.getJMSMessageID());
                    String via = m instanceof io.tern.client.message.TernMessage t && t.deliveredVia() != null
                            ? " from " + t.deliveredVia() : "";
                    trace.accept(m.getJMSMessageID(), (m.getJMSRedelivered() ? "received (redelivered)" : "received") + via);
                    pending.add(m.getJMSMessageID());
                    received.incrementAndGet();
                    last = m;
                }
                if (!pending.isEmpty() && (pending.size() >= batch || m == null)) {
                    settle(last, pending);
                }
            }
        } catch (Throwable t) {
            errors.accept(t);
        }
    }

    private void settle(Message last, List<String> pending) throws JMSException {
        try {
            if (session.getTransacted()) {
                session.commit();
            } else {
                last.acknowledge(); // acknowledges every message of the session received so far
            }
            pending.forEach(checker::acknowledged);
            pending.forEach(id -> trace.accept(id, "acknowledged"));
        } catch (TransactionRolledBackException e) {
            rolledBack.incrementAndGet();
            pending.forEach(id -> trace.accept(id, "rolled back"));
        } catch (JMSException e) {
            pending.forEach(checker::acknowledgementInDoubt);
            pending.forEach(id -> trace.accept(id, "in doubt: " + e.getMessage()));
            settleFailures.accept(e);
        }
        pending.clear();
    }
}
