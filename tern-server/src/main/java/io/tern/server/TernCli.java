package io.tern.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs {@code tern <args>} as a separate JVM on this JVM's class path, as a user would: for tests and tools. */
public final class TernCli {
    /** What the command printed (standard output and error together) and its exit status. */
    public record Run(int exit, String output) {
    }

    private TernCli() {
    }

    public static Run run(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("tern " + String.join(" ", args) + " did not end in 120 s");
        }
        return new Run(p.exitValue(), out);
    }
}
