package io.tern.bench;

import jakarta.jms.BytesMessage;
import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Queue;
import jakarta.jms.Session;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One workload: P producers and C consumers on one queue, each with its own connection, sending
 * {@code messages} bodies of {@code size} bytes; throughput is messages over the time from the first
 * send to the last receive. Each consumer takes its share of the messages; with {@code shared}, the
 * consumers take messages until all have arrived, however they are spread among them (a cluster does
 * not deal them out evenly, and a consumer that stopped at its share would keep its prefetched ones).
 */
record Workload(String name, int producers, int consumers, int messages, int size, boolean persistent, int txBatch,
                boolean shared) {

    Workload(String name, int producers, int consumers, int messages, int size, boolean persistent, int txBatch) {
        this(name, producers, consumers, messages, size, persistent, txBatch, false);
    }

    double run(ConnectionFactory cf, String queueName) throws Exception {
        List<Connection> connections = new ArrayList<>();
        try {
            int perProducer = messages / producers;
            int total = perProducer * producers;
            int perConsumer = total / consumers;
            CountDownLatch ready = new CountDownLatch(consumers);
            CountDownLatch done = new CountDownLatch(producers + consumers);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            java.util.concurrent.atomic.AtomicInteger received = new java.util.concurrent.atomic.AtomicInteger();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < consumers; i++) {
                Connection c = cf.createConnection();
                connections.add(c);
                int quota = i == consumers - 1 ? total - perConsumer * (consumers - 1) : perConsumer;
                threads.add(new Thread(() -> {
                    if (shared) {
                        consumeShared(c, queueName, total, received, ready, done, failure);
                    } else {
                        consume(c, queueName, quota, ready, done, failure);
                    }
                }, name + "-consumer-" + i));
            }
            for (int i = 0; i < producers; i++) {
                Connection c = cf.createConnection();
                connections.add(c);
                threads.add(new Thread(() -> produce(c, queueName, perProducer, ready, done, failure), name + "-producer-" + i));
            }
            long start = System.nanoTime();
            threads.forEach(Thread::start);
            done.await();
            long elapsed = System.nanoTime() - start;
            if (failure.get() != null) {
                throw new IllegalStateException(name + " failed", failure.get());
            }
            return total / (elapsed / 1e9);
        } finally {
            for (Connection c : connections) {
                c.close();
            }
        }
    }

    private Session session(Connection c) throws Exception {
        return txBatch > 0 ? c.createSession(true, Session.SESSION_TRANSACTED) : c.createSession(false, Session.AUTO_ACKNOWLEDGE);
    }

    private void produce(Connection c, String queueName, int count, CountDownLatch ready, CountDownLatch done,
                         AtomicReference<Throwable> failure) {
        try {
            ready.await();
            Session s = session(c);
            Queue q = s.createQueue(queueName);
            MessageProducer p = s.createProducer(q);
            p.setDeliveryMode(persistent ? DeliveryMode.PERSISTENT : DeliveryMode.NON_PERSISTENT);
            byte[] body = new byte[size];
            for (int i = 1; i <= count; i++) {
                BytesMessage m = s.createBytesMessage();
                m.writeBytes(body);
                p.send(m);
                if (txBatch > 0 && i % txBatch == 0) {
                    s.commit();
                }
            }
            if (txBatch > 0) {
                s.commit();
            }
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        } finally {
            done.countDown();
        }
    }

    /** Takes messages (AUTO_ACKNOWLEDGE) until {@code total} have arrived among all consumers. */
    private void consumeShared(Connection c, String queueName, int total, java.util.concurrent.atomic.AtomicInteger received,
                               CountDownLatch ready, CountDownLatch done, AtomicReference<Throwable> failure) {
        try {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = s.createConsumer(s.createQueue(queueName));
            c.start();
            ready.countDown();
            long lastNs = System.nanoTime();
            while (received.get() < total) {
                if (consumer.receive(100) != null) {
                    received.incrementAndGet();
                    lastNs = System.nanoTime();
                } else if (System.nanoTime() - lastNs > 60_000_000_000L) {
                    throw new IllegalStateException("no message for 60 s after " + received.get() + " of " + total);
                }
            }
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
            ready.countDown();
        } finally {
            done.countDown();
        }
    }

    private void consume(Connection c, String queueName, int count, CountDownLatch ready, CountDownLatch done,
                         AtomicReference<Throwable> failure) {
        try {
            Session s = session(c);
            MessageConsumer consumer = s.createConsumer(s.createQueue(queueName));
            c.start();
            ready.countDown();
            for (int i = 1; i <= count; i++) {
                Message m = consumer.receive(60_000);
                if (m == null) {
                    throw new IllegalStateException("no message for 60 s after " + (i - 1) + " of " + count);
                }
                if (txBatch > 0 && i % txBatch == 0) {
                    s.commit();
                }
            }
            if (txBatch > 0) {
                s.commit();
            }
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
            ready.countDown();
        } finally {
            done.countDown();
        }
    }
}
