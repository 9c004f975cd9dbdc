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

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code tern demo}: a cluster of three nodes on loopback as three processes with replication, a
 * producer and a client-acknowledging consumer of persistent messages that find the cluster through
 * {@code multicast://}, the consumer's node killed with SIGKILL half way, and a tally at the end.
 * A message counts as received once its acknowledgement returned; a duplicate is a message delivered
 * again after that. Exit status 0 only if nothing was lost and nothing acknowledged came twice.
 */
@Command(name = "demo", description = "Run the failover demo: three nodes on loopback, one killed half way.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--count", description = "Messages to send (default: ${DEFAULT-VALUE})")
    int count = 10_000;

    @Option(names = "--timeout", description = "Seconds before the demo gives up (default: ${DEFAULT-VALUE})")
    int timeoutSeconds = 300;

    @Option(names = "--keep-running", description = "After the tally, keep the surviving nodes running (with their "
            + "consoles) until Ctrl-C")
    boolean keepRunning;

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
    /** The server the consumer's connection uses ({@code host:port}). */
    private volatile String consumerServer = "";

    @Override
    public Integer call() throws Exception {
        Path dir = Files.createTempDirectory("tern-demo");
        int clusterPort = io.tern.discovery.FreePorts.freeUdp();
        int discoveryPort = io.tern.discovery.FreePorts.freeUdp();
        String cluster = "demo-" + clusterPort;
        String clusterAddress = io.tern.discovery.FreePorts.multicastGroup(207);
        String discoveryAddress = io.tern.discovery.FreePorts.multicastGroup(208);
        List<ServerProcess> nodes = new ArrayList<>();
        List<String> consoles = new ArrayList<>();
        out.printf("Starting a cluster of 3 nodes on loopback, as 3 processes (cluster %s, logs in %s)%n", cluster, dir);
        for (int i = 1; i <= 3; i++) {
            String name = "demo-" + i;
            int consolePort = io.tern.discovery.FreePorts.free();
            consoles.add("http://127.0.0.1:" + consolePort);
            ServerProcess node = new ServerProcess(name, io.tern.discovery.FreePorts.free(), dir.resolve(name), dir.resolve(name + ".log"),
                    "--console-port", Integer.toString(consolePort),
                    "--cluster", cluster, "--cluster-port", Integer.toString(clusterPort), "--cluster-address", clusterAddress,
                    "--discovery-address", discoveryAddress, "--discovery-port", Integer.toString(discoveryPort),
                    "--machine-id", "demo-machine-" + i, "--replication", "--clustered-queues").start();
            nodes.add(node);
            out.printf("  %s on %s (pid %d), console %s%n", name, node.url(), node.pid(), consoles.get(i - 1));
        }
        try {
            for (ServerProcess n : nodes) {
                if (!n.awaitListening(60_000)) {
                    out.println("A node did not start; see the logs in " + dir);
                    return ExitCodes.FAILED;
                }
            }
            String url = "multicast://" + discoveryAddress + ":" + discoveryPort + "?group=" + cluster
                    + "&timeout=5000&connectTimeout=1000&reconnectAttempts=1&reconnectDelay=50";
            out.println("Clients find the cluster with " + url);
            TernConnectionFactory cf = new TernConnectionFactory(url);
            if (!ServerProcess.awaitClusterMembers(cf, 3, 60_000)) {
                out.println("The nodes did not form one cluster within 60 s; see the logs in " + dir);
                return ExitCodes.FAILED;
            }
            printMap(cf);
            out.println("Watch it in the web console: " + consoles.get(0) + " (any node's console shows the whole cluster)");
            // The producer where multicast discovery put it, the consumer on another node: every message
            // moves from the producer's node to the consumer's (clustered queues, docs/CLUSTERING.md).
            Connection connection = cf.createConnection();
            String producerServer = ((io.tern.client.impl.TernConnection) connection).server();
            String consumerUri = cf.clusterTopology().members().stream().flatMap(m -> m.clientUris().stream())
                    .filter(u -> !u.endsWith("//" + producerServer)).findFirst().orElseThrow();
            Connection consumerConnection = new TernConnectionFactory(consumerUri
                    + "?timeout=5000&connectTimeout=1000&reconnectAttempts=1&reconnectDelay=50").createConnection();
            consumerConnection.start();
            consumerServer = ((io.tern.client.impl.TernConnection) consumerConnection).server();
            out.printf("Producer on tern://%s, consumer on tern://%s: each message moves to the consumer's node%n",
                    producerServer, consumerServer);
            Thread producer = new Thread(() -> produce(connection), "demo-producer");
            Thread consumer = new Thread(() -> consume(consumerConnection), "demo-consumer");
            long start = System.nanoTime();
            producer.start();
            consumer.start();
            Thread progress = new Thread(this::progress, "demo-progress");
            progress.setDaemon(true);
            progress.start();

            halfway.await();
            String consumerServer = this.consumerServer;
            ServerProcess victim = nodes.stream().filter(n -> consumerServer.endsWith(":" + n.port())).findFirst()
                    .orElse(nodes.get(0));
            out.printf("Half way (%d sent): killing %s, the consumer's node (pid %d), with SIGKILL%n", sent.get(),
                    victim.url(), victim.pid());
            victim.kill();
            out.println("The consumer fails over to its failover node, which takes over its messages and the moves under way");

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
            producer.join(TimeUnit.NANOSECONDS.toMillis(Math.max(1, deadline - System.nanoTime())));
            while (!allAccountedFor() && System.nanoTime() < deadline) {
                consumer.join(200);
            }
            done = true;
            progress.interrupt(); // no progress line after the tally
            progress.join(1000);
            consumer.join(10_000);
            producer.join(1000);
            closeQuietly(connection);
            closeQuietly(consumerConnection);
            double seconds = (System.nanoTime() - start) / 1e9;
            Set<Integer> settled = settled();
            int lost = count - settled.size();
            out.printf("Done in %.1f s: %d acknowledgements the application saw fail; %d messages delivered again "
                    + "because they were not yet acknowledged when the node died", seconds, reconnects.get(), redeliveries.get());
            inDoubt.removeAll(acknowledged);
            out.printf(inDoubt.isEmpty() ? "%n" : "; %d messages were in a batch whose acknowledge() failed but had been "
                    + "acknowledged after all (never delivered again)%n", inDoubt.size());
            int alive = 0;
            while (alive < nodes.size() - 1 && !nodes.get(alive).isAlive()) {
                alive++;
            }
            out.printf("Console: %s  (or bin/tern status --url %s)%n", consoles.get(alive), nodes.get(alive).url());
            out.printf("sent=%d received=%d lost=%d duplicates=%d%n", sent.get(), settled.size(), lost, duplicates.get());
            out.flush();
            if (keepRunning) {
                out.println("The surviving nodes keep running (--keep-running); Ctrl-C stops them.");
                out.flush();
                CountDownLatch stopped = new CountDownLatch(1);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    stopNodes(nodes);
                    stopped.countDown();
                }, "demo-stop"));
                stopped.await();
            }
            return lost == 0 && duplicates.get() == 0 && sent.get() == count ? ExitCodes.OK : ExitCodes.FAILED;
        } finally {
            done = true;
            stopNodes(nodes);
        }
    }

    /** SIGTERM to every node still running: each stops gracefully. */
    private static void stopNodes(List<ServerProcess> nodes) {
        for (ServerProcess n : nodes) {
            if (n.isAlive()) {
                try {
                    n.stop();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void printMap(TernConnectionFactory cf) {
        var t = cf.clusterTopology();
        Map<String, String> names = new java.util.HashMap<>();
        t.members().forEach(m -> names.put(m.nodeId(), m.name()));
        out.println("Cluster formed; failover map (each node's messages are replicated to its failover node):");
        for (var m : t.members()) {
            List<String> failover = t.failover().getOrDefault(m.nodeId(), List.of()).stream()
                    .map(f -> names.getOrDefault(f.nodeId(), f.nodeId())).toList();
            out.printf("  %s -> %s%n", m.name(), failover);
        }
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
                Thread.sleep(1000); // the progress line's period
            } catch (InterruptedException e) {
                return;
            }
            if (!done) {
                out.printf("  progress: sent=%d received=%d%n", sent.get(), settled().size());
            }
        }
    }

    /**
     * The producer: persistent sends with a duplicate-detection id of their own. Failover is the
     * connection's business: a send waits while the connection moves, and a send that was in flight
     * is resent with its id, which the failover node (holding the dead node's ids) drops if stored.
     */
    private void produce(Connection c) {
        int seq = 0;
        try {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue("demo");
            MessageProducer p = s.createProducer(q);
            while (seq < count && !done) {
                TextMessage m = s.createTextMessage("message " + seq);
                m.setIntProperty("seq", seq);
                m.setStringProperty(WireMessage.DUPLICATE_ID, "demo-" + seq);
                p.send(m);
                seq++;
                sent.set(seq);
                if (seq == count / 2) {
                    halfway.countDown();
                }
            }
        } catch (JMSException e) {
            out.println("  producer failed: " + e.getMessage());
            reconnects.incrementAndGet();
        } finally {
            halfway.countDown();
        }
    }

    /**
     * The client-acknowledging consumer, acknowledging every 100 messages. Messages it held
     * unacknowledged when its node died cannot be acknowledged on the failover node: acknowledge()
     * says so (ACKNOWLEDGEMENT_LOST), and the failover node delivers them again.
     */
    private void consume(Connection c) {
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
                    try {
                        last.acknowledge(); // returns once the node and its failover node have the acknowledgement
                        acknowledged.addAll(batch);
                    } catch (JMSException e) {
                        if (!"ACKNOWLEDGEMENT_LOST".equals(e.getErrorCode())) {
                            throw e;
                        }
                        out.println("  consumer: " + e.getMessage());
                        reconnects.incrementAndGet();
                        inDoubt.addAll(batch);
                    }
                    batch.clear();
                    last = null;
                }
            }
        } catch (JMSException e) {
            out.println("  consumer failed: " + e.getMessage());
            inDoubt.addAll(batch);
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (JMSException ignored) {
            // the demo is over; a failed close releases nothing more
        }
    }
}
