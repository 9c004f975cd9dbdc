package io.tern.it;

import io.tern.client.FailoverEvent;
import io.tern.client.TernConnectionFactory;
import io.tern.server.ServerProcess;
import io.tern.discovery.FreePorts;
import io.tern.testkit.TotalQueueChecker;
import jakarta.jms.Connection;
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
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Three real server processes with {@code --replication}: the node a producer uses is killed with
 * SIGKILL half way through; its failover node takes over what it stored, the producer follows the
 * map there and carries on, and a consumer then finds every message exactly once.
 */
@Tag("system")
@Timeout(240)
class ReplicationSystemTest {
    @TempDir
    Path dir;

    private final List<ServerProcess> nodes = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (ServerProcess n : nodes) {
            n.close();
        }
    }

    @Test
    void aKilledNodesMessagesAreTakenOverAndNothingIsLostOrDuplicated() throws Exception {
        int clusterPort = FreePorts.freeUdp();
        String address = FreePorts.multicastGroup(206);
        for (int i = 1; i <= 3; i++) {
            nodes.add(new ServerProcess("ha-" + i, FreePorts.free(), dir.resolve("ha-" + i), dir.resolve("ha-" + i + ".log"),
                    "--cluster", "ha-" + clusterPort, "--cluster-port", Integer.toString(clusterPort),
                    "--cluster-address", address, "--discovery-port", "0", "--machine-id", "m" + i, "--replication").start());
        }
        for (ServerProcess n : nodes) {
            assertThat(n.awaitListening(60_000)).isTrue();
        }
        ServerProcess first = nodes.get(0);
        TernConnectionFactory cf = new TernConnectionFactory(first.url() + "?reconnectAttempts=1&reconnectDelay=50");
        List<FailoverEvent> events = new CopyOnWriteArrayList<>();
        cf.setFailoverListener(events::add);
        TotalQueueChecker checker = new TotalQueueChecker();
        try (Connection c = awaitConnected(cf)) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue("ha"));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                s.createProducer(null).close(); // a request brings the cluster list
                c.createSession().close();
                return cf.clusterTopology() != null && cf.clusterTopology().members().size() == 3;
            });
            // The failover node of ha-1, as the map says (the view's order is the order the nodes joined in).
            var topology = cf.clusterTopology();
            String firstId = topology.members().stream().filter(n -> n.clientUris().contains(first.url()))
                    .findFirst().orElseThrow().nodeId();
            String failoverUri = topology.failover().get(firstId).get(0).clientUris().get(0);
            for (int i = 0; i < 1000; i++) {
                if (i == 500) {
                    first.kill(); // SIGKILL of the producer's node, half way
                }
                Message m = s.createTextMessage("m-" + i);
                p.send(m);
                checker.sent(m.getJMSMessageID());
            }
            assertThat(events.stream().filter(e -> e.kind() == FailoverEvent.Kind.COMPLETED)).singleElement()
                    .satisfies(e -> assertThat("tern://" + e.to()).isEqualTo(failoverUri));
            c.start();
            MessageConsumer consumer = s.createConsumer(s.createQueue("ha"));
            long deadlineNs = System.nanoTime() + 60_000_000_000L;
            while (!checker.lost().isEmpty() && System.nanoTime() < deadlineNs) {
                Message m = consumer.receive(1000); // the takeover may still be under way
                if (m != null) {
                    checker.received(m.getJMSMessageID());
                    checker.acknowledged(m.getJMSMessageID());
                }
            }
            for (Message m; (m = consumer.receive(1000)) != null; ) { // anything more is a duplicate
                checker.received(m.getJMSMessageID());
            }
        }
        assertThat(checker.lost()).as(checker.toString()).isEmpty();
        assertThat(checker.duplicated()).isEmpty();
        assertThat(checker.recovered()).as("received twice").isEmpty();
        assertThat(checker.unexpected()).isEmpty();
    }

    private static Connection awaitConnected(TernConnectionFactory cf) {
        return await().atMost(Duration.ofSeconds(60)).ignoreExceptionsInstanceOf(JMSException.class)
                .until(cf::createConnection, c -> c != null);
    }
}
