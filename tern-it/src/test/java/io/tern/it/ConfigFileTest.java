package io.tern.it;

import io.tern.client.TernConnectionFactory;
import io.tern.discovery.FreePorts;
import io.tern.server.Main;
import io.tern.server.ServerProcess;
import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Queue;
import jakarta.jms.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code tern server --config tern.yaml}: the file's keys are the flags, flags win, bad files stop the node with file and line. */
@Timeout(120)
class ConfigFileTest {

    /** Runs {@code tern server --config FILE} in this JVM (it stops before listening) and returns its exit and error line. */
    private static String[] refused(Path file, String yaml) throws Exception {
        Files.writeString(file, yaml);
        return refused(file);
    }

    private static String[] refused(Path file) {
        PrintStream stderr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int exit;
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            exit = Main.commandLine().execute("server", "--config", file.toString());
        } finally {
            System.setErr(stderr);
        }
        return new String[] {Integer.toString(exit), captured.toString(StandardCharsets.UTF_8).strip()};
    }

    @Test
    void aBadFileStopsTheNodeBeforeItStartsNamingTheFileTheLineAndTheReason(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("tern.yaml");
        String head = "# a node\nname: bad\nport: 0\n";
        assertThat(refused(f, head + "prot: 5445\n"))
                .containsExactly("2", "tern server: --config " + f + ":4: unknown key 'prot' (did you mean 'port'?); the keys "
                        + "are the flags of 'tern server --help' without their dashes");
        assertThat(refused(f, head + "backups: two\n"))
                .containsExactly("2", "tern server: --config " + f + ":4: backups: Invalid value for option '--backups': 'two' is not an int");
        assertThat(refused(f, head + "port: 5446\n")[1]).isEqualTo("tern server: --config " + f + ":4: port: given twice (also on line 3)");
        assertThat(refused(f, head + "max-disk-usage: 190%\n")[1]).startsWith("tern server: --config " + f + ":4: max-disk-usage: ")
                .contains("190%");
        assertThat(refused(f, head + "memory-limit: 10%\n")[1]).isEqualTo("tern server: --config " + f + ":4: memory-limit: "
                + "Invalid value for option '--memory-limit': expected bytes or a size such as 256MiB, not '10%'");
        assertThat(refused(f, head + "console: maybe\n")[1]).isEqualTo("tern server: --config " + f + ":4: console: expected true or false, not 'maybe'");
        assertThat(refused(f, head + "fd-timeout: soon\n")[1]).contains(":4: fd-timeout: ").contains("6s");
        assertThat(refused(f, head + "queue-settings:\n  \"orders.*\":\n    max-deliveries: 2\n    dead-letter-q: X\n")[1])
                .startsWith("tern server: --config " + f + ":7: queue-settings.orders.*.dead-letter-q: ")
                .contains("unknown queue setting 'dead-letter-q'");
        assertThat(refused(f, head + "queue-settings:\n  \"a*\":\n    max-deliveries: 2\n  \"a*\":\n    max-deliveries: 3\n")[1])
                .isEqualTo("tern server: --config " + f + ":7: queue-settings.a*: given twice");
        assertThat(refused(f, head + "cluster: \"unterminated\n")[1]).startsWith("tern server: --config " + f + ":").contains("not valid YAML");
        assertThat(refused(f, head + "fault-takeover-pause-ms: 5\n")[1]).contains(":4: unknown key 'fault-takeover-pause-ms'");
        Path missing = dir.resolve("missing.yaml");
        assertThat(refused(missing)).containsExactly("2", "tern server: --config " + missing + ": no such file");
    }

    @Test
    void aNodeRunsFromTheFileWithItsQueueSettingsAndFlagsWinOverItsKeys(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("tern.yaml"), """
                # every key is a flag without its dashes
                name: from-the-file
                port: 1
                stack: none
                discovery-port: 0
                replication: false
                console: false
                max-deliveries: 4
                memory-limit: 64MiB
                queue-settings:
                  "orders.*":
                    max-deliveries: 2
                    dead-letter-queue: DLQ.orders
                """);
        int port = FreePorts.free();
        try (ServerProcess server = new ServerProcess("from-the-flag", port, dir.resolve("data"), dir.resolve("server.log"),
                "--config", file.toString()).start()) {
            assertThat(server.awaitListening(60_000)).as("the --port flag wins over 'port: 1'").isTrue();
            org.awaitility.Awaitility.await("the node's name from the --name flag").atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> Files.readString(server.log()).contains("Node from-the-flag ("));
            TernConnectionFactory cf = new TernConnectionFactory(server.url() + "?failover=false");
            try (Connection c = cf.createConnection()) {
                c.start();
                Session s = c.createSession(true, Session.SESSION_TRANSACTED);
                assertThat(attemptsBeforeDeadLetter(s, "orders.eu", "DLQ.orders")).as("orders.*: max-deliveries 2").isEqualTo(2);
                assertThat(attemptsBeforeDeadLetter(s, "billing", "DLQ")).as("the file's default: max-deliveries 4").isEqualTo(4);
            }
        }
    }

    @Test
    void theExampleFileDocumentsEveryKeyAndRunsANodeAsItIs(@TempDir Path dir) throws Exception {
        Path example = Path.of("..", "conf", "tern.yaml").toAbsolutePath().normalize();
        String text = Files.readString(example);
        for (picocli.CommandLine.Model.OptionSpec o : Main.commandLine().getSubcommands().get("server").getCommandSpec().options()) {
            String key = o.longestName().substring(2);
            if (o.hidden() || o.usageHelp() || o.versionHelp() || key.equals("config")) {
                continue;
            }
            String documented = key.equals("queue-setting") ? "queue-settings" : key;
            assertThat(text).as("conf/tern.yaml documents %s", key).containsPattern("(?m)^# " + documented + ":");
        }
        try (ServerProcess server = new ServerProcess("example", FreePorts.free(), dir.resolve("data"), dir.resolve("server.log"),
                "--config", example.toString(), "--console-port", "0", "--stack", "none", "--discovery-port", "0").start()) {
            assertThat(server.awaitListening(60_000)).as(server.log().toString()).isTrue();
        }
    }

    /** Sends one message to {@code queue}, rolls back every delivery, and counts them until it is in {@code dlq}. */
    private static int attemptsBeforeDeadLetter(Session s, String queue, String dlq) throws Exception {
        Queue q = s.createQueue(queue);
        s.createProducer(q).send(s.createTextMessage("to " + queue));
        s.commit();
        int attempts = 0;
        try (MessageConsumer consumer = s.createConsumer(q)) {
            for (Message m = consumer.receive(10_000); m != null; m = consumer.receive(2_000)) {
                attempts++;
                s.rollback();
            }
        }
        try (MessageConsumer dead = s.createConsumer(s.createQueue(dlq))) {
            Message m = dead.receive(10_000);
            assertThat(m).as("the message in %s", dlq).isNotNull();
            assertThat(m.getStringProperty("JMS_TERN_ORIGINAL_QUEUE")).isEqualTo(queue);
            s.commit();
        }
        return attempts;
    }
}
