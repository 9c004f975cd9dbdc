package io.tern.it;

import io.tern.client.FailoverEvent;
import io.tern.client.TernConnectionFactory;
import io.tern.discovery.FreePorts;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.DestinationName;
import io.tern.protocol.ErrorCode;
import io.tern.protocol.NodeInfo;
import io.tern.protocol.Request;
import io.tern.protocol.Response;
import io.tern.protocol.WireMessage;
import io.tern.server.ServerProcess;
import io.tern.testkit.CheckedDrain;
import io.tern.testkit.RawClient;
import io.tern.testkit.SendingThread;
import io.tern.testkit.TotalQueueChecker;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A client that holds nothing of a node that went silent (a producer) is served by that node's
 * failover node at once, while the node is still in the view, and the failover node keeps exactly
 * one copy of what the client resends: the node's own copy if its replica already has it, else the
 * resend, and then the node's copy, should the node resume and store it, is refused. Failure
 * detection is set far longer than each test, so nothing here is ever found gone: what is tested is
 * the time before that.
 */
@Tag("system")
@Timeout(240)
class ArbiterSystemTest {
    private static final int FD_TIMEOUT_MS = 60_000;
    private static final String QUEUE = "arbiter";

    /** Kept when the test fails: the nodes' logs say what became of a message. */
    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS)
    Path dir;

    private final List<ServerProcess> nodes = new ArrayList<>();
    private ClusterTopology topology;
    /** The node the clients start on, its node id, and its failover node. */
    private ServerProcess x;
    private String xId;
    private ServerProcess z;

    @AfterEach
    void stop() throws Exception {
        ServerProcess.closeAll(nodes);
    }

    private void startCluster() throws Exception {
        int clusterPort = FreePorts.freeUdp();
        String address = FreePorts.multicastGroup(211);
        for (int i = 1; i <= 3; i++) {
            String name = "arb-" + i;
            nodes.add(new ServerProcess(name, FreePorts.free(), dir.resolve(name), dir.resolve(name + ".log"),
                    "--cluster", "arb-" + clusterPort, "--discovery-port", "0", "--machine-id", "m" + i, "--replication",
                    "--fd-timeout", FD_TIMEOUT_MS + "ms", "--cluster-port", Integer.toString(clusterPort),
                    "--cluster-address", address).start());
        }
        for (ServerProcess n : nodes) {
            assertThat(n.awaitListening(60_000)).isTrue();
        }
        TernConnectionFactory cf = new TernConnectionFactory(nodes.get(0).url() + "?failover=false");
        assertThat(ServerProcess.awaitClusterMembers(cf, 3, 60_000)).isTrue();
        for (ServerProcess n : nodes) {
            // Each checks with the others whether it was taken over before it serves: a node stopped during
            // that check (the tests stop one) would keep it starting, and refusing the drains, until it resumes.
            assertThat(n.awaitServing(60_000)).as("%s serves", n.url()).isTrue();
        }
        // Each node's failover node is in sync once the cluster list names one for every member.
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            ClusterTopology t = cf.clusterTopology();
            return t != null && t.members().stream().allMatch(m -> !t.failover().getOrDefault(m.nodeId(), List.of()).isEmpty());
        });
        topology = cf.clusterTopology();
        // A failover node arbitrates once its replica of the node is complete.
        x = nodes.get(0);
        xId = nodeIdOf(x);
        z = failoverNodeOf(xId);
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            List<String> said = Files.readAllLines(z.log()).stream().filter(l -> l.contains("Replica of " + xId)).toList();
            return !said.isEmpty() && said.get(said.size() - 1).contains(": in sync");
        });
    }

    private String nodeIdOf(ServerProcess node) {
        return topology.members().stream().filter(m -> m.clientUris().stream().anyMatch(u -> u.endsWith(":" + node.port())))
                .map(NodeInfo::nodeId).findFirst().orElseThrow();
    }

    private ServerProcess failoverNodeOf(String nodeId) {
        String uri = topology.failover().get(nodeId).get(0).clientUris().get(0);
        return nodes.stream().filter(n -> uri.endsWith(":" + n.port())).findFirst().orElseThrow();
    }

    private static WireMessage persistent(String id) {
        return new WireMessage(id, WireMessage.BODY_TEXT, DestinationName.queue(QUEUE), null, null, null, true, 4, 0, 0, 0,
                Map.of(WireMessage.DUPLICATE_ID, "dup-" + id), id.getBytes(StandardCharsets.UTF_8));
    }

    /** Opens a raw connection to {@code node} with one session; {@code fromNode} as in a failover's hello. */
    private static RawClient connect(ServerProcess node, String fromNode, boolean holdsNothing) throws Exception {
        RawClient raw = new RawClient(node.port()).handshake();
        raw.send(1, 0, new Request.Hello(null, null, "raw", "arbiter-test-connection", fromNode, holdsNothing));
        assertThat(raw.answer(1)).as("served at once, the node it comes from still in the view")
                .isInstanceOf(Response.Welcome.class);
        raw.send(2, 0, new Request.CreateSession(1, Request.AUTO_ACKNOWLEDGE));
        assertThat(raw.answer(2)).isEqualTo(Response.OK);
        return raw;
    }

    /** The ids of every message of the queue, taken through the node that is neither {@link #x} nor {@link #z}. */
    private List<String> drainThroughTheThirdNode() throws Exception {
        ServerProcess third = nodes.stream().filter(n -> n != x && n != z).findFirst().orElseThrow();
        List<String> ids = new ArrayList<>();
        try (Connection c = new TernConnectionFactory(third.url() + "?failover=false").createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = s.createConsumer(s.createQueue(QUEUE));
            c.start();
            Message first = consumer.receive(60_000);
            assertThat(first).as("the message reaches a consumer on the third node").isNotNull();
            ids.add(first.getJMSMessageID());
            for (Message m; (m = consumer.receive(3_000)) != null; ) {
                ids.add(m.getJMSMessageID());
            }
        }
        return ids;
    }

    @Test
    void aResendStoredByTheFailoverNodeFirstMakesTheStoppedNodesOwnCopyFail() throws Exception {
        startCluster();
        WireMessage m = persistent("ID:arbiter-late-original");
        try (RawClient onX = connect(x, null, false)) {
            x.pause(true);
            onX.send(3, 0, new Request.Send(1, m)); // waits in the stopped node's socket
            try (RawClient onZ = connect(z, xId, true)) {
                onZ.send(3, 0, new Request.Send(1, m));
                assertThat(onZ.answer(3)).as("the resend is stored by the failover node").isEqualTo(Response.OK);
            }
            x.pause(false);
            assertThat(onX.answer(3)).as("the stopped node stores its copy when it resumes: too late")
                    .isInstanceOfSatisfying(Response.Error.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_IN_QUORUM));
        }
        assertThat(Files.readString(z.log())).contains("refused, the node drops its copy");
        assertThat(drainThroughTheThirdNode()).containsExactly(m.messageId());
    }

    @Test
    void aResendOfWhatTheNodeStoredIsDroppedByItsFailoverNode() throws Exception {
        startCluster();
        WireMessage m = persistent("ID:arbiter-stored-first");
        try (RawClient onX = connect(x, null, false)) {
            onX.send(3, 0, new Request.Send(1, m));
            assertThat(onX.answer(3)).isEqualTo(Response.OK);
            x.pause(true); // its answer was lost, say: the client leaves the silent node with the send
            try (RawClient onZ = connect(z, xId, true)) {
                onZ.send(3, 0, new Request.Send(1, m));
                assertThat(onZ.answer(3)).as("a duplicate of what the node stored: dropped, and told stored")
                        .isEqualTo(Response.OK);
            }
            x.pause(false);
        }
        assertThat(drainThroughTheThirdNode()).containsExactly(m.messageId());
    }

    /**
     * A producer whose node stops: it goes on through the node's failover node while the node is still
     * stopped and in the view (before this, its send waited until the node was found gone and taken
     * over, or resumed). Nothing lost, nothing twice, no send in doubt.
     */
    @Test
    void aProducerGoesOnThroughTheFailoverNodeWhileItsNodeIsStopped() throws Exception {
        startCluster();
        TotalQueueChecker checker = new TotalQueueChecker();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        List<FailoverEvent> events = new CopyOnWriteArrayList<>();
        TernConnectionFactory cf = new TernConnectionFactory(x.url() + "?reconnectAttempts=1&reconnectDelay=50&heartbeat=500");
        cf.setFailoverListener(events::add);
        try (Connection producerConnection = cf.createConnection()) {
            producerConnection.setExceptionListener(errors::add);
            Session ps = producerConnection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = ps.createProducer(ps.createQueue(QUEUE));
            producer.setDeliveryMode(DeliveryMode.PERSISTENT);
            SendingThread sender = new SendingThread(ps, producer, checker::sent, errors::add);
            await().atMost(Duration.ofSeconds(60)).until(() -> sender.sent() >= 200 || !errors.isEmpty());
            x.pause(true);
            int atPause = sender.sent();
            // Failure detection takes a minute here: sends that return now went through another node.
            await().atMost(Duration.ofSeconds(30)).until(() -> sender.sent() >= atPause + 100 || !errors.isEmpty());
            assertThat(x.isAlive()).isTrue();
            x.pause(false);
            int atResume = sender.sent();
            await().atMost(Duration.ofSeconds(60)).until(() -> sender.sent() >= atResume + 100 || !errors.isEmpty());
            sender.stop();
        }
        List<CheckedDrain> drains = new ArrayList<>();
        try {
            for (ServerProcess n : nodes) {
                drains.add(new CheckedDrain(n.url() + "?failover=false", QUEUE, checker, errors::add));
            }
            await().atMost(Duration.ofSeconds(90)).until(() -> checker.lost().isEmpty() || !errors.isEmpty());
        } finally {
            for (CheckedDrain d : drains) {
                d.close();
            }
        }
        // Every message came once: anything a queue still gives now would come a second time.
        for (ServerProcess n : nodes) {
            try (Connection c = new TernConnectionFactory(n.url() + "?failover=false").createConnection()) {
                Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageConsumer left = s.createConsumer(s.createQueue(QUEUE));
                c.start();
                for (Message m; (m = left.receive(1_000)) != null; ) {
                    checker.received(m.getJMSMessageID());
                }
            }
        }
        assertThat(errors).as("exceptions seen by the application").isEmpty();
        assertThat(checker.lost()).as(checker.toString()).isEmpty();
        assertThat(checker.duplicated()).as(checker + " (node logs in " + dir + ")").isEmpty();
        assertThat(checker.inDoubt()).isEmpty();
        assertThat(checker.unexpected()).isEmpty();
        assertThat(events.stream().filter(e -> e.kind() == FailoverEvent.Kind.COMPLETED)).as("the producer moved").isNotEmpty();
        assertThat(Files.readString(x.log())).as("a stall, not a death").doesNotContain("was taken over while it was gone");
    }
}
