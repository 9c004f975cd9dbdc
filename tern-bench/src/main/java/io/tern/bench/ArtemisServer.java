package io.tern.bench;

import org.apache.activemq.artemis.core.config.Configuration;
import org.apache.activemq.artemis.core.config.impl.ConfigurationImpl;
import org.apache.activemq.artemis.core.server.JournalType;
import org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Apache ActiveMQ Artemis as a server process of its own, for the benchmarks that run each broker as
 * users run it. The process runs {@link #main} with the settings of a broker made by
 * {@code artemis create} that matter here: persistence on, the NIO journal (the default where libaio
 * is missing, as on this machine), its default memory and disk limits and paging, a TCP acceptor on
 * loopback; and the JVM options {@code artemis create} writes ({@code -Xms512M -Xmx2G}). Security is
 * off, as the benchmark's Tern node runs without users.
 */
public final class ArtemisServer implements AutoCloseable {
    private final Process process;
    private final int port;

    private ArtemisServer(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /**
     * Runs the broker in this process until it is killed: {@code ArtemisServer DATA_DIR PORT [primary|backup
     * PEER_PORT | cluster PEER_PORT,...]}: alone; one of a pair with a replicated journal (the primary
     * replicates each write to the backup before it answers; the backup serves once the primary is gone);
     * or a member of a cluster that balances messages {@code ON_DEMAND} and redistributes them to
     * consumers on other members (redistribution delay 0), as Artemis documents for a cluster of queues.
     */
    public static void main(String[] args) throws Exception {
        String url = "tcp://127.0.0.1:" + args[1];
        if (args.length > 2 && "tls".equals(args[2])) {
            // TLS 1.3/1.2 with the key store given (PKCS#12), as Artemis documents for an SSL acceptor.
            url += "?sslEnabled=true;keyStoreType=PKCS12;keyStorePath=" + args[3] + ";keyStorePassword=" + args[4]
                    + ";enabledProtocols=TLSv1.3,TLSv1.2";
        }
        Configuration config = config(Path.of(args[0]), url);
        if (args.length > 2 && "tls".equals(args[2])) {
            // nothing more: one broker, its acceptor speaks TLS
        } else if (args.length > 2 && "cluster".equals(args[2])) {
            List<String> peers = new ArrayList<>();
            for (String peer : args[3].split(",")) {
                config.addConnectorConfiguration("peer-" + peer, "tcp://127.0.0.1:" + peer);
                peers.add("peer-" + peer);
            }
            config.addConnectorConfiguration("self", url)
                    .addClusterConfiguration(new org.apache.activemq.artemis.core.config.ClusterConnectionConfiguration()
                            .setName("cluster").setConnectorName("self").setStaticConnectors(peers)
                            .setMessageLoadBalancingType(
                                    org.apache.activemq.artemis.core.server.cluster.impl.MessageLoadBalancingType.ON_DEMAND))
                    .setClusterUser("bench").setClusterPassword("bench-cluster")
                    .addAddressSetting("#", new org.apache.activemq.artemis.core.settings.impl.AddressSettings()
                            .setRedistributionDelay(0));
        } else if (args.length > 2) {
            config.addConnectorConfiguration("self", url)
                    .addConnectorConfiguration("peer", "tcp://127.0.0.1:" + args[3])
                    .addClusterConfiguration(new org.apache.activemq.artemis.core.config.ClusterConnectionConfiguration()
                            .setName("pair").setConnectorName("self").setStaticConnectors(List.of("peer")))
                    .setClusterUser("bench").setClusterPassword("bench-pair")
                    .setHAPolicyConfiguration("primary".equals(args[2])
                            ? new org.apache.activemq.artemis.core.config.ha.ReplicatedPolicyConfiguration()
                            : new org.apache.activemq.artemis.core.config.ha.ReplicaPolicyConfiguration());
        }
        EmbeddedActiveMQ server = new EmbeddedActiveMQ().setConfiguration(config);
        server.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.stop();
            } catch (Exception e) {
                e.printStackTrace();
            }
        }));
        System.out.println("artemis serving on " + url);
        new CountDownLatch(1).await();
    }

    /** A durable broker's settings, as described above, with its data in {@code dir} and its acceptor at {@code url}. */
    static Configuration config(Path dir, String url) throws Exception {
        return new ConfigurationImpl()
                .setPersistenceEnabled(true)
                .setJournalType(JournalType.NIO)
                .setJournalDirectory(dir.resolve("journal").toString())
                .setBindingsDirectory(dir.resolve("bindings").toString())
                .setLargeMessagesDirectory(dir.resolve("large-messages").toString())
                .setPagingDirectory(dir.resolve("paging").toString())
                .setSecurityEnabled(false)
                .addAcceptorConfiguration("artemis", url);
    }

    /** Starts the broker as a process of its own, writing its output to {@code log}; returns once it accepts connections. */
    public static ArtemisServer start(Path dir, int port, Path log) throws IOException, InterruptedException {
        return start(log, port, () -> accepts(port), dir.toString(), Integer.toString(port));
    }

    /** As {@link #start(Path, int, Path)}, its acceptor speaking TLS with the PKCS#12 key store {@code keyStore}. */
    public static ArtemisServer startTls(Path dir, int port, Path log, Path keyStore, String password)
            throws IOException, InterruptedException {
        return start(log, port, () -> accepts(port), dir.toString(), Integer.toString(port), "tls", keyStore.toString(), password);
    }

    /**
     * Starts a primary and its backup with a replicated journal; returns them (primary first) once the
     * backup says it is in sync with the primary.
     */
    public static List<ArtemisServer> startPair(Path dir, Path logs) throws IOException, InterruptedException {
        int primaryPort = io.tern.discovery.FreePorts.free();
        int backupPort = io.tern.discovery.FreePorts.free();
        ArtemisServer primary = start(logs.resolve("artemis-primary.log"), primaryPort, () -> accepts(primaryPort),
                dir.resolve("primary").toString(), Integer.toString(primaryPort), "primary", Integer.toString(backupPort));
        Path backupLog = logs.resolve("artemis-backup.log");
        try {
            // AMQ221024: the backup is synchronized with the primary.
            ArtemisServer backup = start(backupLog, backupPort, () -> logged(backupLog, "AMQ221024"),
                    dir.resolve("backup").toString(), Integer.toString(backupPort), "backup", Integer.toString(primaryPort));
            return List.of(primary, backup);
        } catch (RuntimeException | IOException | InterruptedException e) {
            primary.close();
            throw e;
        }
    }

    /** Starts {@code members} brokers of one cluster ({@code ON_DEMAND}, redistribution on); returns once each accepts connections. */
    public static List<ArtemisServer> startCluster(int members, Path dir, Path logs) throws IOException, InterruptedException {
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            ports.add(io.tern.discovery.FreePorts.free());
        }
        List<ArtemisServer> started = new ArrayList<>();
        try {
            for (int i = 0; i < members; i++) {
                int port = ports.get(i);
                String peers = ports.stream().filter(p -> p != port).map(String::valueOf).collect(java.util.stream.Collectors.joining(","));
                started.add(start(logs.resolve("artemis-" + (i + 1) + ".log"), port, () -> accepts(port),
                        dir.resolve("member-" + (i + 1)).toString(), Integer.toString(port), "cluster", peers));
            }
            return started;
        } catch (RuntimeException | IOException | InterruptedException e) {
            for (ArtemisServer s : started) {
                s.close();
            }
            throw e;
        }
    }

    private static ArtemisServer start(Path log, int port, java.util.function.BooleanSupplier ready, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms512M", "-Xmx2G",
                // Logging as Artemis's distribution ships it: INFO, its per-message audit loggers off.
                "-Dlogback.configurationFile=logback-artemis.xml", "-cp", System.getProperty("java.class.path"),
                ArtemisServer.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        ArtemisServer server = new ArtemisServer(p, port);
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline && p.isAlive()) {
            if (ready.getAsBoolean()) {
                return server;
            }
            Thread.sleep(100); // polls readiness (port open, or a log line) up to the deadline
        }
        server.close();
        throw new IllegalStateException("Artemis did not start; see " + log);
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException notYet) {
            return false;
        }
    }

    private static boolean logged(Path log, String text) {
        return timesLogged(log, text) > 0;
    }

    private static int timesLogged(Path log, String text) {
        try {
            String all = java.nio.file.Files.readString(log);
            int n = 0;
            for (int at = all.indexOf(text); at >= 0; at = all.indexOf(text, at + 1)) {
                n++;
            }
            return n;
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * Waits until each member of a cluster started by {@link #startCluster} has its cluster bridges to all
     * the others connected (AMQ221027, once a peer), up to {@code timeoutMs}; false if they did not.
     */
    public static boolean awaitBridges(int members, Path logs, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (System.nanoTime() < deadline) {
            boolean all = true;
            for (int i = 1; i <= members; i++) {
                all &= timesLogged(logs.resolve("artemis-" + i + ".log"), "AMQ221027") >= members - 1;
            }
            if (all) {
                return true;
            }
            Thread.sleep(100); // polls the members' logs for their bridges up to the deadline
        }
        return false;
    }

    public String url() {
        return "tcp://127.0.0.1:" + port;
    }

    public long pid() {
        return process.pid();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
