package io.tern.server;

import io.tern.client.TernConnectionFactory;
import io.tern.protocol.WireMessage;
import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Queue;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code tern demo}: one node as its own process, a producer and a client-acknowledging consumer of
 * persistent messages, the node killed with SIGKILL half way and restarted, and a tally at the end.
 * A message counts as received once its acknowledgement returned; a duplicate is a message delivered
 * again after that. Exit status 0 only if nothing was lost and nothing acknowledged came twice.
 */
@Command(name = "demo", description = "Run the crash-and-recover demo on loopback.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--count", description = "Messages to send (default: ${DEFAULT-VALUE})")
    int count = 10_000;

    @Option(names = "--timeout", description = "Seconds before the demo gives up (default: ${DEFAULT-VALUE})")
    int timeoutSeconds = 300;

    private final PrintStream out = System.out;
    private final AtomicInteger sent = new AtomicInteger();
    private final AtomicInteger duplicates = new AtomicInteger();
    private final AtomicInteger redeliveries = new AtomicInteger();
    private final AtomicInteger reconnects = new AtomicInteger();
    private final Set<Integer> acknowledged = ConcurrentHashMap.newKeySet();
    private final Set<Integer> received = ConcurrentHashMap.newKeySet();
    /** Delivered, acknowledgement sent, answer lost with the node: the server may or may not have stored it. */
    private final Set<Integer> inDoubt = ConcurrentHashMap.newKeySet();
    private final CountDownLatch halfway = new CountDownLatch(1);
    private volatile boolean done;

    @Override
    public Integer call() throws Exception {
        Path dir = Files.createTempDirectory("tern-demo");
        int port = freePort();
        Path data = dir.resolve("demo-1");
        Path log = dir.resolve("demo-1.log");
        out.printf("Starting node demo-1 on tern://127.0.0.1:%d (data %s, log %s)%n", port, data, log);
        ServerProcess node = new ServerProcess("demo-1", port, data, log).start();
        if (!node.awaitListening(60_000)) {
            out.println("Node demo-1 did not start; see " + log);
            return 2;
        }
        TernConnectionFactory cf = new TernConnectionFactory("tern://127.0.0.1:" + port + "?connectTimeout=1000");
        Thread producer = new Thread(() -> produce(cf), "demo-producer");
        Thread consumer = new Thread(() -> consume(cf), "demo-consumer");
        long start = System.nanoTime();
        producer.start();
        consumer.start();
        Thread progress = new Thread(this::progress, "demo-progress");
        progress.setDaemon(true);
        progress.start();

        halfway.await();
        out.printf("Half way (%d sent): killing node demo-1 (pid %d) with SIGKILL%n", sent.get(), node.pid());
        node.kill();
        out.println("Node demo-1 is dead; restarting it from its data directory");
        node = new ServerProcess("demo-1", port, data, log).start();
        if (!node.awaitListening(60_000)) {
            out.println("Node demo-1 did not restart; see " + log);
            return 2;
        }
        out.println("Node demo-1 is back; clients reconnect and carry on");

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        producer.join(TimeUnit.NANOSECONDS.toMillis(Math.max(1, deadline - System.nanoTime())));
        while (!allAccountedFor() && System.nanoTime() < deadline) {
            consumer.join(200);
        }
        done = true;
        consumer.join(10_000);
        producer.join(1000);
        node.stop();
        double seconds = (System.nanoTime() - start) / 1e9;
        Set<Integer> settled = settled();
        int lost = count - settled.size();
        out.printf("Done in %.1f s: %d reconnects; %d messages delivered again because they were not yet acknowledged when the node died",
                seconds, reconnects.get(), redeliveries.get());
        inDoubt.removeAll(acknowledged);
        out.printf(inDoubt.isEmpty() ? "%n" : "; %d acknowledgements were in flight at the kill and the node had stored them%n",
                inDoubt.size());
        out.printf("sent=%d received=%d lost=%d duplicates=%d%n", sent.get(), settled.size(), lost, duplicates.get());
        return lost == 0 && duplicates.get() == 0 && sent.get() == count ? 0 : 1;
    }

    /**
     * Messages the consumer is done with: acknowledged, or delivered with an acknowledgement whose answer
     * was lost in the crash and that never came back (so the node had stored that acknowledgement).
     */
    private Set<Integer> settled() {
        Set<Integer> settled = ConcurrentHashMap.newKeySet();
        settled.addAll(acknowledged);
        settled.addAll(inDoubt);
        return settled;
    }

    private boolean allAccountedFor() {
        return settled().size() >= count;
    }

    private void progress() {
        while (!done) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
            out.printf("  progress: sent=%d received=%d%n", sent.get(), settled().size());
        }
    }

    private Connection connect(TernConnectionFactory cf) {
        while (!done) {
            try {
                Connection c = cf.createConnection();
                c.start();
                return c;
            } catch (JMSException e) {
                reconnects.incrementAndGet();
                pause();
            }
        }
        return null;
    }

    private static void pause() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (JMSException ignored) {
                // the connection is already broken; nothing more to release
            }
        }
    }

    private void produce(TernConnectionFactory cf) {
        int seq = 0;
        while (seq < count && !done) {
            Connection c = connect(cf);
            if (c == null) {
                return;
            }
            try {
                Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                Queue q = s.createQueue("demo");
                MessageProducer p = s.createProducer(q);
                while (seq < count) {
                    TextMessage m = s.createTextMessage("message " + seq);
                    m.setIntProperty("seq", seq);
                    // The same id on a resend lets the server drop the copy it may already have stored.
                    m.setStringProperty(WireMessage.DUPLICATE_ID, "demo-" + seq);
                    p.send(m);
                    seq++;
                    sent.set(seq);
                    if (seq == count / 2) {
                        halfway.countDown();
                    }
                }
            } catch (JMSException e) {
                out.println("  producer: " + e.getMessage() + "; reconnecting");
                reconnects.incrementAndGet();
            } finally {
                closeQuietly(c);
            }
        }
        halfway.countDown();
    }

    private void consume(TernConnectionFactory cf) {
        while (!done && !allAccountedFor()) {
            Connection c = connect(cf);
            if (c == null) {
                return;
            }
            List<Integer> batch = new ArrayList<>();
            try {
                Session s = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
                MessageConsumer consumer = s.createConsumer(s.createQueue("demo"));
                Message last = null;
                while (!done && !allAccountedFor()) {
                    Message m = consumer.receive(200);
                    if (m != null) {
                        int seq = m.getIntProperty("seq");
                        if (acknowledged.contains(seq)) {
                            duplicates.incrementAndGet();
                        } else if (!received.add(seq)) {
                            redeliveries.incrementAndGet();
                        }
                        inDoubt.remove(seq);
                        batch.add(seq);
                        last = m;
                    }
                    if (last != null && (batch.size() >= 100 || m == null)) {
                        last.acknowledge(); // returns once the server has stored the acknowledgement
                        acknowledged.addAll(batch);
                        batch.clear();
                        last = null;
                    }
                }
            } catch (JMSException e) {
                out.println("  consumer: " + e.getMessage() + "; reconnecting");
                reconnects.incrementAndGet();
                inDoubt.addAll(batch);
            } finally {
                closeQuietly(c);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
