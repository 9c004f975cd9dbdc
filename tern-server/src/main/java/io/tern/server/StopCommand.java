package io.tern.server;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code tern stop}: the graceful stop of a server on this machine, as SIGTERM does it (goodbye on
 * discovery, lame-duck notice to the clients, close). Finds the process from the pid file the server
 * keeps in its data directory, and waits for it to exit.
 */
@Command(name = "stop", description = "Stop a server gracefully: its clients move to other servers first.")
final class StopCommand implements Callable<Integer> {
    static final String PID_FILE = "tern.pid";

    @Option(names = "--data", description = "The server's data directory (default: ./data/<name>)")
    Path data;

    @Option(names = "--name", description = "The server's name, for the default data directory (default: ${DEFAULT-VALUE})")
    String name = "tern-1";

    @Option(names = "--timeout", description = "Seconds to wait for the server to exit (default: ${DEFAULT-VALUE})")
    long timeoutSeconds = 60;

    @Override
    public Integer call() throws Exception {
        Path dir = data != null ? data : Path.of("data", name);
        Path file = dir.resolve(PID_FILE);
        long pid;
        try {
            pid = Long.parseLong(Files.readString(file, StandardCharsets.UTF_8).trim());
        } catch (NoSuchFileException e) {
            System.err.println("no server runs with data directory " + dir + " (no " + file + ")");
            return ExitCodes.FAILED;
        } catch (IOException | NumberFormatException e) {
            System.err.println("cannot read " + file + ": " + e.getMessage());
            return ExitCodes.FAILED;
        }
        Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        if (process.isEmpty()) {
            System.err.println("server process " + pid + " of " + dir + " is not running (stale " + file + ")");
            Files.deleteIfExists(file);
            return ExitCodes.FAILED;
        }
        ProcessHandle p = process.get();
        p.destroy(); // SIGTERM: the server's graceful stop
        try {
            p.onExit().get(timeoutSeconds, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            System.err.println("server process " + pid + " did not exit within " + timeoutSeconds + " s");
            return ExitCodes.INCOMPLETE;
        }
        System.out.println("stopped server process " + pid + " (" + dir + ")");
        return ExitCodes.OK;
    }
}
