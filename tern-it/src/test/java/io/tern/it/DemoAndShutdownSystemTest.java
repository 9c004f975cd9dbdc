package io.tern.it;

import io.tern.client.TernConnectionFactory;
import io.tern.server.Main;
import io.tern.server.ServerProcess;
import io.tern.discovery.FreePorts;
import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The main job and the graceful stop, each run as real processes. */
@Tag("system")
@Timeout(300)
class DemoAndShutdownSystemTest {
    @TempDir
    Path dir;

    @Test
    void theDemoKillsTheClientsNodeOfThreeAndEndsWithNothingLost() throws Exception {
        Path out = dir.resolve("demo.out");
        Process demo = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "demo", "--count", "3000", "--timeout", "120"))
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertThat(demo.waitFor(240, TimeUnit.SECONDS)).as("demo finished").isTrue();
        String output = Files.readString(out);
        assertThat(output).contains("Starting a cluster of 3 nodes").contains("Cluster formed; failover map")
                .contains("with SIGKILL").contains("progress: sent=")
                .containsPattern("Watch it in the web console: http://127\\.0\\.0\\.1:\\d+")
                .containsPattern("(?m)^Console: http://127\\.0\\.0\\.1:\\d+");
        assertThat(output).containsPattern("(?m)^sent=3000 received=3000 lost=0 duplicates=0$");
        assertThat(demo.exitValue()).as(output).isZero();
    }

    private String tern(String... args) throws Exception {
        Path out = Files.createTempFile(dir, "tern", ".out");
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String output = Files.readString(out);
        assertThat(p.exitValue()).as(output).isZero();
        return output;
    }

    @Test
    void theLoadToolsPrintTheirRatesAndMoveEveryMessage() throws Exception {
        int port = FreePorts.free();
        try (ServerProcess node = new ServerProcess("load-1", port, dir.resolve("load"), dir.resolve("load.log"), "--discovery-port", "0").start()) {
            assertThat(node.awaitListening(60_000)).isTrue();
            String produced = tern("produce", "--url", node.url(), "--queue", "load", "--count", "2000", "--size", "512",
                    "--persistent", "--tx", "100");
            assertThat(produced).containsPattern("produced count=2000 bytes=1024000 elapsed=[0-9.]+s rate=[0-9]+ msg/s");
            String consumed = tern("consume", "--url", node.url(), "--queue", "load", "--count", "2000", "--timeout", "5000");
            assertThat(consumed).containsPattern("consumed count=2000 bytes=1024000 elapsed=[0-9.]+s rate=[0-9]+ msg/s");
        }
    }

    @Test
    void sigtermStopsTheNodeGracefullyAndKeepsItsMessages() throws Exception {
        int port = FreePorts.free();
        Path log = dir.resolve("node.log");
        ServerProcess node = new ServerProcess("term-1", port, dir.resolve("data"), log, "--discovery-port", "0").start();
        assertThat(node.awaitListening(60_000)).isTrue();
        TernConnectionFactory cf = new TernConnectionFactory(node.url());
        try (Connection c = cf.createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue("kept"));
            for (int i = 0; i < 100; i++) {
                p.send(s.createTextMessage("m" + i));
            }
        }
        node.stop();
        assertThat(Files.readString(log)).contains("tern server term-1 stopping").contains("tern server term-1 stopped");

        node = new ServerProcess("term-1", port, dir.resolve("data"), log, "--discovery-port", "0").start();
        assertThat(node.awaitListening(60_000)).isTrue();
        try (Connection c = cf.createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = s.createConsumer(s.createQueue("kept"));
            int n = 0;
            for (Message m; (m = consumer.receive(2000)) != null; ) {
                n++;
            }
            assertThat(n).isEqualTo(100);
        } finally {
            node.stop();
        }
    }
}
