package io.tern.it;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tern.client.TernConnectionFactory;
import io.tern.discovery.FreePorts;
import io.tern.server.ServerProcess;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code GET /metrics} of real server processes, scraped as Prometheus does, while messages flow
 * and a node dies; and the client's meters in the application's registry.
 */
@Timeout(180)
class MetricsSystemTest {
    @TempDir
    Path dir;
    private final List<ServerProcess> nodes = new ArrayList<>();
    private final List<Integer> consoles = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() throws Exception {
        for (ServerProcess n : nodes) {
            n.close();
        }
    }

    /** Two nodes replicating to each other (no quorum rule: two nodes cannot have a majority without each other). */
    private void startCluster() throws Exception {
        int clusterPort = FreePorts.freeUdp();
        String address = FreePorts.multicastGroup(211);
        for (int i = 1; i <= 2; i++) {
            int console = FreePorts.free();
            consoles.add(console);
            String name = "metrics-" + i;
            nodes.add(new ServerProcess(name, FreePorts.free(), dir.resolve(name), dir.resolve(name + ".log"), "--cluster",
                    "metrics-" + clusterPort, "--cluster-port", Integer.toString(clusterPort), "--cluster-address", address,
                    "--discovery-port", "0", "--machine-id", "m" + i, "--console-port", Integer.toString(console),
                    "--fd-timeout", "2000ms", "--quorum", "false").start());
        }
        for (int i = 0; i < nodes.size(); i++) {
            assertThat(nodes.get(i).awaitListening(60_000)).isTrue();
            assertThat(nodes.get(i).awaitPort(consoles.get(i), 60_000)).as("the console opens after the client port").isTrue();
        }
    }

    private String scrape(int node) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + consoles.get(node) + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        return r.body();
    }

    /** The value of the sample {@code name} whose labels include {@code labels} (k, v, k, v...); NaN if none. */
    static double sample(String text, String name, String... labels) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)$").matcher(text);
        while (m.find()) {
            boolean all = true;
            for (int i = 0; i < labels.length; i += 2) {
                all &= m.group(1).contains(labels[i] + "=\"" + labels[i + 1] + "\"");
            }
            if (all) {
                return Double.parseDouble(m.group(2));
            }
        }
        return Double.NaN;
    }

    private double sample(int node, String name, String... labels) throws Exception {
        return sample(scrape(node), name, labels);
    }

    @Test
    void theFiguresMoveAsMessagesFlowAndANodeIsTakenOver() throws Exception {
        startCluster();
        SimpleMeterRegistry clientMeters = new SimpleMeterRegistry();
        TernConnectionFactory cf = new TernConnectionFactory(nodes.get(0).url() + "?failoverTimeout=60000");
        cf.setMeterRegistry(clientMeters);
        assertThat(ServerProcess.awaitClusterMembers(cf, 2, 60_000)).isTrue();
        await("node 1 has node 2 as its backup, in sync").atMost(Duration.ofSeconds(60))
                .until(() -> sample(0, "tern_replication_backups_in_sync", "node", "metrics-1") == 1.0);
        String before = scrape(0);
        assertThat(sample(before, "tern_cluster_members", "node", "metrics-1")).isEqualTo(2.0);
        assertThat(sample(before, "tern_cluster_quorum", "node", "metrics-1")).isEqualTo(1.0);
        assertThat(sample(before, "tern_node_state", "state", "serving")).isEqualTo(1.0);
        assertThat(sample(before, "jvm_memory_used_bytes", "area", "heap")).isPositive();
        assertThat(sample(before, "tern_store_estimated_keys")).isGreaterThanOrEqualTo(0.0);
        double nodeIn = sample(before, "tern_messages_in_total", "node", "metrics-1");

        try (Connection c = cf.createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue("metered"));
            p.setDeliveryMode(DeliveryMode.PERSISTENT);
            for (int i = 0; i < 50; i++) {
                p.send(s.createTextMessage("m" + i));
            }
            MessageConsumer consumer = s.createConsumer(s.createQueue("metered"));
            Message last = null;
            for (int i = 0; i < 20; i++) {
                last = consumer.receive(10_000);
                assertThat(last).isNotNull();
            }
            last.acknowledge();
            await("20 acknowledged, 30 left").atMost(Duration.ofSeconds(10))
                    .until(() -> sample(0, "tern_queue_messages_out_total", "queue", "metered") == 20.0);
            String during = scrape(0);
            assertThat(sample(during, "tern_queue_messages_in_total", "queue", "metered", "kind", "queue")).isEqualTo(50.0);
            assertThat(sample(during, "tern_queue_depth", "queue", "metered")).isEqualTo(30.0);
            assertThat(sample(during, "tern_queue_consumers", "queue", "metered")).isEqualTo(1.0);
            assertThat(sample(during, "tern_messages_in_total")).isGreaterThanOrEqualTo(nodeIn + 50);
            assertThat(sample(during, "tern_connections")).isGreaterThanOrEqualTo(1.0);
            assertThat(sample(during, "tern_memory_used_bytes")).isPositive();
            assertThat(sample(1, "tern_replication_replicas_held", "node", "metrics-2")).isEqualTo(1.0);
            assertThat(sample(1, "tern_takeovers_total")).isZero();

            // Node 1 dies: node 2 takes it over, and the client fails over to it.
            nodes.get(0).kill();
            java.util.Set<String> rest = new java.util.HashSet<>();
            while (rest.size() < 30) {
                Message m = consumer.receive(60_000);
                assertThat(m).as("message %d of the 30 left, after the failover", rest.size() + 1).isNotNull();
                rest.add(((jakarta.jms.TextMessage) m).getText());
                m.acknowledge();
            }
            await("node 2 counts its takeover and the 30 acknowledged there").atMost(Duration.ofSeconds(30))
                    .until(() -> sample(1, "tern_takeovers_total", "node", "metrics-2") == 1.0
                            && sample(1, "tern_queue_messages_out_total", "queue", "metered") == 30.0);
            String after = scrape(1);
            assertThat(sample(after, "tern_failovers_served_total")).isGreaterThanOrEqualTo(1.0);
            assertThat(sample(after, "tern_cluster_members")).isEqualTo(1.0);
            assertThat(sample(after, "tern_queue_depth", "queue", "metered")).isZero();
        }
        assertThat(clientMeters.get("tern.client.failovers").tags("step", "completed", "planned", "false").counter().count())
                .isGreaterThanOrEqualTo(1.0);
        assertThat(clientMeters.get("tern.client.connections.opened").counter().count()).isGreaterThanOrEqualTo(2.0);
        assertThat(clientMeters.get("tern.client.connections.closed").counter().count()).isGreaterThanOrEqualTo(1.0);
    }
}
