package io.tern.it;

import io.tern.client.TernConnectionFactory;
import io.tern.discovery.FreePorts;
import io.tern.server.ServerProcess;
import jakarta.jms.BytesMessage;
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

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Queues deeper than memory with replication on (the default): three server processes of 128 MiB
 * heap each fill their own queue with more than their heap in persistent messages while no consumer
 * runs. Each node pages its own queue, and the replicas it holds of the others page their bodies to
 * its disk, so no send is refused and no node runs out of heap. Then the node with the deepest queue
 * is SIGKILLed: its failover node takes the deep replica over a chunk at a time, paging what does not
 * fit, and every acknowledged message of every queue is delivered once and in order: the taken-over
 * queue through the other survivor, so that clustered queues move it across under this memory pressure.
 * (That once stalled, and a new backup's snapshot ran a node out of heap: JGroups kept every unicast
 * message it sent until the receiver's delayed acknowledgement, up to half a second of traffic, tens of
 * MiB that no limit counted. Tern's stacks acknowledge at once; see {@code ClusterSendWindowTest}.)
 */
@Tag("system")
@Timeout(400)
class ReplicaMemorySystemTest {
    private static final int BODY = 256 * 1024;
    /** 150 MiB for each node: more than its heap, more than twice its memory limit (64 MiB, half its heap). */
    private static final int MESSAGES = 600;

    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS) // the node logs stay when a test fails
    Path dir;

    private final List<ServerProcess> nodes = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        ServerProcess.closeAll(nodes);
    }

    @Test
    void nodesPageTheirQueuesAndTheirReplicasAndATakeoverOfADeepReplicaDeliversEveryMessageInOrder() throws Exception {
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

        // Each node's own queue, filled past its heap with no consumer anywhere: every send is stored.
        for (int i = 0; i < 3; i++) {
            try (Connection c = new TernConnectionFactory(nodes.get(i).url() + "?failover=false").createConnection()) {
                Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageProducer p = s.createProducer(s.createQueue("fill-" + i));
                p.setDeliveryMode(DeliveryMode.PERSISTENT);
                for (int n = 0; n < MESSAGES; n++) {
                    BytesMessage m = s.createBytesMessage();
                    m.writeBytes(new byte[BODY]);
                    m.setIntProperty("seq", n);
                    p.send(m); // a refusal (memory limit) fails the test
                }
            }
        }
        for (ServerProcess n : nodes) {
            assertThat(n.isAlive()).as(n.url() + " is alive").isTrue();
            assertThat(Files.readString(n.log())).as(n.log() + " has no OutOfMemoryError").doesNotContain("OutOfMemoryError");
        }

        // The first node dies: its failover node takes its deep queue over from the replica.
        ServerProcess gone = nodes.get(0);
        gone.kill();
        await().atMost(Duration.ofSeconds(120)).until(() -> tookOver(nodes.get(1)) || tookOver(nodes.get(2)));
        ServerProcess taker = tookOver(nodes.get(1)) ? nodes.get(1) : nodes.get(2);

        // Every message of every queue, once and in order: the dead node's queue through the survivor that did
        // not take it over (read back from the taker's store and moved across), the others where they are.
        ServerProcess other = taker == nodes.get(1) ? nodes.get(2) : nodes.get(1);
        for (int i = 0; i < 3; i++) {
            ServerProcess through = i == 0 ? other : nodes.get(i);
            try (Connection c = new TernConnectionFactory(through.url() + "?failover=false&prefetch=20").createConnection()) {
                c.start();
                Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageConsumer consumer = s.createConsumer(s.createQueue("fill-" + i));
                for (int n = 0; n < MESSAGES; n++) {
                    Message m = consumer.receive(30_000);
                    assertThat(m).as("message %d of %d of fill-%d", n, MESSAGES, i).isNotNull();
                    assertThat(m.getIntProperty("seq")).as("fill-%d in order", i).isEqualTo(n);
                }
                assertThat(consumer.receive(1000)).as("nothing more in fill-" + i).isNull();
            }
        }
        for (ServerProcess n : nodes.subList(1, 3)) {
            assertThat(n.isAlive()).as(n.url() + " is alive").isTrue();
            assertThat(Files.readString(n.log())).as(n.log() + " has no OutOfMemoryError").doesNotContain("OutOfMemoryError");
        }
    }

    private static boolean tookOver(ServerProcess n) throws java.io.IOException {
        return Files.readString(n.log()).contains("Took over ");
    }
}
