package io.tern.bench;

import jakarta.jms.BytesMessage;
import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.DeliveryMode;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import org.HdrHistogram.Histogram;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The latency of a persistent send at a fixed rate, with one consumer taking what is sent: each send
 * is timed from the moment it was due (not from when it started, so a send held up by the one before
 * it counts its wait too: no coordinated omission) to the return of {@code send()}, in microseconds.
 */
record SendLatency(String name, int ratePerSecond, int seconds, int size) {

    Histogram run(ConnectionFactory cf, String queueName) throws Exception {
        Histogram h = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
        int count = ratePerSecond * seconds;
        AtomicInteger received = new AtomicInteger();
        try (Connection consumerConnection = cf.createConnection(); Connection producerConnection = cf.createConnection()) {
            Session cs = consumerConnection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = cs.createConsumer(cs.createQueue(queueName));
            consumer.setMessageListener(m -> received.incrementAndGet());
            consumerConnection.start();
            Session ps = producerConnection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = ps.createProducer(ps.createQueue(queueName));
            p.setDeliveryMode(DeliveryMode.PERSISTENT);
            byte[] body = new byte[size];
            long periodNs = TimeUnit.SECONDS.toNanos(1) / ratePerSecond;
            long start = System.nanoTime();
            for (int i = 0; i < count; i++) {
                long due = start + i * periodNs;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                BytesMessage m = ps.createBytesMessage();
                m.writeBytes(body);
                p.send(m);
                h.recordValue(Math.max(0, (System.nanoTime() - due) / 1000));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (received.get() < count && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            if (received.get() < count) {
                throw new IllegalStateException(name + ": the consumer got " + received.get() + " of " + count);
            }
        }
        return h;
    }
}
