package io.tern.testkit;

import jakarta.jms.Message;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A thread that sends text messages ({@code m-0}, {@code m-1}, ...) through one producer, one after
 * the other, until stopped: what a fault test sends while it hurts the producer's server. Each send
 * that returns is told to {@code sent} with its message id; the first exception ends the thread and
 * goes to {@code errors}.
 */
public final class SendingThread {
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicInteger count = new AtomicInteger();
    private final Thread thread;

    public SendingThread(Session session, MessageProducer producer, Consumer<String> sent, Consumer<Throwable> errors) {
        thread = new Thread(() -> {
            try {
                while (!stop.get()) {
                    Message m = session.createTextMessage("m-" + count.get());
                    producer.send(m);
                    sent.accept(m.getJMSMessageID());
                    count.incrementAndGet();
                }
            } catch (Throwable t) {
                errors.accept(t);
            }
        }, "test-producer");
        thread.start();
    }

    /** The sends that returned so far. */
    public int sent() {
        return count.get();
    }

    /** Stops after the send under way and waits (up to 30 s) for it. */
    public void stop() throws InterruptedException {
        stop.set(true);
        thread.join(30_000);
    }
}
