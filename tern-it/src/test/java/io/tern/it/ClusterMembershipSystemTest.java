package io.tern.it;

import io.tern.client.TernConnectionFactory;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.NodeInfo;
import io.tern.server.TernCli;
import io.tern.server.ServerProcess;
import io.tern.discovery.FreePorts;
import jakarta.jms.Connection;
import jakarta.jms.JMSException;
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

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Three real server processes form a cluster over the UDP stack, bound to 127.0.0.1 with TTL 0.
 * One is killed with SIGKILL, one paused with SIGSTOP: the others recompute the failover map, and
 * the test prints how long detection took (see README, "Failure detection").
 */
@Tag("system")
@Timeout(240)
class ClusterMembershipSystemTest {
    @TempDir
    Path dir;

    private final List<ServerProcess> nodes = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (ServerProcess n : nodes) {
            if (n.isAlive()) {
                signal(n, "CONT");
            }
            n.close();
        }
    }

    private static void signal(ServerProcess n, String signal) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(n.pid())).start();
        assertThat(p.waitFor()).isZero();
    }

    /** Members of the cluster as {@code node}'s clients learn it (each answer carries a changed list). */
    private static ClusterTopology topologyVia(TernConnectionFactory cf, Connection c) throws JMSException {
        c.createSession(false, Session.AUTO_ACKNOWLEDGE).close();
        return cf.clusterTopology();
    }

    private static List<String> names(ClusterTopology t) {
        return t.members().stream().map(NodeInfo::name).toList();
    }

    private static String failoverOf(ClusterTopology t, String name) {
        String id = t.members().stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow().nodeId();
        String target = t.failover().get(id).get(0).nodeId();
        return t.members().stream().filter(m -> m.nodeId().equals(target)).findFirst().orElseThrow().name();
    }

    private static String status(String url, boolean json) throws Exception {
        TernCli.Run run = json ? TernCli.run("status", "--url", url, "--json") : TernCli.run("status", "--url", url);
        assertThat(run.exit()).as(run.output()).isZero();
        return run.output();
    }

    @Test
    void theMapIsRecomputedWhenANodeIsKilledOrPaused() throws Exception {
        int clusterPort = FreePorts.freeUdp();
        String address = FreePorts.multicastGroup(205);
        String cluster = "members-" + clusterPort;
        for (int i = 1; i <= 3; i++) {
            nodes.add(new ServerProcess("node-" + i, FreePorts.free(), dir.resolve("node-" + i), dir.resolve("node-" + i + ".log"),
                    "--cluster", cluster, "--cluster-port", Integer.toString(clusterPort), "--cluster-address", address,
                    "--discovery-port", "0", "--machine-id", "machine-" + i).start());
        }
        for (ServerProcess n : nodes) {
            assertThat(n.awaitListening(60_000)).isTrue();
        }
        ServerProcess one = nodes.get(0);
        TernConnectionFactory cf = new TernConnectionFactory(one.url() + "?failover=false");
        try (Connection c = await().atMost(Duration.ofSeconds(60)).ignoreExceptionsInstanceOf(jakarta.jms.JMSException.class)
                .until(cf::createConnection, java.util.Objects::nonNull)) { // a replicating node serves once it has joined
            await().atMost(Duration.ofSeconds(60)).until(() -> topologyVia(cf, c).members().size() == 3);
            ClusterTopology three = cf.clusterTopology();
            assertThat(names(three)).containsExactlyInAnyOrder("node-1", "node-2", "node-3");
            assertThat(three.machineRedundant()).isTrue();
            assertThat(three.quorum()).isTrue();

            String table = status(one.url(), false);
            assertThat(table).contains("node-1").contains("machine-2").contains("3 member(s); quorum held");
            assertThat(table.lines().filter(l -> l.startsWith("node-")).toList()).as("each member's state, from its console")
                    .hasSize(3).allMatch(l -> l.split("\\s+")[1].equals("serving"));
            String json = status(one.url(), true);
            assertThat(json).contains("\"members\"").contains("\"nodeId\"").contains("\"machineId\" : \"machine-3\"")
                    .contains("\"failover\"").contains("\"quorum\" : true").contains("\"state\" : \"serving\"");

            ServerProcess killed = nodes.get(2);
            killed.kill();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                    .until(() -> topologyVia(cf, c).members().size() == 2);
            ClusterTopology two = cf.clusterTopology();
            assertThat(names(two)).containsExactlyInAnyOrder("node-1", "node-2");
            assertThat(failoverOf(two, "node-1")).isEqualTo("node-2");
            assertThat(failoverOf(two, "node-2")).isEqualTo("node-1");
            assertThat(two.quorum()).isTrue();

            ServerProcess paused = nodes.get(1);
            signal(paused, "STOP");
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                    .until(() -> topologyVia(cf, c).members().size() == 1);
            assertThat(cf.clusterTopology().quorum()).as("one of the two of the last stable view is no majority").isFalse();
            assertThat(cf.clusterTopology().missing()).as("the members it misses, by name").containsExactly("node-2");
            String alone = status(one.url(), false);
            assertThat(alone).contains("1 member(s); quorum NOT held (missing: node-2)");
            assertThat(alone.lines().filter(l -> l.startsWith("node-1")).findFirst().orElseThrow().split("\\s+")[1])
                    .as("the same state name as its log and console").isEqualTo("no-quorum");
            Session refused = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            assertThatThrownBy(() -> refused.createProducer(refused.createQueue("q")).send(refused.createTextMessage("x")))
                    .as("the application is told why, and which members are missing")
                    .hasMessageContaining("tern://" + one.url().substring("tern://".length()))
                    .hasMessageContaining("without a majority").hasMessageContaining("misses node-2");
            signal(paused, "CONT");
            await().atMost(Duration.ofSeconds(60)).until(() -> topologyVia(cf, c).members().size() == 2);
            assertThat(cf.clusterTopology().quorum()).isTrue();
        }
    }
}
