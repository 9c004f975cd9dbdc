package io.tern.it;

import io.tern.client.TernConnectionFactory;
import io.tern.discovery.FreePorts;
import io.tern.server.ServerProcess;
import jakarta.jms.BytesMessage;
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
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node holds the replicas of the nodes it backs up in its heap, beside its own queues. With the
 * memory limit counting only its own queues (half the heap by default), a cluster whose every node
 * filled its queues to the limit while no consumer ran held twice the limit on each node: the whole
 * heap. The limit counts the replicas too: each node's producers meet the limit earlier, and no node
 * runs out of heap. Three server processes of 128 MiB each; every message acknowledged to a producer
 * is then delivered once.
 */
@Tag("system")
@Timeout(300)
class ReplicaMemorySystemTest {
    private static final int BODY = 256 * 1024;
    /** More than a node's memory limit (64 MiB, half its heap) for each producer. */
    private static final int AT_MOST = 400;

    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS) // the node logs stay when a test fails
    Path dir;

    private final List<ServerProcess> nodes = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        ServerProcess.closeAll(nodes);
    }

    @Test
    void nodesThatAllFillTheirQueuesMeetTheMemoryLimitWithTheirReplicasCounted() throws Exception {
        int clusterPort = FreePorts.freeUdp();
        String address = FreePorts.multicastGroup(213);
        for (int i = 1; i <= 3; i++) {
            nodes.add(new ServerProcess("rm-" + i, FreePorts.free(), dir.resolve("rm-" + i), dir.resolve("rm-" + i + ".log"),
                    "-J-Xmx128m", "--full-policy", "fail", "--cluster", "rm-" + clusterPort, "--cluster-port",
                    Integer.toString(clusterPort), "--cluster-address", address, "--discovery-port", "0",
                    "--machine-id", "m" + i).start());
        }
        for (ServerProcess n : nodes) {
            assertThat(n.awaitListening(60_000)).isTrue();
        }
        for (ServerProcess n : nodes) {
            assertThat(ServerProcess.awaitClusterMembers(new TernConnectionFactory(n.url()), 3, 60_000)).isTrue();
        }

        // Each node's own queue, filled until its memory limit refuses a send (no consumer anywhere).
        int[] sent = new int[3];
        List<String> refusals = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            try (Connection c = new TernConnectionFactory(nodes.get(i).url() + "?failover=false").createConnection()) {
                Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageProducer p = s.createProducer(s.createQueue("fill-" + i));
                p.setDeliveryMode(DeliveryMode.PERSISTENT);
                for (int n = 0; n < AT_MOST; n++) {
                    BytesMessage m = s.createBytesMessage();
                    m.writeBytes(new byte[BODY]);
                    m.setIntProperty("seq", n);
                    try {
                        p.send(m);
                    } catch (JMSException e) {
                        refusals.add(e.getMessage());
                        break;
                    }
                    sent[i]++;
                }
            }
        }
        org.slf4j.LoggerFactory.getLogger(ReplicaMemorySystemTest.class).info("Stored before the limit refused: {} {} {}; {}",
                sent[0], sent[1], sent[2], refusals);
        assertThat(sent[0]).as("the first node took its own queue up to its limit: about 64 MiB").isBetween(150, 300);
        assertThat(refusals).as("every node's limit refused a send").hasSize(3)
                .allSatisfy(r -> assertThat(r).containsIgnoringCase("memory"));
        for (ServerProcess n : nodes) {
            assertThat(n.isAlive()).as(n.url() + " is alive").isTrue();
            assertThat(Files.readString(n.log())).as(n.log() + " has no OutOfMemoryError").doesNotContain("OutOfMemoryError");
        }

        // Every acknowledged send is there, once and in order. (With the default prefetch of 1000: 250 MiB of
        // deliveries once went into a server's outgoing buffers at once, more than its 128 MiB of direct memory.)
        for (int i = 0; i < 3; i++) {
            try (Connection c = new TernConnectionFactory(nodes.get(i).url() + "?failover=false").createConnection()) {
                c.start();
                Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageConsumer consumer = s.createConsumer(s.createQueue("fill-" + i));
                for (int n = 0; n < sent[i]; n++) {
                    Message m = consumer.receive(30_000);
                    assertThat(m).as("message %d of %d of fill-%d", n, sent[i], i).isNotNull();
                    assertThat(m.getIntProperty("seq")).isEqualTo(n);
                }
                assertThat(consumer.receive(1000)).as("nothing more in fill-" + i).isNull();
            }
        }
    }
}
