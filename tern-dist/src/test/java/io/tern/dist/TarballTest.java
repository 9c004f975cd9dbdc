package io.tern.dist;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The release as an operator gets it: unpacked away from the sources, run with a PATH that holds a
 * Java runtime and the few tools {@code bin/tern} uses, and no Maven.
 */
@Timeout(180)
class TarballTest {
    @TempDir
    Path dir;

    private Path home;
    private Path tools;

    @Test
    void theTarballRunsANodeAndTheCommandLineWithAJavaRuntimeAlone() throws Exception {
        Path tarball = Path.of(System.getProperty("tern.tarball"));
        assertTrue(Files.isRegularFile(tarball), "mvn package made " + tarball);
        run(dir, List.of("tar", "xzf", tarball.toString()), Map.of(), 60);
        String version = tarball.getFileName().toString().replace(".tar.gz", "");
        home = dir.resolve(version);
        for (String f : List.of("bin/tern", "conf/tern.yaml", "conf/systemd/tern.service", "README.md")) {
            assertTrue(Files.exists(home.resolve(f)), version + " holds " + f);
        }
        assertTrue(Files.isExecutable(home.resolve("bin/tern")));
        try (var jars = Files.list(home.resolve("lib"))) {
            List<String> names = jars.map(p -> p.getFileName().toString()).toList();
            assertTrue(names.stream().anyMatch(n -> n.startsWith("tern-server-")), "lib/ holds tern-server: " + names);
            assertTrue(names.stream().anyMatch(n -> n.startsWith("rocksdbjni-")), "lib/ holds RocksDB: " + names);
        }
        assertFalse(Files.exists(home.resolve("pom.xml")));
        tools = toolsWithoutMaven();

        Result help = tern(List.of("--version"), 30);
        assertEquals(0, help.exit, help.out);
        assertTrue(help.out.startsWith("tern "), help.out);

        int port = io.tern.discovery.FreePorts.free();
        Process server = start(List.of("server", "--config", home.resolve("conf/tern.yaml").toString(), "--name", "release",
                "--port", Integer.toString(port), "--data", dir.resolve("data").toString(), "--no-console", "--stack", "none",
                "--discovery-port", "0"));
        try {
            assertTrue(io.tern.server.ServerProcess.awaitPort(server, "127.0.0.1", port, 60_000),
                    () -> "the node listens on " + port + ": " + readQuietly(dir.resolve("server.log")));
            String url = "tern://127.0.0.1:" + port;
            Result sent = tern(List.of("produce", "--url", url, "--queue", "release", "--count", "100", "--persistent"), 60);
            assertEquals(0, sent.exit, sent.out);
            Result got = tern(List.of("consume", "--url", url, "--queue", "release", "--count", "100", "--timeout", "20000"), 60);
            assertEquals(0, got.exit, got.out);
        } finally {
            server.destroy(); // SIGTERM: the graceful stop
            assertTrue(server.waitFor(60, TimeUnit.SECONDS), "the node stopped on SIGTERM");
        }
        String log = Files.readString(dir.resolve("server.log"));
        assertTrue(log.contains("tern server release stopped"), log);
    }

    /** A directory of links to java and the tools bin/tern uses, for a PATH without Maven. */
    private Path toolsWithoutMaven() throws IOException {
        Path bin = Files.createDirectories(dir.resolve("path"));
        Files.createSymbolicLink(bin.resolve("java"), Path.of(System.getProperty("java.home"), "bin", "java"));
        for (String tool : List.of("bash", "dirname", "env")) {
            for (String d : List.of("/usr/bin", "/bin")) {
                Path p = Path.of(d, tool);
                if (Files.isExecutable(p) && !Files.exists(bin.resolve(tool))) {
                    Files.createSymbolicLink(bin.resolve(tool), p);
                }
            }
        }
        return bin;
    }

    private Map<String, String> env() {
        return Map.of("PATH", tools.toString(), "HOME", dir.toString());
    }

    private record Result(int exit, String out) {
    }

    private Result tern(List<String> args, int seconds) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(home.resolve("bin/tern").toString()));
        cmd.addAll(args);
        return run(home, cmd, env(), seconds);
    }

    private Process start(List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(home.resolve("bin/tern").toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(home.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("server.log").toFile());
        pb.environment().clear();
        pb.environment().putAll(env());
        return pb.start();
    }

    private static Result run(Path cwd, List<String> cmd, Map<String, String> env, int seconds) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true);
        if (!env.isEmpty()) {
            pb.environment().clear();
            pb.environment().putAll(env);
        }
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(seconds, TimeUnit.SECONDS), cmd + " finished");
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
