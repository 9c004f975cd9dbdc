package io.tern.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.tern.client.TernConnectionFactory;
import io.tern.discovery.FreePorts;
import io.tern.server.ServerProcess;
import io.tern.testkit.TestNetwork;
import jakarta.jms.Connection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code kubernetes} stack as the manifests of {@code deploy/kubernetes} run it, without a
 * Kubernetes: three nodes, each on a host of its own (network namespaces), run with the
 * ConfigMap's {@code tern.yaml} and the flags the StatefulSet gives, find each other through
 * DNS_PING asking a real DNS server (dnsmasq) that answers the headless service's name with their
 * addresses, as the cluster DNS does for a headless service. The readiness probe answers from the
 * node's state, and a node stopped with SIGTERM is gone within the pod's termination grace period.
 */
@Timeout(240)
class KubernetesStackSystemTest {
    private static final Path MANIFESTS = Path.of("..", "deploy", "kubernetes", "tern.yaml");
    private static final String SERVICE = "tern-headless.test.svc.cluster.local";

    @TempDir
    Path dir;
    private TestNetwork network;
    private Process dns;
    private final List<ServerProcess> nodes = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (ServerProcess n : nodes) {
            n.close();
        }
        if (dns != null) {
            dns.destroy();
            dns.waitFor(10, TimeUnit.SECONDS);
        }
        if (network != null) {
            network.close();
        }
    }

    /** The manifests' objects by kind. */
    private static Map<String, JsonNode> manifests() throws Exception {
        Map<String, JsonNode> byKind = new HashMap<>();
        try (MappingIterator<JsonNode> docs = new YAMLMapper().readerFor(JsonNode.class).readValues(MANIFESTS.toFile())) {
            while (docs.hasNext()) {
                JsonNode d = docs.next();
                byKind.put(d.get("kind").asText(), d);
            }
        }
        return byKind;
    }

    @Test
    void theManifestsHaveAHeadlessServiceStatefulSetWithVolumesReadinessAndADisruptionBudget() throws Exception {
        Map<String, JsonNode> m = manifests();
        assertThat(m).containsKeys("Service", "ConfigMap", "StatefulSet", "PodDisruptionBudget");
        JsonNode service = m.get("Service").get("spec");
        assertThat(service.get("clusterIP").asText()).isEqualTo("None");
        assertThat(service.get("publishNotReadyAddresses").asBoolean()).as("members find each other before they are ready").isTrue();
        JsonNode set = m.get("StatefulSet").get("spec");
        assertThat(set.get("serviceName").asText()).isEqualTo(m.get("Service").get("metadata").get("name").asText());
        assertThat(set.get("volumeClaimTemplates").get(0).get("metadata").get("name").asText()).isEqualTo("data");
        JsonNode container = set.get("template").get("spec").get("containers").get(0);
        assertThat(container.get("readinessProbe").get("httpGet").get("path").asText()).isEqualTo("/health/ready");
        assertThat(container.get("livenessProbe").get("httpGet").get("path").asText()).isEqualTo("/health/live");
        assertThat(container.get("args").toString()).contains("--dns-query=tern-headless.").contains("--machine-id=$(NODE_NAME)");
        assertThat(m.get("PodDisruptionBudget").get("spec").get("maxUnavailable").asInt()).isEqualTo(1);
    }

    @Test
    void threeNodesOnHostsOfTheirOwnFormOneClusterThroughDnsPingAndStopWithinTheGracePeriod() throws Exception {
        boolean required = "required".equals(System.getenv("TERN_SYSTEM_TESTS"));
        boolean dnsmasq = Files.isExecutable(Path.of("/usr/sbin/dnsmasq"));
        if (!required) {
            Assumptions.assumeTrue(TestNetwork.available() && dnsmasq,
                    "needs root with ip netns and dnsmasq (apt-get install dnsmasq-base)");
        }
        assertThat(dnsmasq).as("/usr/sbin/dnsmasq (.ci/run installs dnsmasq-base)").isTrue();
        Map<String, JsonNode> m = manifests();
        Path config = Files.writeString(dir.resolve("tern.yaml"), m.get("ConfigMap").get("data").get("tern.yaml").asText());
        long graceSeconds = m.get("StatefulSet").get("spec").get("template").get("spec").get("terminationGracePeriodSeconds").asLong();

        network = TestNetwork.create(3);
        int dnsPort = FreePorts.freeUdp();
        StringBuilder hosts = new StringBuilder();
        for (int i = 1; i <= 3; i++) {
            hosts.append(network.address(i)).append(' ').append(SERVICE).append('\n');
        }
        Path hostsFile = Files.writeString(dir.resolve("headless-service.hosts"), hosts.toString());
        // The cluster DNS of the test: it answers the service's name with every host, and nothing else
        // (no upstream servers, no /etc/hosts), on this process's own end of the test network only.
        dns = new ProcessBuilder("/usr/sbin/dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                "--addn-hosts=" + hostsFile, "--listen-address=" + network.hostAddress(), "--bind-interfaces",
                "--port=" + dnsPort, "--pid-file=", "--log-queries", "--log-facility=-",
                "--user=" + System.getProperty("user.name")) // it reads the hosts file in this test's own directory
                .redirectErrorStream(true).redirectOutput(dir.resolve("dnsmasq.log").toFile()).start();

        String cluster = "k8s-" + dnsPort;
        for (int i = 1; i <= 3; i++) {
            String name = "tern-" + (i - 1); // as the StatefulSet names its pods
            nodes.add(ServerProcess.inNamespace(network.namespace(i), network.address(i), name, FreePorts.free(), dir.resolve(name),
                    dir.resolve(name + ".log"), "--config", config.toString(), "--cluster", cluster, "--machine-id", "k8s-node-" + i,
                    "--dns-query", SERVICE, "--dns-address", network.hostAddress() + ":" + dnsPort, "--console-port", "8161",
                    "--fd-timeout", "3000ms", "--cluster-port", "7800").start()); // the port of the StatefulSet's pods
        }
        for (ServerProcess n : nodes) {
            assertThat(n.awaitListening(60_000)).as(n.log().toString()).isTrue();
        }
        for (ServerProcess n : nodes) {
            assertThat(ServerProcess.awaitClusterMembers(new TernConnectionFactory(n.url() + "?failover=false"), 3, 90_000))
                    .as("%s sees all three members, found through DNS", n.url()).isTrue();
        }
        assertThat(Files.readString(dir.resolve("dnsmasq.log"))).as("the nodes asked the DNS server").contains(SERVICE);

        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        for (int i = 1; i <= 3; i++) {
            HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create("http://" + network.address(i) + ":8161/health/ready"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).as("node %d is ready: %s", i, ready.body()).isEqualTo(200);
            assertThat(ready.body()).contains("serving");
        }

        // Kubernetes stops a pod with SIGTERM and kills it after the grace period: a node with a
        // client stops gracefully (the client moves to another node) well within it.
        ServerProcess leaving = nodes.get(2);
        TernConnectionFactory cf = new TernConnectionFactory(leaving.url() + "," + nodes.get(0).url());
        try (Connection c = cf.createConnection()) {
            c.start();
            Integer exit = leaving.stopWithin(TimeUnit.SECONDS.toMillis(graceSeconds));
            assertThat(exit).as("it exits by itself within the grace period (else Kubernetes, and this test, kill it), with "
                    + "the status of a JVM after SIGTERM and its shutdown hooks").isIn(0, 143);
            assertThat(Files.readString(leaving.log())).contains("lame duck: every client moved away");
        }
        assertThat(ServerProcess.awaitClusterMembers(new TernConnectionFactory(nodes.get(0).url() + "?failover=false"), 2, 60_000))
                .isTrue();
    }
}
