package io.tern.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@code tern server} running as its own operating-system process, for the demo and system tests:
 * started with this JVM's class path, killed with SIGKILL or stopped with SIGTERM.
 */
public final class ServerProcess implements AutoCloseable {
    private final List<String> command;
    private final Path log;
    private final String host;
    private final int port;
    /** {@code terns} when the server is given a TLS certificate, else {@code tern}. */
    private final String scheme;
    private Process process;

    public ServerProcess(String name, int port, Path dataDir, Path log, String... extraArgs) {
        this(List.of(), "127.0.0.1", name, port, dataDir, log, extraArgs);
    }

    /**
     * A server in the network namespace {@code netns} ({@code ip netns exec}, which needs root),
     * listening on {@code host}, an address of that namespace.
     */
    public static ServerProcess inNamespace(String netns, String host, String name, int port, Path dataDir, Path log,
                                            String... extraArgs) {
        List<String> extra = new ArrayList<>(List.of("--bind", host));
        extra.addAll(List.of(extraArgs));
        return new ServerProcess(List.of("ip", "netns", "exec", netns), host, name, port, dataDir, log,
                extra.toArray(String[]::new));
    }

    private ServerProcess(List<String> prefix, String host, String name, int port, Path dataDir, Path log,
                          String... extraArgs) {
        this.host = host;
        this.port = port;
        this.log = log;
        this.scheme = List.of(extraArgs).contains("--tls-cert") ? "terns" : "tern";
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // Extra arguments "-J<option>" are options of the server's JVM (as for javac): -J-Xmx128m sets its heap
        // (as does -J-XX:MaxRAMPercentage=N); without one the heap is 512 MiB.
        List<String> jvm = List.of(extraArgs).stream().filter(a -> a.startsWith("-J")).map(a -> a.substring(2)).toList();
        if (jvm.stream().noneMatch(o -> o.startsWith("-Xmx") || o.startsWith("-XX:MaxRAM"))) {
            cmd.add("-Xmx512m");
        }
        cmd.add("-XX:+ExitOnOutOfMemoryError"); // as bin/tern starts it: see the README on memory
        cmd.addAll(jvm);
        cmd.add("-Dtern.server.log=INFO"); // a test's logging configuration, on the class path too, keeps a server's INFO
        if (System.getProperty("tern.trace.moves") != null) {
            cmd.add("-Dtern.trace.moves=" + System.getProperty("tern.trace.moves")); // see io.tern.broker.MoveTrace
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.add("server");
        cmd.addAll(List.of("--name", name, "--port", Integer.toString(port), "--data", dataDir.toString()));
        List<String> extra = List.of(extraArgs).stream().filter(a -> !a.startsWith("-J")).toList();
        if (!extra.contains("--cluster-port") && !extra.contains("--stack")) {
            // A cluster of its own unless the caller groups servers: no cross-talk between tests or demos.
            cmd.addAll(List.of("--cluster-port", Integer.toString(io.tern.discovery.FreePorts.freeUdp())));
        }
        if (!extra.contains("--console-port") && !extra.contains("--no-console")) {
            // Many nodes on one machine: each console on a port of its own.
            cmd.addAll(List.of("--console-port", "0"));
        }
        cmd.addAll(extra);
        this.command = List.copyOf(cmd);
    }

    /**
     * Waits until connections made from {@code cf} are told of {@code members} cluster members, in a
     * view with the quorum;
     * false if that takes longer than {@code timeoutMs}. A node that still holds its clients (it
     * checks whether it was taken over) is simply asked again.
     */
    public static boolean awaitClusterMembers(io.tern.client.TernConnectionFactory cf, int members, long timeoutMs)
            throws InterruptedException {
        return awaitAnswer(cf, () -> cf.clusterTopology() != null && cf.clusterTopology().members().size() == members
                && cf.clusterTopology().quorum(), timeoutMs);
    }

    /**
     * Polls this node until it serves clients: it answers a session request (a node that is starting,
     * checking whether it was taken over, refuses); false if time ran out.
     */
    public boolean awaitServing(long timeoutMs) throws InterruptedException {
        return awaitAnswer(new io.tern.client.TernConnectionFactory(url() + "?failover=false"), () -> true, timeoutMs);
    }

    /** Polls until a connection of {@code cf} gets a session and {@code then} holds; false if time ran out. */
    private static boolean awaitAnswer(io.tern.client.TernConnectionFactory cf, java.util.function.BooleanSupplier then,
                                       long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < deadline) {
            try (jakarta.jms.Connection c = cf.createConnection()) {
                c.createSession().close(); // any answer brings the cluster list
                if (then.getAsBoolean()) {
                    return true;
                }
            } catch (jakarta.jms.JMSException e) {
                // not serving yet: ask again
            }
            Thread.sleep(100); // polls the node
        }
        return false;
    }

    public ServerProcess start() throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        process = pb.start();
        return this;
    }

    /** Polls the client port until it accepts a connection; false if the process died or time ran out. */
    public boolean awaitListening(long timeoutMs) throws InterruptedException {
        return awaitPort(port, timeoutMs);
    }

    /**
     * Polls another port of the server (its console's, which opens after the client port) until it
     * accepts a connection; false if the process died or time ran out.
     */
    public boolean awaitPort(int port, long timeoutMs) throws InterruptedException {
        return awaitPort(process, host, port, timeoutMs);
    }

    /**
     * Polls {@code host:port} until it accepts a connection (there is no other way to learn that a
     * process listens); false if {@code process} died or time ran out.
     */
    public static boolean awaitPort(Process process, String host, int port, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                return false;
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), 200);
                return true;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        return false;
    }

    public Path log() {
        return log;
    }

    public long pid() {
        return process.pid();
    }

    public int port() {
        return port;
    }

    public String url() {
        return scheme + "://" + host + ":" + port;
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** SIGKILL: the process gets no chance to clean up. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGSTOP (true) or SIGCONT (false): the process freezes, silent to all, without dying. */
    public void pause(boolean stop) throws IOException, InterruptedException {
        Process signal = new ProcessBuilder("kill", stop ? "-STOP" : "-CONT", Long.toString(process.pid()))
                .redirectErrorStream(true).start();
        if (!signal.waitFor(10, TimeUnit.SECONDS) || signal.exitValue() != 0) {
            throw new IOException("kill " + (stop ? "-STOP" : "-CONT") + " " + process.pid() + " failed");
        }
    }

    /** Closes every one of {@code processes}, resuming first those still alive (one a test left stopped). */
    public static void closeAll(java.util.Collection<ServerProcess> processes) throws IOException, InterruptedException {
        for (ServerProcess p : processes) {
            if (p.isAlive()) {
                p.pause(false);
            }
            p.close();
        }
    }

    /** SIGTERM: a graceful stop. Returns the exit code. */
    public int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        return process.exitValue();
    }

    /**
     * Stops the server as Kubernetes stops a pod: SIGTERM, then SIGKILL if it has not exited within
     * {@code graceMs}. Returns its exit status if it exited by itself, else null.
     */
    public Integer stopWithin(long graceMs) throws InterruptedException {
        process.destroy();
        if (process.waitFor(graceMs, TimeUnit.MILLISECONDS)) {
            return process.exitValue();
        }
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
        return null;
    }

    @Override
    public void close() throws InterruptedException {
        if (isAlive()) {
            kill();
        }
    }
}
