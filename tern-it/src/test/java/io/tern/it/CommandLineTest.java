package io.tern.it;

import io.tern.discovery.FreePorts;
import io.tern.server.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The command line as users meet it: help on every command, one exit status table, failures in one line. */
@Timeout(60)
class CommandLineTest {

    /** What a command printed and its exit status, run in this JVM as {@code bin/tern} runs it. */
    private record Run(int exit, String out, String err) {
    }

    private static Run tern(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int exit = cmd.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"server", "stop", "status", "drain", "demo", "discover", "produce", "consume", "user"})
    void everyCommandAnswersHelpInItsLongAndShortForm(String command) {
        for (String help : new String[] {"--help", "-h"}) {
            Run run = tern(command, help);
            assertThat(run.exit()).as(run.err()).isZero();
            assertThat(run.out()).startsWith("Usage: tern " + command).contains("--help");
        }
    }

    @Test
    void theTopLevelHelpListsTheExitStatus() {
        Run run = tern("--help");
        assertThat(run.exit()).isZero();
        assertThat(run.out()).contains("Exit status:").contains("3   not finished in time");
    }

    @Test
    void anUnknownOptionIsBadUsage() {
        Run run = tern("produce", "--no-such-option");
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("Unknown option: '--no-such-option'").contains("Usage: tern produce");
    }

    @Test
    void aServerThatCannotBeReachedFailsInOneLineThatNamesIt() {
        int port = FreePorts.free(); // nothing listens there
        Run run = tern("produce", "--url", "tern://127.0.0.1:" + port + "?failover=false&connectTimeout=500", "--queue", "q",
                "--count", "1");
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).startsWith("produce: ").contains("127.0.0.1:" + port).doesNotContain("\tat ")
                .doesNotContain("null");
        assertThat(run.err().strip().lines()).hasSize(1);
    }

    @Test
    void aServerWithAnUnreadableTlsFileStopsBeforeListeningWithOneLineThatNamesIt(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("no-such-cert.pem");
        Path key = Files.writeString(dir.resolve("key.pem"), "not a key");
        PrintStream stderr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        Run run;
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            run = tern("server", "--name", "tls-bad", "--port", "0", "--data", dir.resolve("data").toString(),
                    "--discovery-port", "0", "--stack", "none", "--no-console", "--tls-cert", missing.toString(), "--tls-key", key.toString());
        } finally {
            System.setErr(stderr);
        }
        assertThat(run.exit()).isEqualTo(2);
        assertThat(captured.toString(StandardCharsets.UTF_8).strip())
                .isEqualTo("tern server tls-bad: TLS: TLS certificate " + missing + " is not a readable file");
        assertThat(tern("server", "--help").out()).contains("--tls-cert").contains("--tls-client-auth");
    }

    @Test
    void userAddReadsThePasswordFromStandardInputAndWritesAHashThatLogsIn(@TempDir Path dir) throws Exception {
        Path users = dir.resolve("users");
        Run added = withStdin("s3cret-password\n", () -> tern("user", "add", "alice", "--users", users.toString(),
                "--roles", "admin,app", "--password-stdin", "--iterations", "10000"));
        assertThat(added.exit()).as(added.err()).isZero();
        assertThat(added.out()).contains("added user alice with roles admin,app in " + users);
        String file = Files.readString(users);
        assertThat(file).contains("alice:admin,app:pbkdf2-sha256$10000$").doesNotContain("s3cret-password");
        Path permissions = Files.writeString(dir.resolve("permissions"), "admin all\n");
        var access = io.tern.broker.security.AccessControl.fromFiles(users, permissions);
        assertThat(access.login("alice", "s3cret-password")).isNotNull();
        assertThat(access.login("alice", "wrong-password")).isNull();

        Run tooShort = withStdin("short\n", () -> tern("user", "add", "bob", "--users", users.toString(), "--password-stdin"));
        assertThat(tooShort.exit()).isEqualTo(2);
        assertThat(tooShort.err()).contains("user add: a password needs at least 8 characters");
        Run badName = withStdin("long-enough\n", () -> tern("user", "add", "bo:b", "--users", users.toString(), "--password-stdin"));
        assertThat(badName.err()).contains("user 'bo:b' must be");

        assertThat(tern("user", "add", "carol", "--users", users.toString(), "--certificate-only", "--roles", "app").exit()).isZero();
        Run list = tern("user", "list", "--users", users.toString());
        assertThat(list.out()).contains("alice\tadmin,app").contains("carol\tapp\t(client certificate only)")
                .doesNotContain("pbkdf2");
        assertThat(tern("user", "remove", "alice", "--users", users.toString()).exit()).isZero();
        assertThat(Files.readString(users)).doesNotContain("alice");
    }

    private static Run withStdin(String input, java.util.function.Supplier<Run> run) {
        java.io.InputStream stdin = System.in;
        System.setIn(new java.io.ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)));
        try {
            return run.get();
        } finally {
            System.setIn(stdin);
        }
    }
}
