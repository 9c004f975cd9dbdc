package io.tern.it;

import io.tern.server.Main;
import io.tern.server.ServerProcess;
import io.tern.testkit.Ports;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.DatagramSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A real server announces itself on multicast (loopback, TTL 0) and {@code tern discover} finds it. */
@Tag("system")
@Timeout(120)
class DiscoverySystemTest {
    @TempDir
    Path dir;

    private record Run(int exit, String output) {
    }

    private Run tern(String... args) throws Exception {
        Path out = Files.createTempFile(dir, "discover", ".out");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), Files.readString(out));
    }

    @Test
    void discoverPrintsTheServersOfAGroup() throws Exception {
        int udp;
        try (DatagramSocket s = new DatagramSocket(0)) {
            udp = s.getLocalPort();
        }
        String address = "239.255.202." + ThreadLocalRandom.current().nextInt(1, 250);
        String cluster = "it-" + udp;
        int port = Ports.free();
        String[] discovery = {"--discovery-address", address, "--discovery-port", Integer.toString(udp)};
        List<String> serverArgs = new ArrayList<>(List.of("--cluster", cluster));
        serverArgs.addAll(List.of(discovery));
        try (ServerProcess node = new ServerProcess("disc-1", port, dir.resolve("data"), dir.resolve("node.log"),
                serverArgs.toArray(String[]::new)).start()) {
            assertThat(node.awaitListening(60_000)).isTrue();
            List<String> args = new ArrayList<>(List.of("discover", "--group", cluster, "--timeout", "1500ms"));
            args.addAll(List.of(discovery));
            Run found = tern(args.toArray(String[]::new));
            assertThat(found.exit()).as(found.output()).isZero();
            assertThat(found.output()).contains(cluster).contains("jms").contains("tern://127.0.0.1:" + port)
                    .contains("1 service(s) heard");
            List<String> other = new ArrayList<>(List.of("discover", "--group", "another-group", "--timeout", "500ms"));
            other.addAll(List.of(discovery));
            Run none = tern(other.toArray(String[]::new));
            assertThat(none.exit()).isEqualTo(1);
            assertThat(none.output()).contains("no services heard");
        }
    }
}
