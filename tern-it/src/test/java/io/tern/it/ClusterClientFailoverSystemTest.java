package io.tern.it;

import io.tern.client.FailoverEvent;
import io.tern.client.TernConnectionFactory;
import io.tern.client.impl.TernConnection;
import io.tern.server.ServerProcess;
import io.tern.server.TernCli;
import io.tern.discovery.FreePorts;
import io.tern.testkit.SendingThread;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Three real server processes on loopback, found through {@code multicast://}. A producer and a
 * consumer keep going while two of the three servers go away, one after the other: killed with
 * SIGKILL, or stopped gracefully with SIGTERM. The servers are independent ({@code --stack none}: no
 * membership, so no quorum rule, and no replication yet), so
 * what a dead server stored is read back from it after its restart; every message sent is then
 * found, and none is received twice except as the failure rules allow (see each test).
 */
@Tag("system")
@Timeout(240)
class ClusterClientFailoverSystemTest {
    @TempDir
    Path dir;

    private final List<ServerProcess> nodes = new ArrayList<>();
    private final List<FailoverEvent> events = new CopyOnWriteArrayList<>();
    private final List<Throwable> errors = new CopyOnWriteArrayList<>();
    /** JMSMessageID -> times received. */
    private final Map<String, AtomicInteger> received = new ConcurrentHashMap<>();
    /** Second receipts not marked JMSRedelivered, of messages whose send was not in doubt. */
    private final Set<String> unexplainedRepeats = ConcurrentHashMap.newKeySet();
    private final Set<String> redeliveredRepeats = ConcurrentHashMap.newKeySet();
    private final Set<String> sent = ConcurrentHashMap.newKeySet();
    private final Set<String> sendsInDoubt = ConcurrentHashMap.newKeySet();
    private String multicastUrl;
    /** JMSMessageID -> the node that delivered it first. */
    private final Map<String, Integer> firstFrom = new ConcurrentHashMap<>();
    private final Set<Integer> killed = ConcurrentHashMap.newKeySet();
    /** Received before a SIGKILL, automatic acknowledgement not yet stored, delivered again by the restarted node. */
    private final Set<String> ackInDoubtRepeats = ConcurrentHashMap.newKeySet();

    @AfterEach
    void stopNodes() throws InterruptedException {
        for (ServerProcess n : nodes) {
            n.close();
        }
    }

    private void startCluster() throws Exception {
        int udp = FreePorts.freeUdp();
        String address = FreePorts.multicastGroup(203);
        String cluster = "failover-" + udp;
        for (int i = 1; i <= 3; i++) {
            nodes.add(new ServerProcess("node-" + i, FreePorts.free(), dir.resolve("node-" + i), dir.resolve("node-" + i + ".log"),
                    "--cluster", cluster, "--discovery-address", address, "--discovery-port", Integer.toString(udp),
                    "--shutdown-grace-ms", "20000", "--stack", "none").start());
        }
        for (ServerProcess n : nodes) {
            assertThat(n.awaitListening(60_000)).as("node on port %d listens", n.port()).isTrue();
        }
        multicastUrl = "multicast://" + address + ":" + udp + "?group=" + cluster
                + "&timeout=3000&reconnectAttempts=1&reconnectDelay=50";
        // A node listens before its discovery agent's first heartbeat: the clients look for it once one is heard.
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
            try (Connection probe = new TernConnectionFactory(multicastUrl).createConnection()) {
                return true;
            }
        });
    }

    private int portOf(Connection c) {
        ServerProcess n = nodeOf(c);
        return n == null ? 0 : n.port();
    }

    private ServerProcess nodeOf(Connection c) {
        String server = ((TernConnection) c).server();
        return nodes.stream().filter(n -> server.endsWith(":" + n.port())).findFirst().orElse(null);
    }

    /** Where each message came from, each time it came: for the report of an unexplained repeat. */
    private final Map<String, List<String>> history = new ConcurrentHashMap<>();

    /** {@code from}: the port of the node that delivered {@code m}; 0 if unknown (the client was between nodes). */
    private void consume(Message m, int from) {
        try {
            String id = m.getJMSMessageID();
            firstFrom.putIfAbsent(id, from);
            history.computeIfAbsent(id, k -> new java.util.concurrent.CopyOnWriteArrayList<>())
                    .add("from " + from + (m.getJMSRedelivered() ? " redelivered" : ""));
            int times = received.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
            if (times > 1) {
                if (m.getJMSRedelivered()) {
                    redeliveredRepeats.add(id);
                } else if (from != 0 && firstFrom.get(id) == from && killed.contains(from)) {
                    ackInDoubtRepeats.add(id);
                } else if (!sendsInDoubt.contains(id)) {
                    unexplainedRepeats.add(id);
                }
            }
        } catch (JMSException e) {
            errors.add(e);
        }
    }

    /** Runs the scenario: {@code leave} takes a node away (SIGKILL or SIGTERM) while traffic flows. */
    private void run(NodeAction leave) throws Exception {
        startCluster();
        TernConnectionFactory factory = new TernConnectionFactory(multicastUrl);
        factory.setFailoverListener(e -> {
            events.add(e);
            sendsInDoubt.addAll(e.inDoubtMessageIds());
        });
        try (Connection producerConnection = factory.createConnection();
             Connection consumerConnection = factory.createConnection()) {
            producerConnection.setExceptionListener(errors::add);
            consumerConnection.setExceptionListener(errors::add);
            // Each server hears the others on multicast and sends the list to its clients.
            Session ps = producerConnection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = ps.createProducer(ps.createQueue("work"));
            producer.setDeliveryMode(DeliveryMode.PERSISTENT);
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                producer.send(ps.createTextMessage("probe")); // every request may bring a newer list
                return factory.knownServers().size() == 3;
            });

            Session cs = consumerConnection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = cs.createConsumer(cs.createQueue("work"));
            consumer.setMessageListener(m -> consume(m, portOf(consumerConnection)));
            consumerConnection.start();

            SendingThread sender = new SendingThread(ps, producer, sent::add, errors::add);

            await().atMost(Duration.ofSeconds(60)).until(() -> sender.sent() >= 300 || !errors.isEmpty());
            ServerProcess first = nodeOf(producerConnection);
            leave.apply(first);
            await().atMost(Duration.ofSeconds(60)).until(() -> sender.sent() >= 600 || !errors.isEmpty());
            await().atMost(Duration.ofSeconds(60)).until(() -> !((TernConnection) consumerConnection).server().isEmpty()
                    && !((TernConnection) producerConnection).server().isEmpty());
            ServerProcess second = nodeOf(consumerConnection);
            if (second == first) {
                second = nodes.stream().filter(n -> n != first && n.isAlive()).findFirst().orElseThrow();
            }
            leave.apply(second);
            await().atMost(Duration.ofSeconds(60)).until(() -> sender.sent() >= 900 || !errors.isEmpty());
            sender.stop();
            assertThat(errors).as("exceptions seen by the application").isEmpty();
            // The client is on the one node left.
            ServerProcess survivor = nodes.stream().filter(ServerProcess::isAlive).findFirst().orElseThrow();
            assertThat(nodeOf(producerConnection)).isSameAs(survivor);
            assertThat(nodeOf(consumerConnection)).isSameAs(survivor);

            // What the two stopped nodes stored comes back with them.
            for (ServerProcess n : List.of(first, second)) {
                n.start();
                assertThat(n.awaitListening(60_000)).isTrue();
            }
            List<Connection> drains = new ArrayList<>();
            try {
                for (ServerProcess n : List.of(first, second)) {
                    Connection d = new TernConnectionFactory(n.url()).createConnection();
                    drains.add(d);
                    Session s = d.createSession(false, Session.AUTO_ACKNOWLEDGE);
                    s.createConsumer(s.createQueue("work")).setMessageListener(m -> consume(m, n.port()));
                    d.start();
                }
                await().atMost(Duration.ofSeconds(60)).until(() -> received.keySet().containsAll(sent));
            } finally {
                for (Connection d : drains) {
                    d.close();
                }
            }
        }
        assertThat(errors).isEmpty();
        assertThat(unexplainedRepeats).as("messages received twice without a reason the failure rules allow (killed: %s): %s",
                killed, unexplainedRepeats.stream().map(id -> id + " " + history.get(id)).toList()).isEmpty();
        assertThat(events.stream().filter(e -> e.kind() == FailoverEvent.Kind.FAILED)).isEmpty();
    }

    private String nodeName(ServerProcess node) {
        return "node-" + (nodes.indexOf(node) + 1);
    }

    private static void ternStop(Path data) throws Exception {
        TernCli.Run run = TernCli.run("stop", "--data", data.toString());
        assertThat(run.exit()).as(run.output()).isZero();
        assertThat(run.output()).contains("stopped server process");
    }

    @FunctionalInterface
    private interface NodeAction {
        void apply(ServerProcess node) throws Exception;
    }

    @Test
    void clientsCarryOnWhileTwoOfThreeServersAreKilled() throws Exception {
        run(node -> {
            killed.add(node.port());
            node.kill();
        });
        assertThat(events.stream().filter(e -> e.kind() == FailoverEvent.Kind.COMPLETED && !e.planned()).count())
                .as("the producer and the consumer failed over at least once each").isGreaterThanOrEqualTo(2);
    }

    @Test
    void clientsMoveWithNoErrorWhileTwoOfThreeServersStopGracefully() throws Exception {
        AtomicInteger stops = new AtomicInteger();
        run(node -> {
            if (stops.incrementAndGet() == 1) {
                node.stop(); // SIGTERM; the JVM then exits with 143
            } else {
                ternStop(dir.resolve(nodeName(node))); // the same graceful stop, through the CLI
                await().atMost(Duration.ofSeconds(60)).until(() -> !node.isAlive());
            }
            assertThat(java.nio.file.Files.readString(node.log())).contains("lame duck: every client moved away")
                    .contains(" stopped");
        });
        assertThat(events.stream().filter(e -> e.kind() == FailoverEvent.Kind.COMPLETED).allMatch(FailoverEvent::planned))
                .isTrue();
        assertThat(events.stream().filter(e -> e.kind() == FailoverEvent.Kind.COMPLETED).count()).isGreaterThanOrEqualTo(2);
        // A planned move hands back what was buffered and keeps what the application holds: nothing twice.
        assertThat(redeliveredRepeats).isEmpty();
        assertThat(sendsInDoubt).isEmpty();
    }
}
