package io.tern.server;

import io.tern.broker.BrokerConfig;
import io.tern.discovery.DiscoveryAgent;
import io.tern.discovery.DiscoveryConfig;
import io.tern.discovery.ServiceUri;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/** {@code tern server}: runs one node until SIGTERM (graceful stop) or SIGKILL. */
@Command(name = "server", description = "Run a Tern node.")
final class ServerCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(ServerCommand.class);
    /** How often the users and permissions files are looked at for changes. */
    private static final long ACCESS_FILES_CHECK_MS = 1000; // a change is in force at the second look that sees it: within 2 s

    @Mixin
    ServerOptions options = new ServerOptions();

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (options.config != null) {
            try {
                ConfigFile.apply(options.config, spec, ServerCommand::new);
            } catch (ConfigFile.Invalid e) {
                System.err.println("tern server: --config " + e.getMessage());
                return ExitCodes.USAGE;
            }
        }
        BrokerConfig.Builder b = BrokerConfig.builder()
                .name(options.name)
                .dataDir(options.dataDir())
                .bindAddress(options.bind)
                .port(options.port)
                .maxFrameSize(options.maxFrame)
                .recoveryTimeoutMs(options.recoveryTimeoutMs)
                .blockTimeoutMs(options.blockTimeoutMs)
                .fullPolicy(options.fullPolicy)
                .users(options.users);
        if (options.memoryLimit != null) {
            b.memoryLimitBytes(options.memoryLimit);
        }
        b.maxDiskUsage(options.maxDiskUsage);
        try {
            b.queueDefaults(options.queueDefaults()).queueRules(options.queueRules);
            b.limits(new BrokerConfig.ConnectionLimits(options.maxSessions, options.maxConsumers, options.maxTemporaries,
                    options.maxSelectorLength));
        } catch (IllegalArgumentException e) {
            System.err.println("tern server " + options.name + ": " + e.getMessage());
            return ExitCodes.USAGE;
        }
        io.tern.broker.security.AccessControl access;
        try {
            access = options.accessControl();
            b.accessControl(access);
            LOG.info("Access: {}", access.description());
            if (!options.users.isEmpty()) {
                LOG.warn("--dev-user is for development: its passwords are visible to every local user (ps) and each such "
                        + "user may do anything; use --users FILE and --permissions FILE");
            }
            if (!access.rolesWithoutGrants().isEmpty()) {
                LOG.warn("Roles no line of {} grants anything: {}", options.permissionsFile, access.rolesWithoutGrants());
            }
        } catch (IllegalArgumentException | IOException e) {
            System.err.println("tern server " + options.name + ": access: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        io.tern.cluster.ClusterSecret secret;
        try {
            secret = options.clusterSecret.secret(); // checked before the node listens
        } catch (IllegalArgumentException | IOException e) {
            System.err.println("tern server " + options.name + ": " + e.getMessage());
            return ExitCodes.USAGE;
        }
        try {
            io.tern.protocol.TlsSettings tls = options.tls();
            if (tls != null) {
                tls.serverContext(); // reads the files now: a bad one stops the node before it listens
            }
            b.tls(tls);
        } catch (IllegalArgumentException | IOException e) {
            System.err.println("tern server " + options.name + ": TLS: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        // A daemon thread: reads the users and permissions files again when they change.
        io.tern.broker.security.AccessFilesWatch.start(access, ACCESS_FILES_CHECK_MS);
        org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
        org.slf4j.bridge.SLF4JBridgeHandler.install();
        boolean replicate = options.replication && !("none".equals(options.stack) && options.jgroupsFile == null);
        java.nio.file.Path replicaDir = options.replicaStore == ServerOptions.ReplicaStore.DISK ? options.dataDir().resolve("replicas") : null;
        io.tern.cluster.ReplicatingStore[] replicating = new io.tern.cluster.ReplicatingStore[1];
        TernServer server = replicate
                ? TernServer.start(b.build(), store -> replicating[0] = new io.tern.cluster.ReplicatingStore(store, replicaDir,
                        options.dataDir().resolve("replica-pages")))
                : TernServer.start(b.build());
        NodeMetrics metrics = new NodeMetrics(server.broker(), options.name);
        io.tern.console.Console console = null;
        if (options.console) {
            try {
                console = io.tern.console.Console.start(server.broker(), options.bind, options.consolePort, metrics::scrape);
            } catch (IOException e) {
                System.err.println("tern server " + options.name + ": cannot serve the console on " + options.bind + ":"
                        + options.consolePort + ": " + e.getMessage() + " (choose another --console-port, or --no-console)");
                server.close();
                return ExitCodes.FAILED;
            }
            System.out.println("tern server " + options.name + " console on " + console.uri());
        }
        String consoleUri = console != null ? console.uri() : "";
        io.tern.console.Console consoleToClose = console;
        // The stop hook is in place before the node joins its cluster: a SIGTERM during the join
        // (which takes about a second) still stops the node gracefully.
        AtomicReference<Membership> membership = new AtomicReference<>();
        AtomicReference<ClusterList> cluster = new AtomicReference<>();
        AtomicReference<DiscoveryAgent> discovery = new AtomicReference<>();
        Path pidFile = writePidFile(options.dataDir());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("tern server " + options.name + " stopping");
            System.out.flush();
            DiscoveryAgent agent = discovery.get();
            if (agent != null) {
                // Goodbye first, so that no client chooses this node; keep listening to know where to send clients.
                agent.withdraw(jmsService(server));
                if (consoleToClose != null) {
                    agent.withdraw(consoleService(consoleUri));
                }
            }
            Membership m = membership.get();
            ClusterList list = cluster.get();
            int left = server.shutdownGracefully(m != null ? m::nextTarget : list != null ? list::nextTarget : () -> "",
                    options.shutdownGraceMs);
            if (m != null) {
                m.leave();
            }
            System.out.println("tern server " + options.name + " lame duck: " + (left == 0 ? "every client moved away"
                    : left + " connection(s) still open after " + options.shutdownGraceMs + " ms were closed"));
            if (agent != null) {
                agent.close();
            }
            if (consoleToClose != null) {
                consoleToClose.close();
            }
            deleteQuietly(pidFile);
            System.out.println("tern server " + options.name + " stopped");
            System.out.flush();
            stopped.countDown();
        }, "tern-shutdown"));
        membership.set(Membership.join(options, server, replicating[0], consoleUri, secret));
        if (membership.get() == null) {
            // Without membership, the cluster list is what discovery hears.
            cluster.set(new ClusterList(options.cluster, server.url(), server.broker(), consoleUri, secret != null));
        }
        Membership joined = membership.get();
        if (joined != null) {
            metrics.bind(new io.tern.cluster.ClusterMetrics(joined.clustered()));
        }
        ClusterList heard = cluster.get();
        if (heard != null) {
            server.broker().setNextServer(heard::nextTarget); // a clustered node's is set as it joins (ClusteredNode)
        }
        discovery.set(startDiscovery(server, cluster.get(), consoleUri, secret));
        System.out.println("tern server " + options.name + " listening on " + server.url());
        System.out.flush();
        stopped.await();
        return ExitCodes.OK;
    }

    private ServiceUri jmsService(TernServer server) {
        return new ServiceUri(options.cluster, "jms", java.net.URI.create(server.url()));
    }

    private ServiceUri consoleService(String consoleUri) {
        return new ServiceUri(options.cluster, "console", java.net.URI.create(consoleUri));
    }

    /** The process id in {@code DATA/tern.pid}, for {@code tern stop --data DATA}. */
    private static Path writePidFile(Path dataDir) throws IOException {
        Files.createDirectories(dataDir);
        Path file = dataDir.resolve(StopCommand.PID_FILE);
        Files.writeString(file, ProcessHandle.current().pid() + "\n", StandardCharsets.UTF_8);
        return file;
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.debug("Could not delete {}: {}", file, e.getMessage());
        }
    }

    /**
     * Announces {@code cluster:jms:tern://host:port} on multicast and keeps the cluster list from
     * what it hears, unless --discovery-port 0. The console, if any, is announced as
     * {@code cluster:console:http://host:port}.
     */
    private DiscoveryAgent startDiscovery(TernServer server, ClusterList cluster, String consoleUri,
                                          io.tern.cluster.ClusterSecret secret) {
        if (options.discoveryPort == 0) {
            return null;
        }
        DiscoveryConfig config = Discovery.config(options.discoveryAddress, options.discoveryPort, options.networkInterface,
                secret);
        DiscoveryAgent agent = new DiscoveryAgent(config);
        server.broker().countRefusals("discoveryPackets", agent::rejectedPackets);
        if (cluster != null) {
            agent.addListener(cluster);
        }
        agent.start();
        ServiceUri jms = jmsService(server);
        agent.announce(jms);
        if (!consoleUri.isEmpty()) {
            agent.announce(consoleService(consoleUri));
        }
        agent.query(options.cluster);
        LOG.info("Announcing {} on multicast {}:{} via {} (ttl {}{})", jms, config.groupAddress().getHostAddress(),
                config.port(), config.networkInterface(), config.ttl(), config.secret() != null ? ", signed" : "");
        return agent;
    }
}
