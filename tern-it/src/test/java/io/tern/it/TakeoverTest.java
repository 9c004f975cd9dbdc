package io.tern.it;

import io.tern.broker.BrokerConfig;
import io.tern.client.FailoverEvent;
import io.tern.client.TernConnectionFactory;
import io.tern.cluster.ClusterNode;
import io.tern.cluster.ReplicatingStore;
import io.tern.cluster.RingFailoverPolicy;
import io.tern.cluster.Takeover;
import io.tern.protocol.NodeInfo;
import io.tern.server.TernServer;
import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.jgroups.protocols.DISCARD;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Three nodes in one JVM, each a real server whose store replicates to its failover node over a
 * SHARED_LOOPBACK cluster. The node a client uses crashes; its failover node takes over what it
 * stored, and the client, which knew only the crashed node's URL, follows the failover map there.
 */
@Timeout(90)
class TakeoverTest {
    @TempDir
    Path dir;

    private InJvmCluster cluster;
    private List<InJvmCluster.Node> nodes;

    @org.junit.jupiter.api.BeforeEach
    void create() {
        cluster = new InJvmCluster(dir);
        nodes = cluster.nodes;
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    private InJvmCluster.Node start(String name) throws Exception {
        return cluster.start(name);
    }

    private static String text(Message m) throws JMSException {
        return ((TextMessage) m).getText();
    }

    @Test
    void theFailoverNodeTakesOverTheCrashedNodesMessagesAndItsClientsFollow() throws Exception {
        InJvmCluster.Node a = start("a");
        InJvmCluster.Node b = start("b");
        start("c");
        await().atMost(Duration.ofSeconds(30)).until(() -> nodes.stream().allMatch(n -> n.cluster().members().size() == 3)
                && a.store().backups().contains(b.id()) && b.store().replicas().of(a.id()) != null && !b.store().replicas().isSyncing(a.id()));

        TernConnectionFactory cf = new TernConnectionFactory(a.server().url() + "?reconnectAttempts=1&reconnectDelay=20");
        List<FailoverEvent> events = new CopyOnWriteArrayList<>();
        cf.setFailoverListener(events::add);
        List<String> duplicateIds = new ArrayList<>();
        try (Connection c = cf.createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue("orders"));
            for (int i = 0; i < 200; i++) {
                Message m = s.createTextMessage("order-" + i);
                p.send(m);
                duplicateIds.add(m.getJMSMessageID());
            }
            MessageConsumer consumer = s.createConsumer(s.createQueue("orders"));
            Message last = null;
            for (int i = 0; i < 50; i++) {
                last = consumer.receive(10_000);
                assertThat(text(last)).isEqualTo("order-" + i);
            }
            last.acknowledge(); // 50 acknowledged on a, and so on its replica on b
            consumer.close();
            assertThat(b.store().replicas().of(a.id()).get("orders")).hasSize(150);

            // Before any takeover, b already drops a resend of what a stored: it holds a's duplicate ids.
            try (Connection toB = new TernConnectionFactory(b.server().url()).createConnection()) {
                Session sb = toB.createSession(false, Session.AUTO_ACKNOWLEDGE);
                Message resend = sb.createTextMessage("order-3 resent to b");
                resend.setStringProperty("JMS_TERN_DUPLICATE_ID", duplicateIds.get(3));
                sb.createProducer(sb.createQueue("orders")).send(resend);
            }
            assertThat(b.server().broker().duplicatesDropped()).isEqualTo(1);

            // a crashes: silent to the cluster, its connections gone.
            DISCARD discard = a.cluster().jgroupsChannel().getProtocolStack().findProtocol(DISCARD.class);
            discard.discardAll(true);
            a.server().close();

            MessageConsumer after = s.createConsumer(s.createQueue("orders")); // waits for the failover, then on b
            Set<String> got = new HashSet<>();
            Message lastAfter = null;
            for (int i = 0; i < 150; i++) {
                lastAfter = after.receive(20_000);
                assertThat(lastAfter).as("message %d of the 150 not acknowledged", i).isNotNull();
                got.add(text(lastAfter));
            }
            Set<String> expected = new HashSet<>();
            for (int i = 50; i < 200; i++) {
                expected.add("order-" + i);
            }
            assertThat(got).isEqualTo(expected);
            assertThat(events.stream().filter(e -> e.kind() == FailoverEvent.Kind.COMPLETED)).singleElement()
                    .satisfies(e -> assertThat(e.to()).endsWith(":" + b.server().address().getPort()));

            // A resend of something a had stored is dropped on b: the duplicate ids were replicated too.
            Message again = s.createTextMessage("order-7 again");
            again.setStringProperty("JMS_TERN_DUPLICATE_ID", duplicateIds.get(7));
            p.send(again);
            assertThat(b.server().broker().duplicatesDropped()).isEqualTo(2);
            lastAfter.acknowledge();
            assertThat(after.receive(500)).isNull();
        }

        // Every member recorded the takeover of a. When a comes back with its old disk (150 messages
        // still stored there), it asks, learns it, and discards them before it serves anyone.
        assertThat(b.takeover().records()).containsKey(a.id());
        InJvmCluster.Node third = nodes.get(2);
        await().until(() -> third.takeover().records().containsKey(a.id()));
        nodes.remove(a);
        a.takeover().close();
        a.cluster().close();
        InJvmCluster.Node back = start("a");
        assertThat(back.id()).isEqualTo(a.id());
        assertThat(cluster.discardedOnStart.get("a")).isEqualTo(150);
        assertThat(back.server().broker().messageCount("orders")).isZero();
        await().until(() -> nodes.stream().noneMatch(n -> n.takeover().records().containsKey(a.id()))); // forgotten
        try (Connection again = new TernConnectionFactory(back.server().url() + "?failover=false").createConnection()) {
            again.start();
            Session s = again.createSession(false, Session.AUTO_ACKNOWLEDGE);
            assertThat(s.createConsumer(s.createQueue("orders")).receive(300)).as("nothing old comes back").isNull();
        }
    }

