package io.tern.it;

import io.tern.server.TernCli;
import io.tern.server.ServerProcess;
import io.tern.discovery.FreePorts;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A real server announces itself on multicast (loopback, TTL 0) and {@code tern discover} finds it. */
@Tag("system")
@Timeout(120)
class DiscoverySystemTest {
    @TempDir
    Path dir;

    private TernCli.Run tern(String... args) throws Exception {
        return TernCli.run(args);
    }

    @Test
    void discoverPrintsTheServersOfAGroup() throws Exception {
        int udp = FreePorts.freeUdp();
        String address = FreePorts.multicastGroup(202);
        String cluster = "it-" + udp;
        int port = FreePorts.free();
        String[] discovery = {"--discovery-address", address, "--discovery-port", Integer.toString(udp)};
        int console = FreePorts.free();
        List<String> serverArgs = new ArrayList<>(List.of("--cluster", cluster, "--console-port", Integer.toString(console)));
        serverArgs.addAll(List.of(discovery));
        try (ServerProcess node = new ServerProcess("disc-1", port, dir.resolve("data"), dir.resolve("node.log"),
                serverArgs.toArray(String[]::new)).start()) {
            assertThat(node.awaitListening(60_000)).isTrue();
            // It announces itself once it has joined its cluster, after the console opened; then it logs that it listens.
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60))
                    .until(() -> java.nio.file.Files.readString(node.log()).contains("tern server disc-1 listening on"));
            List<String> args = new ArrayList<>(List.of("discover", "--group", cluster, "--timeout", "1500ms"));
            args.addAll(List.of(discovery));
            TernCli.Run found = tern(args.toArray(String[]::new));
            assertThat(found.exit()).as(found.output()).isZero();
            assertThat(found.output()).contains(cluster).contains("jms").contains("tern://127.0.0.1:" + port)
                    .contains("console").contains("http://127.0.0.1:" + console).contains("2 service(s) heard");
            List<String> other = new ArrayList<>(List.of("discover", "--group", "another-group", "--timeout", "500ms"));
            other.addAll(List.of(discovery));
            TernCli.Run none = tern(other.toArray(String[]::new));
            assertThat(none.exit()).isEqualTo(1);
            assertThat(none.output()).contains("no services heard");
        }
    }
}
