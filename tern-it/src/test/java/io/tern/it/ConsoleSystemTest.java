package io.tern.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tern.client.TernConnectionFactory;
import io.tern.client.impl.TernConnection;
import io.tern.server.ServerProcess;
import io.tern.discovery.FreePorts;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The web console of a three-node cluster of real processes: one node's console shows every
 * member with its failover nodes, queues and connections (asking the others' consoles), and drains
 * another node, whose client then moves away.
 */
@Tag("system")
@Timeout(180)
class ConsoleSystemTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final List<ServerProcess> nodes = new ArrayList<>();
    private final List<Integer> consolePorts = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() throws Exception {
        for (ServerProcess n : nodes) {
            n.close();
        }
    }

    private void startCluster(String... extra) throws Exception {
        int clusterPort = FreePorts.freeUdp();
        String address = FreePorts.multicastGroup(209);
        for (int i = 1; i <= 3; i++) {
            int console = FreePorts.free();
            consolePorts.add(console);
            List<String> args = new ArrayList<>(List.of("--cluster", "console-" + clusterPort, "--cluster-port",
                    Integer.toString(clusterPort), "--cluster-address", address, "--discovery-port", "0", "--machine-id",
                    "m" + i, "--console-port", Integer.toString(console), "--fd-timeout", "2000ms"));
            args.addAll(List.of(extra));
            nodes.add(new ServerProcess("con-" + i, FreePorts.free(), dir.resolve("con-" + i), dir.resolve("con-" + i + ".log"),
                    args.toArray(String[]::new)).start());
        }
        for (int i = 0; i < nodes.size(); i++) {
            assertThat(nodes.get(i).awaitListening(60_000)).isTrue();
            assertThat(nodes.get(i).awaitPort(consolePorts.get(i), 60_000)).as("the console opens after the client port").isTrue();
        }
    }

    /** The clients' factory, on node 2 of the cluster. */
    private TernConnectionFactory client;

    /** Starts the three nodes and points {@link #client} at node 2, once it knows all three; returns node 2. */
    private ServerProcess startClusterWithAClientOnNode2() throws Exception {
        startCluster();
        ServerProcess served = nodes.get(1);
        client = new TernConnectionFactory(served.url() + "?reconnectAttempts=1&reconnectDelay=50");
        assertThat(ServerProcess.awaitClusterMembers(client, 3, 60_000)).isTrue();
        return served;
    }

    private String console(int node) {
        return "http://127.0.0.1:" + consolePorts.get(node);
    }

    private HttpResponse<String> get(String url, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET();
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String url, boolean consoleHeader, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.noBody());
        if (consoleHeader) {
            b.header("X-Tern-Console", "1");
        }
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode cluster(int node, String authorization) throws Exception {
        HttpResponse<String> r = get(console(node) + "/api/cluster", authorization);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static JsonNode member(JsonNode cluster, String name) {
        for (JsonNode m : cluster.get("members")) {
            if (m.get("name").asText().equals(name)) {
                return m;
            }
        }
        throw new AssertionError("no member " + name + " in " + cluster);
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void showsEveryMemberWithItsQueuesAndConnectionsAndDrainsANode() throws Exception {
        ServerProcess served = startClusterWithAClientOnNode2();
        try (Connection c = client.createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue("console-orders"));
            p.setDeliveryMode(DeliveryMode.PERSISTENT);
            for (int i = 0; i < 7; i++) {
                p.send(s.createTextMessage("order " + i));
            }

            // Node 1's console, asked about the cluster, shows node 2's queue and client (from node 2's console).
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                JsonNode cluster = cluster(0, null);
                assertThat(cluster.get("self").asText()).isEqualTo("con-1");
                assertThat(cluster.get("quorum").asBoolean()).isTrue();
                assertThat(cluster.get("members")).hasSize(3);
                for (JsonNode m : cluster.get("members")) {
                    assertThat(m.get("node")).as("view of %s: %s", m.get("name"), m).isNotNull();
                    assertThat(m.get("node").get("state").asText()).isEqualTo("serving");
                    assertThat(m.get("failover")).hasSize(1);
                    assertThat(m.get("failover").get(0).asText()).isNotEqualTo(m.get("name").asText());
                }
                JsonNode two = member(cluster, "con-2");
                assertThat(two.get("console").asText()).isEqualTo(console(1));
                JsonNode queue = two.get("node").get("queues").get(0);
                assertThat(queue.get("name").asText()).isEqualTo("console-orders");
                assertThat(queue.get("messages").asInt()).isEqualTo(7);
                assertThat(two.get("node").get("connections")).hasSize(1);
                assertThat(two.get("node").get("connections").get(0).get("sessions").asInt()).isEqualTo(1);
                assertThat(two.get("node").get("connections").get(0).get("state").asText()).isEqualTo("open");
                assertThat(member(cluster, "con-1").get("node").get("connections")).isEmpty();
            });

            HttpResponse<String> page = get(console(0) + "/", null);
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
            assertThat(page.body()).contains("<title>Tern console</title>").contains("new EventSource(\"api/events\"");

            // A drain without the console's header (what a form on another site could send) is refused.
            HttpResponse<String> forged = post(console(0) + "/api/drain?node=con-2", false, null);
            assertThat(forged.statusCode()).isEqualTo(403);
            assertThat(member(cluster(0, null), "con-2").get("node").get("state").asText()).isEqualTo("serving");
            assertThat(post(console(0) + "/api/drain?node=nobody", true, null).statusCode()).isEqualTo(404);
            assertThat(get(console(0) + "/api/drain?node=con-2", null).statusCode()).isEqualTo(405);

            // Drained through node 1's console: node 2 tells its client to move, and the client does.
            HttpResponse<String> drained = post(console(0) + "/api/drain?node=con-2", true, null);
            assertThat(drained.statusCode()).as(drained.body()).isEqualTo(200);
            assertThat(JSON.readTree(drained.body()).get("node").asText()).isEqualTo("con-2");
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(((TernConnection) c).server()).doesNotEndWith(":" + served.port()));
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                JsonNode two = member(cluster(2, null), "con-2").get("node");
                assertThat(two.get("state").asText()).isEqualTo("draining");
                assertThat(two.get("connections")).isEmpty();
            });
            // A draining node is not ready (an orchestrator sends it no one), yet alive; the probes need no credentials.
            HttpResponse<String> ready = get(console(1) + "/health/ready", null);
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.body()).contains("draining");
            assertThat(get(console(1) + "/health/live", null).statusCode()).isEqualTo(200);
            assertThat(get(console(0) + "/health/ready", null).statusCode()).isEqualTo(200);
            // The client carries on from where it moved to.
            p.send(s.createTextMessage("after the drain"));
        }
    }

    @Test
    void asksForAUserOfTheNodeAndForwardsTheCredentials() throws Exception {
        startCluster("--dev-user", "ops=s3cret");
        HttpResponse<String> anonymous = get(console(0) + "/api/cluster", null);
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(h -> assertThat(h).startsWith("Basic"));
        assertThat(get(console(0) + "/api/cluster", basic("ops", "wrong")).statusCode()).isEqualTo(401);
        assertThat(get(console(0) + "/api/cluster", "Basic !!not-base64!!").statusCode()).isEqualTo(401);
        assertThat(post(console(0) + "/api/drain?node=con-1", true, basic("ops", "wrong")).statusCode()).isEqualTo(401);

        // With the right user, the other members' consoles answer the forwarded request too.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode cluster = cluster(0, basic("ops", "s3cret"));
            assertThat(cluster.get("members")).hasSize(3);
            for (JsonNode m : cluster.get("members")) {
                assertThat(m.get("node")).as("view of %s: %s", m.get("name"), m).isNotNull();
            }
        });
    }

    /**
     * The page itself, in headless Chromium driven by Playwright ({@code src/test/browser}): it shows
     * every member serving and the queue, and its Drain button drains a node. Skipped where there is
     * no Chromium, Node.js or {@code npm ci} of that folder, unless TERN_BROWSER_TESTS=required (CI).
     */
    /** Skips unless Chromium and Playwright are here; in CI (TERN_BROWSER_TESTS=required) they must be. */
    private static Path browserDir() {
        Path browserDir = Path.of("src", "test", "browser");
        boolean ready = java.nio.file.Files.isExecutable(Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium")))
                && java.nio.file.Files.isDirectory(browserDir.resolve("node_modules").resolve("playwright-core"));
        if (!"required".equals(System.getenv("TERN_BROWSER_TESTS"))) {
            org.junit.jupiter.api.Assumptions.assumeTrue(ready, "needs Chromium and npm ci in " + browserDir);
        }
        return browserDir;
    }

    @Test
    void thePageInABrowserShowsTheClusterAndItsDrainButtonDrainsANode() throws Exception {
        Path browserDir = browserDir();
        ServerProcess served = startClusterWithAClientOnNode2();
        try (Connection c = client.createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            s.createProducer(s.createQueue("browser-orders")).send(s.createTextMessage("one"));
            Path screenshot = Path.of("target", "console-" + consolePorts.get(0) + ".png").toAbsolutePath();
            Process node = new ProcessBuilder("node", "console-check.mjs", console(0), "browser-orders", "con-2",
                    screenshot.toString()).directory(browserDir.toFile()).redirectErrorStream(true).start();
            String output;
            try (var in = node.getInputStream()) {
                output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            assertThat(node.waitFor(90, java.util.concurrent.TimeUnit.SECONDS)).as(output).isTrue();
            assertThat(node.exitValue()).as(output).isZero();
            assertThat(output).contains("servers: 3 serving").contains("queue listed: browser-orders")
                    .contains("drained: con-2 shows draining").contains("ok");
            assertThat(screenshot).exists();
            // The drain the button asked for moves the client off node 2.
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(((TernConnection) c).server()).doesNotEndWith(":" + served.port()));
        }
    }

    /**
     * The ring, the rates and the timeline in headless Chromium ({@code ring-check.mjs}), fed by the
     * console's event stream: while messages flow, node 3 is killed; it leaves the ring, the arrow of
     * the node it backed up moves to another, and the timeline shows it taken over.
     */
    @Test
    void theRingLosesAKilledNodeItsArrowMovesAndTheTimelineShowsItsTakeover() throws Exception {
        Path browserDir = browserDir();
        startClusterWithAClientOnNode2();
        java.util.concurrent.atomic.AtomicBoolean sending = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicReference<Exception> producerFailure = new java.util.concurrent.atomic.AtomicReference<>();
        Thread producer = new Thread(() -> {
            try (Connection c = client.createConnection()) {
                Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageProducer p = s.createProducer(s.createQueue("ring-orders"));
                s.createConsumer(s.createQueue("ring-orders")).setMessageListener(m -> { });
                c.start();
                while (sending.get()) {
                    p.send(s.createTextMessage("tick"));
                    Thread.sleep(20); // a steady trickle for the rates
                }
            } catch (Exception e) {
                if (sending.get()) {
                    producerFailure.set(e); // the client fails over from nothing here: con-3 is not its node
                }
            }
        }, "ring-producer");
        producer.start();
        Path screenshot = Path.of("target", "console-ring-" + consolePorts.get(0) + ".png").toAbsolutePath();
        Process node = new ProcessBuilder("node", "ring-check.mjs", console(0), "con-3", screenshot.toString())
                .directory(browserDir.toFile()).redirectErrorStream(true).start();
        StringBuilder output = new StringBuilder();
        try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                output.append(line).append('\n');
                if (line.equals("kill con-3")) {
                    nodes.get(2).kill();
                }
            }
        } finally {
            sending.set(false);
            producer.join(10_000);
        }
        assertThat(producerFailure.get()).as("the producer on con-2 while con-3 died").isNull();
        assertThat(node.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)).as(output.toString()).isTrue();
        assertThat(node.exitValue()).as(output.toString()).isZero();
        String out = output.toString();
        assertThat(out).contains("ring before: con-1:serving,con-2:serving,con-3:serving").contains("rates: 3 charts").contains("queue rate: ")
                .contains("ring after: con-1:serving,con-2:serving").contains("timeline: ").contains("ok");
        String before = out.lines().filter(l -> l.startsWith("arrows before: ")).findFirst().orElseThrow();
        String after = out.lines().filter(l -> l.startsWith("arrows after: ")).findFirst().orElseThrow();
        assertThat(before).contains("con-3->").contains("->con-3");
        assertThat(after).isEqualTo("arrows after: con-1->con-2,con-2->con-1");
        assertThat(out.lines().filter(l -> l.startsWith("timeline: ")).findFirst().orElseThrow()).contains("taken-over")
                .contains("con-3").contains("by con-");
        assertThat(screenshot).exists();
    }
}