    @Test
    void aNodeHoldsItsClientsUntilItKnowsWhetherItWasTakenOver() throws Exception {
        InJvmCluster.Node a = start("a");
        a.server().broker().availability().starting("checking");
        org.assertj.core.api.Assertions.assertThatThrownBy(() ->
                        new TernConnectionFactory(a.server().url() + "?failover=false").createConnection())
                .isInstanceOf(JMSException.class).hasMessageContaining("checking");
        a.server().broker().availability().started();
        new TernConnectionFactory(a.server().url()).createConnection().close();

        // With failover on (the default), a client waits for a node that is not ready yet.
        a.server().broker().availability().starting("still checking");
        java.util.concurrent.CompletableFuture<Connection> waiting = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new TernConnectionFactory(a.server().url()).createConnection();
            } catch (JMSException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> !waiting.isDone());
        a.server().broker().availability().started();
        try (Connection c = waiting.get(10, java.util.concurrent.TimeUnit.SECONDS)) {
            assertThat(c.createSession()).isNotNull();
        }
    }

    /** Sends {@code count} persistent messages to the node at {@code url}, without failover. */
    /**
     * Make before break. c's failover node is a ([a, b, c] as a ring); d joins, and the map names d
     * instead ([a, b, c, d]), but d's snapshot is slow. c dies before it is in sync: d takes c over
     * from a's replica, which a kept (and c kept replicating to) until d would be in sync.
     */
    @Test
    void aNodeThatDiesWhileItsNewFailoverNodeSyncsLosesNothing() throws Exception {
        List<InJvmCluster.Node> abc = cluster.startInSync("a", "b", "c");
        InJvmCluster.Node a = abc.get(0);
        InJvmCluster.Node c = abc.get(2);
        assertThat(cluster.failoverOf(c)).isEqualTo(a);
        sendTo(c.url(), "moved", 30); // acknowledged once a has them
        c.store().delaySnapshotsForTests(20_000);
        InJvmCluster.Node d = cluster.start("d");
        await().atMost(Duration.ofSeconds(30)).until(() -> c.cluster().members().size() == 4
                && d.id().equals(c.cluster().topology().failover().get(c.id()).get(0).nodeId()));
        assertThat(d.store().replicas().of(c.id())).as("d's snapshot of c has not begun").isEmpty();
        assertThat(a.store().replicas().of(c.id()).get("moved")).as("a still stands in for c").hasSize(30);

        cluster.crash(c);
        await().atMost(Duration.ofSeconds(30)).until(() -> d.server().broker().messageCount("moved") == 30);
        assertThat(drain(d.url(), "moved")).hasSize(30);
        await().atMost(Duration.ofSeconds(30)).until(() -> a.store().replicas().of(c.id()).isEmpty());
    }

    /** Once the new failover node is in sync, the former one is told to drop its replica, and commits no longer wait for it. */
    @Test
    void theFormerFailoverNodeDropsItsReplicaOnceTheNewOneIsInSync() throws Exception {
        List<InJvmCluster.Node> abc = cluster.startInSync("a", "b", "c");
        InJvmCluster.Node a = abc.get(0);
        InJvmCluster.Node c = abc.get(2);
        sendTo(c.url(), "moved", 10);
        c.store().delaySnapshotsForTests(2_000);
        InJvmCluster.Node d = cluster.start("d");
        await().atMost(Duration.ofSeconds(30)).until(() -> c.store().toString().contains("retiring=[" + a.id() + "]"));
        assertThat(a.store().replicas().of(c.id()).get("moved")).hasSize(10);
        await().atMost(Duration.ofSeconds(30)).until(() -> c.store().toString().contains("retiring=[]")
                && a.store().replicas().of(c.id()).isEmpty());
        assertThat(d.store().replicas().of(c.id()).get("moved")).hasSize(10);
        sendTo(c.url(), "moved", 5);
        assertThat(d.store().replicas().of(c.id()).get("moved")).hasSize(15);
        assertThat(a.store().replicas().primaries()).doesNotContain(c.id());
    }

    private static List<String> drain(String url, String queue) throws JMSException {
        List<String> got = new ArrayList<>();
        try (Connection c = new TernConnectionFactory(url + "?failover=false").createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = s.createConsumer(s.createQueue(queue));
            for (Message m; (m = consumer.receive(1000)) != null; ) {
                got.add(text(m));
            }
        }
        return got;
    }

    private static void sendTo(String url, String queue, int count) throws JMSException {
        try (Connection c = new TernConnectionFactory(url + "?failover=false").createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue(queue));
            for (int i = 0; i < count; i++) {
                p.send(s.createTextMessage(queue + "-" + i));
            }
        }
    }

    /** Each node's messages of round-1/round-2, state, takeover records and store: what a failure needs to be understood. */
    private String where() {
        StringBuilder where = new StringBuilder();
        for (InJvmCluster.Node n : nodes) {
            where.append(n.name()).append(": ").append(n.server().broker().messageCount("round-1")).append('/')
                    .append(n.server().broker().messageCount("round-2")).append(' ').append(n.server().broker().state())
                    .append(' ').append(n.id(), 0, 8).append(" members=").append(n.cluster().members().size())
                    .append(" records=").append(n.takeover().records()).append(" discarded=")
                    .append(n.takeover().lastDiscardedEpoch()).append(' ').append(n.store()).append("; ");
        }
        return where.toString();
    }

    @Test
    void aNodeTakenOverTwiceWhileTheClocksAreHoursApartDiscardsBothTimes() throws Exception {
        long hourMs = 3_600_000L;
        InJvmCluster.Node a = cluster.start("a", 0);
        cluster.start("b", 5 * hourMs);
        cluster.start("c", -5 * hourMs);
        await().atMost(Duration.ofSeconds(30)).until(() -> nodes.stream().allMatch(n -> n.cluster().members().size() == 3
                && !n.store().backups().isEmpty()));
        DISCARD isolation = a.cluster().jgroupsChannel().getProtocolStack().findProtocol(DISCARD.class);
        long previousEpoch = -1;
        Set<String> sent = new HashSet<>();
        for (int round = 1; round <= 2; round++) {
            String queue = "round-" + round;
            sendTo(a.url(), queue, 20);
            for (int i = 0; i < 20; i++) {
                sent.add(queue + "-" + i);
            }
            // a is paused, as far as the others can tell: they take it over.
            isolation.discardAll(true);
            await().atMost(Duration.ofSeconds(30)).until(() -> nodes.stream().filter(n -> n != a)
                    .anyMatch(n -> n.takeover().records().containsKey(a.id())));
            long epoch = nodes.stream().filter(n -> n != a).map(n -> n.takeover().records().get(a.id()))
                    .filter(java.util.Objects::nonNull).findFirst().orElseThrow().epoch();
            assertThat(epoch).as("the second takeover's epoch is above the first's, whoever's clock is behind")
                    .isGreaterThan(previousEpoch);
            // a resumes and merges back: it learns it was taken over and discards what it stored.
            isolation.discardAll(false);
            // For that takeover, or a later one if the others lost it again while it merged back.
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(a.takeover().lastDiscardedEpoch())
                    .as(() -> "a's last discarded epoch; " + where()).isGreaterThanOrEqualTo(epoch));
            assertThat(a.server().broker().messageCount(queue)).isZero();
            await().atMost(Duration.ofSeconds(30)).until(() -> nodes.stream().noneMatch(n -> n.takeover().records()
                    .containsKey(a.id())) && a.cluster().members().size() == 3 && !a.store().backups().isEmpty());
            previousEpoch = epoch;
        }
        // Every message is on a node that took a over, once.
        String where = where();
        // The cluster is one broker: a consumer on a gets every message, from whichever node holds it.
        List<String> got = new ArrayList<>();
        try (Connection c = new TernConnectionFactory(a.url() + "?failover=false").createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            for (String queue : List.of("round-1", "round-2")) {
                MessageConsumer consumer = s.createConsumer(s.createQueue(queue));
                long deadlineNs = System.nanoTime() + 30_000_000_000L;
                int wanted = got.size() + 20;
                while (got.size() < wanted && System.nanoTime() < deadlineNs) {
                    Message m = consumer.receive(1000);
                    if (m != null) {
                        got.add(text(m));
                    }
                }
                for (Message m; (m = consumer.receive(500)) != null; ) {
                    got.add(text(m));
                }
                consumer.close();
            }
        }
        assertThat(got).as("messages of round-1/round-2 per node: " + where).hasSize(40);
        assertThat(new HashSet<>(got)).isEqualTo(sent);
    }
}
