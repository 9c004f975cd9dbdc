package io.tern.it;

import io.tern.client.FailoverEvent;
import io.tern.client.TernConnectionFactory;
import io.tern.server.ServerProcess;
import io.tern.testkit.CheckedDrain;
import io.tern.discovery.FreePorts;
import io.tern.testkit.SendingThread;
import io.tern.testkit.SettlingReceiver;
import io.tern.testkit.TestCertificates;
import io.tern.testkit.TestNetwork;
import io.tern.testkit.TotalQueueChecker;
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

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Three real server processes with {@code --replication}; a producer of persistent messages and a
 * client-acknowledging consumer both on one node, which is disrupted while both run. A total-queue
 * checker accounts for every message: nothing lost, nothing acknowledged delivered again, nothing
 * unexpected.
 */
@Tag("system")
@Timeout(300)
class HighAvailabilitySystemTest {
    private static final int FD_TIMEOUT_MS = 2000;

    /** Kept when the test fails: the nodes' logs say what happened to a missing or repeated message. */
    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS)
    Path dir;

    private final List<ServerProcess> nodes = new ArrayList<>();
    private final TotalQueueChecker checker = new TotalQueueChecker();
    /** Message id to what the consumers did with it, when and through which server. */
    private final java.util.Map<String, StringBuffer> history = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<Throwable> errors = new CopyOnWriteArrayList<>();
    private final List<FailoverEvent> events = new CopyOnWriteArrayList<>();
    /** The producer's and the consumer's connection while a run goes on. */
    private final List<Connection> clients = new CopyOnWriteArrayList<>();
    /** How the consumer's session acknowledges: CLIENT_ACKNOWLEDGE, or SESSION_TRANSACTED (commits). */
    private int consumerMode = Session.CLIENT_ACKNOWLEDGE;
    /** Commits of the transacted consumer that threw TransactionRolledBackException (nothing applied). */
    private final AtomicInteger rolledBack = new AtomicInteger();
    /** The clients' connection factory while a run goes on: it knows the cluster's failover map. */
    private TernConnectionFactory cf;
    /** The clients' TLS options (trust=...) when the nodes are started with TLS; "" otherwise. */
    private String clientTls = "";
    /** Hosts of their own for the nodes (network namespaces), for a partition; null: all on loopback. */
    private TestNetwork network;

    @AfterEach
    void stop() throws Exception {
        ServerProcess.closeAll(nodes);
        if (network != null) {
            network.close();
        }
    }

    /** {@code node}'s client URL with {@code options}, and the clients' TLS options when the nodes speak TLS. */
    private String urlOf(ServerProcess node, String options) {
        String all = options.isEmpty() ? clientTls : clientTls.isEmpty() ? options : options + "&" + clientTls;
        return all.isEmpty() ? node.url() : node.url() + "?" + all;
    }

    private void startCluster(int size, String... extra) throws Exception {
        int clusterPort = FreePorts.freeUdp();
        String address = FreePorts.multicastGroup(207);
        List<String> seeds = new ArrayList<>();
        for (int i = 1; network != null && i <= size; i++) {
            seeds.add(network.address(i) + ":7800");
        }
        for (int i = 1; i <= size; i++) {
            List<String> args = new ArrayList<>(List.of("--cluster", "hs-" + clusterPort, "--discovery-port", "0",
                    "--machine-id", "m" + i, "--replication", "--recovery-timeout-ms", "60000"));
            if (!List.of(extra).contains("--fd-timeout")) {
                args.addAll(List.of("--fd-timeout", FD_TIMEOUT_MS + "ms"));
            }
            // On loopback a multicast group of the test's own; on hosts of their own, TCP with every host as a seed.
            args.addAll(network == null ? List.of("--cluster-port", Integer.toString(clusterPort), "--cluster-address", address)
                    : List.of("--stack", "tcp", "--cluster-port", "7800", "--seeds", String.join(",", seeds)));
            args.addAll(List.of(extra));
            String name = "hs-" + i;
            nodes.add((network == null
                    ? new ServerProcess(name, FreePorts.free(), dir.resolve(name), dir.resolve(name + ".log"), args.toArray(String[]::new))
                    : ServerProcess.inNamespace(network.namespace(i), network.address(i), name, FreePorts.free(), dir.resolve(name),
                            dir.resolve(name + ".log"), args.toArray(String[]::new))).start());
        }
        for (ServerProcess n : nodes) {
            assertThat(n.awaitListening(60_000)).isTrue();
        }
    }

    @FunctionalInterface
    private interface Disruption {
        void apply(ServerProcess node) throws Exception;
    }

    /** Sends and receives through node 1 of three while {@code disrupt} hits it, then drains and checks the tally. */
    private void run(Disruption disrupt) throws Exception {
        run(3, List.of(), disrupt);
    }

    /** As {@link #run(Disruption)} with a cluster of {@code size} nodes started with {@code extra} options. */
    private void run(int size, List<String> extra, Disruption disrupt) throws Exception {
        startCluster(size, extra.toArray(String[]::new));
        ServerProcess target = nodes.get(0);
        cf = new TernConnectionFactory(urlOf(target, "reconnectAttempts=1&reconnectDelay=50&heartbeat=500"));
        cf.setFailoverListener(events::add);
        assertThat(ServerProcess.awaitClusterMembers(cf, size, 60_000)).isTrue();
        try (Connection producerConnection = cf.createConnection(); Connection consumerConnection = cf.createConnection()) {
            producerConnection.setExceptionListener(errors::add);
            consumerConnection.setExceptionListener(errors::add);
            clients.add(producerConnection);
            clients.add(consumerConnection);
            Session ps = producerConnection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = ps.createProducer(ps.createQueue("ha"));
            producer.setDeliveryMode(DeliveryMode.PERSISTENT);
            Session cs = consumerConnection.createSession(consumerMode == Session.SESSION_TRANSACTED, consumerMode);
            MessageConsumer consumer = cs.createConsumer(cs.createQueue("ha"));
            consumerConnection.start();

            AtomicBoolean stopReceiving = new AtomicBoolean();
            SettlingReceiver settling = new SettlingReceiver(cs, consumer, checker, 5, stopReceiving::get, errors::add)
                    .trace((id, event) -> trace(id, event + " via " + serverOf(consumerConnection)));
            Thread receiver = new Thread(() -> {
                settling.run();
                rolledBack.addAndGet(settling.rolledBack());
            }, "test-consumer");
            receiver.start();
            SendingThread sender = new SendingThread(ps, producer, checker::sent, errors::add);

            await().atMost(Duration.ofSeconds(60)).until(() -> settling.received() >= 300 || !errors.isEmpty());
            disrupt.apply(target);
            int after = sender.sent();
            await().atMost(Duration.ofSeconds(90)).until(() -> sender.sent() >= after + 600 || !errors.isEmpty());
            sender.stop();
            // A queue's messages stay on the node that stores them (no redistribution yet): what was sent
            // to another node while the clients were away is taken there.
            List<CheckedDrain> drains = new ArrayList<>();
            try {
                // A node that has just merged back may still be without the quorum, and then cannot create
                // the drain's queue: every node left sees the others, with the quorum, first.
                long alive = nodes.stream().filter(ServerProcess::isAlive).count();
                for (ServerProcess n : nodes) {
                    if (n.isAlive()) {
                        assertThat(ServerProcess.awaitClusterMembers(new TernConnectionFactory(urlOf(n, "failover=false")),
                                (int) alive, 60_000)).as(n.url() + " sees the cluster whole, with the quorum").isTrue();
                    }
                }
                for (ServerProcess n : nodes) {
                    if (n.isAlive() && !serverOf(consumerConnection).endsWith(":" + n.port())) {
                        drains.add(new CheckedDrain(urlOf(n, ""), "ha", checker, errors::add, this::trace));
                    }
                }
                await().atMost(Duration.ofSeconds(90)).until(() -> checker.lost().isEmpty() || !errors.isEmpty());
            } finally {
                for (CheckedDrain d : drains) {
                    d.close();
                }
            }
            stopReceiving.set(true);
            receiver.join(30_000);
            for (Message m; (m = consumer.receive(1000)) != null; ) { // anything more is a duplicate
                checker.received(m.getJMSMessageID());
            }
        }
        assertThat(errors).as("exceptions seen by the application").isEmpty();
        assertThat(checker.lost()).as(checker.toString()).isEmpty();
        assertThat(checker.duplicated()).as("acknowledged, then delivered again: " + checker + " (node logs in " + dir + "): "
                + checker.duplicated().stream().map(id -> id + ": " + history.get(id)).toList()).isEmpty();
        assertThat(checker.unexpected()).isEmpty();
        // The README promises that acknowledge() and commit() return normally across a failover.
        assertThat(checker.inDoubt()).as("acknowledgements the application saw fail").isEmpty();
        assertThat(events.stream().filter(e -> e.kind() == FailoverEvent.Kind.FAILED)).isEmpty();
    }

    @Test
    void aSigkillOfTheClientsNodeDuringSendsAndReceivesLosesAndRepeatsNothing() throws Exception {
        run(ServerProcess::kill);
        assertThat(events.stream().filter(e -> e.kind() == FailoverEvent.Kind.COMPLETED).count()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void overTlsASigkillOfTheClientsNodeLosesAndRepeatsNothing() throws Exception {
        // Every node has a certificate of the test's CA for 127.0.0.1; the clients trust that CA, and fail
        // over to the terns:// addresses the cluster map gives them.
        TestCertificates ca = TestCertificates.authority(dir.resolve("certs"), "ha-ca");
        TestCertificates.Issued cert = ca.server("hs-node");
        clientTls = "trust=" + ca.caPem();
        run(3, List.of("--tls-cert", cert.certPem().toString(), "--tls-key", cert.keyPem().toString()), node -> {
            assertThat(node.url()).startsWith("terns://");
            node.kill();
        });
    }

    @Test
    void withAClusterSecretASigkillOfTheClientsNodeLosesAndRepeatsNothing() throws Exception {
        // Membership, replication and the takeover all travel encrypted and signed (SERIALIZE, SIGNED, SYM_ENCRYPT).
        Path secret = java.nio.file.Files.writeString(dir.resolve("cluster.secret"), "a secret of this test, 32 bytes+");
        run(3, List.of("--cluster-secret-file", secret.toString()), ServerProcess::kill);
        assertThat(java.nio.file.Files.readString(nodes.get(1).log())).contains("encrypted and admitting only members with the cluster secret");
    }

    @Test
    void aSigkillWhileATransactedConsumerCommitsEveryFiveMessagesLosesAndRepeatsNothing() throws Exception {
        consumerMode = Session.SESSION_TRANSACTED;
        run(ServerProcess::kill);
        // The transaction open at the kill goes on on the failover node, even when its commit() comes while
        // the failover is still under way (it waits for it): no commit is rolled back.
        assertThat(rolledBack.get()).as("commits rolled back").isZero();
    }

    @Test
    void whenAKilledNodeComesBackItsClientsFailBackToItOnceTheyHoldNothingUnacknowledged() throws Exception {
        run(node -> {
            int port = node.port();
            node.kill();
            await().atMost(Duration.ofSeconds(60)).until(() -> clients.stream()
                    .allMatch(c -> !serverOf(c).isEmpty() && !serverOf(c).endsWith(":" + port)));
            node.start();
            assertThat(node.awaitListening(60_000)).isTrue();
            await().atMost(Duration.ofSeconds(60)).until(() -> clients.stream().allMatch(c -> serverOf(c).endsWith(":" + port)));
        });
        assertThat(events.stream().filter(e -> e.kind() == FailoverEvent.Kind.COMPLETED && e.planned()))
                .as("the failbacks").hasSizeGreaterThanOrEqualTo(2)
                .allMatch(e -> e.to().endsWith(":" + nodes.get(0).port()));
    }

    private static String serverOf(Connection c) {
        return ((io.tern.client.impl.TernConnection) c).server();
    }

    @Test
    void aDrainedNodeLosesItsClientsTransparentlyAndThenStopsWithNothingLost() throws Exception {
        run(node -> {
            io.tern.server.TernCli.Run drain = io.tern.server.TernCli.run("drain", "--url", node.url(), "--node", "hs-1");
            assertThat(drain.exit()).as(drain.output()).isZero();
            assertThat(drain.output()).contains("node hs-1 drained");
            assertThat(node.stop()).as("SIGTERM after the drain").isIn(0, 143);
        });
        assertThat(events.stream().filter(e -> e.kind() == FailoverEvent.Kind.COMPLETED))
                .as("both connections moved, planned").hasSizeGreaterThanOrEqualTo(2).allMatch(FailoverEvent::planned);
    }

    @Test
    void aNodePausedPastFailureDetectionIsTakenOverAndDiscardsItsMessagesWhenItComesBack() throws Exception {
        run(node -> {
            node.pause(true);
            Thread.sleep(FD_TIMEOUT_MS + 4000); // the pause itself is the fault under test, not a wait for a condition
            node.pause(false);
        });
        ServerProcess paused = nodes.get(0);
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(paused.log()).contains("was taken over while it was gone"));
        assertThat(paused.isAlive()).isTrue();
    }

    /**
     * A stall longer than the clients' patience (three heartbeats of 500 ms) and shorter than the
     * cluster's failure detection (4 s): the clients leave, the failover node finds the node still
     * in the view and sends them back, and the node, which kept their connections open, hands over
     * what they hold. Nothing lost, nothing repeated, and no acknowledgement in doubt.
     */
    @Test
    void aStallShorterThanFailureDetectionButLongerThanTheClientsPatienceLosesDoubtsAndRepeatsNothing() throws Exception {
        run(3, List.of("--fd-timeout", "4000ms"), node -> {
            node.pause(true);
            Thread.sleep(3000); // the stall itself is the fault under test, not a wait for a condition
            node.pause(false);
        });
        assertThat(Files.readString(nodes.get(0).log())).as("a stall, not a death: nobody took the node over")
                .doesNotContain("was taken over while it was gone");
        assertThat(events.stream().filter(e -> e.kind() == FailoverEvent.Kind.COMPLETED)).as("the clients left and came back")
                .isNotEmpty();
    }

    /** The process of the member {@code nodeId} of the cluster list. */
    private ServerProcess processOf(String nodeId) {
        String uri = cf.clusterTopology().members().stream().filter(m -> m.nodeId().equals(nodeId)).findFirst()
                .orElseThrow().clientUris().get(0);
        return nodes.stream().filter(n -> uri.endsWith(":" + n.port())).findFirst().orElseThrow();
    }

    @Test
    void whenTheFailoverNodeDiesDuringItsTakeoverTheNextOneTakesOverBothWithNothingTwice() throws Exception {
        // Five nodes, two failover nodes each: killing two leaves a majority. Every takeover pauses after storing
        // the messages and before recording itself: the window in which the failover node is killed.
        ServerProcess[] failover = new ServerProcess[2];
        run(5, List.of("--backups", "2", "--fault-takeover-pause-ms", "5000"), node -> {
            var map = cf.clusterTopology().failover().get(cf.clusterTopology().members().stream()
                    .filter(m -> m.clientUris().get(0).endsWith(":" + node.port())).findFirst().orElseThrow().nodeId());
            assertThat(map).hasSize(2);
            failover[0] = processOf(map.get(0).nodeId());
            failover[1] = processOf(map.get(1).nodeId());
            node.kill();
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(failover[0].log())
                    .contains("Fault injection: the takeover of " + "hs-1"));
            failover[0].kill();
        });
        String next = Files.readString(failover[1].log());
        assertThat(next).contains("their failover node left before it recorded taking them over");
        // That nothing of hs-1 is taken twice is what run()'s checker asserts (duplicated 0). Which log line
        // says so depends on the order in which the next node takes over hs-1 and the dead failover node,
        // which failure detection does not fix (seen both ways in CI on 2026-12-02), so no line is required here.
    }

    @Test
    void aNodeCutOffInAPartitionIsTakenOverByTheMajorityAndDiscardsItsMessagesWhenThePartitionHeals() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(TestNetwork.available(),
                "needs root and ip netns: each node runs on a host (network namespace) of its own");
        network = TestNetwork.create(3);
        run(3, List.of("--fd-timeout", "6s"), node -> {
            network.cut(1); // hs-1 alone on one side; hs-2, hs-3 and the clients on the other
            await().atMost(Duration.ofSeconds(60)).until(() -> clients.stream()
                    .allMatch(c -> !serverOf(c).isEmpty() && !serverOf(c).endsWith(":" + node.port())));
            // The minority stops taking sends once it notices it is alone.
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(node.log())
                    .contains("-> no-quorum (node hs-1 is in a partition without a majority"));
            // The majority takes hs-1 over once a majority of the last stable view confirmed it gone, which can come
            // after the clients moved (they wait for it at the failover node). Healed before, the takeover is given up
            // ("back in the view") and hs-1 rightly keeps its messages: this test heals only once the takeover is recorded.
            await().atMost(Duration.ofSeconds(60)).until(() -> nodes.stream().skip(1)
                    .anyMatch(n -> logOf(n).contains("Took over hs-1:")));
            network.heal(1);
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(node.log())
                    .contains("was taken over while it was gone"));
        });
        assertThat(nodes.get(0).isAlive()).isTrue();
        assertThat(events.stream().filter(e -> e.kind() == FailoverEvent.Kind.COMPLETED && !e.planned()))
                .as("the clients failed over from the cut-off node").hasSizeGreaterThanOrEqualTo(2);
    }

    /** What {@code node} logged so far. */
    private static String logOf(ServerProcess node) {
        try {
            return Files.readString(node.log());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void trace(String id, String event) {
        history.computeIfAbsent(id, k -> new StringBuffer()).append(java.time.LocalTime.now()).append(' ').append(event)
                .append("; ");
    }

    /** Receives and acknowledges from {@code node} until {@code quietMs} pass without a message; returns the count. */
    private int drainFrom(ServerProcess node, long quietMs) throws Exception {
        int count = 0;
        try (Connection c = new TernConnectionFactory(node.url() + "?failover=false").createConnection()) {
            Session s = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
            MessageConsumer consumer = s.createConsumer(s.createQueue("on-disk"));
            c.start();
            for (Message m; (m = consumer.receive(quietMs)) != null; count++) {
                checker.received(m.getJMSMessageID());
                m.acknowledge();
                checker.acknowledged(m.getJMSMessageID());
            }
        }
        return count;
    }

    @Test
    void withReplicasOnDiskARestartedFailoverNodeTakesOverTheNodeThatDiedWithIt() throws Exception {
        startCluster(3, "--replica-store", "disk");
        ServerProcess dead = nodes.get(0);
        cf = new TernConnectionFactory(dead.url() + "?failover=false");
        assertThat(ServerProcess.awaitClusterMembers(cf, 3, 60_000)).isTrue();
        String deadId = cf.clusterTopology().members().stream()
                .filter(m -> m.clientUris().get(0).endsWith(":" + dead.port())).findFirst().orElseThrow().nodeId();
        ServerProcess failover = processOf(cf.clusterTopology().failover().get(deadId).get(0).nodeId());
        ServerProcess third = nodes.stream().filter(n -> n != dead && n != failover).findFirst().orElseThrow();
        try (Connection c = cf.createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue("on-disk"));
            p.setDeliveryMode(DeliveryMode.PERSISTENT);
            for (int i = 0; i < 200; i++) {
                Message m = s.createTextMessage("m-" + i);
                p.send(m);
                checker.sent(m.getJMSMessageID());
            }
        }
        // The node and its failover node die together: the third alone has no quorum and takes nothing over.
        dead.kill();
        failover.kill();
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(third.log()).contains("Quorum lost on"));

        // The failover node comes back with its replica of the dead node on disk, and takes it over.
        failover.start();
        assertThat(failover.awaitListening(60_000)).isTrue();
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(failover.log())
                .contains("nobody took it over: taking it over from its replica on disk"));
        assertThat(ServerProcess.awaitClusterMembers(new TernConnectionFactory(failover.url() + "?failover=false"), 2, 60_000))
                .isTrue();
        AtomicInteger taken = new AtomicInteger();
        await().atMost(Duration.ofSeconds(60)).until(() -> taken.addAndGet(drainFrom(failover, 500)) >= 200);
        assertThat(taken.get()).isEqualTo(200);

        // The dead node comes back, learns it was taken over, and brings nothing back.
        dead.start();
        assertThat(dead.awaitListening(60_000)).isTrue();
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(dead.log()).contains("was taken over while it was gone"));
        assertThat(ServerProcess.awaitClusterMembers(new TernConnectionFactory(dead.url() + "?failover=false"), 3, 60_000))
                .isTrue();
        assertThat(drainFrom(dead, 2000)).isZero();
        assertThat(checker.lost()).as(checker.toString()).isEmpty();
        assertThat(checker.duplicated()).isEmpty();
        assertThat(checker.unexpected()).isEmpty();
    }
}
