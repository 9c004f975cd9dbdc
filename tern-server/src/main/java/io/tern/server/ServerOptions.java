package io.tern.server;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The flags of {@code tern server}; {@code --config} reads the same settings from a YAML file ({@link ConfigFile}). */
public final class ServerOptions {

    @Option(names = "--config", description = "YAML file of settings: each key is a flag without its dashes (see "
            + "conf/tern.yaml); a flag given here wins over the file's key")
    Path config;

    @Option(names = "--name", description = "Node name (default: ${DEFAULT-VALUE})")
    String name = "tern-1";

    @Option(names = "--port", description = "Client port (default: ${DEFAULT-VALUE}; 0 picks a free port)")
    int port = 5445;

    @Option(names = "--data", description = "Data directory (default: ./data/<name>)")
    Path data;

    @Option(names = "--cluster", description = "Cluster group name (default: ${DEFAULT-VALUE})")
    String cluster = "tern";

    @Option(names = "--bind", description = "Address to listen on (default: ${DEFAULT-VALUE}, loopback only)")
    String bind = "127.0.0.1";

    @Option(names = "--interface", description = "Network interface for multicast (default: loopback)")
    String networkInterface;

    @Option(names = "--machine-id", description = "Overrides the machine id used to place failover nodes")
    String machineId;

    @Option(names = "--console-port", description = "Web console HTTP port, on the --bind address (default: ${DEFAULT-VALUE}; "
            + "0 picks a free port)")
    int consolePort = 8161;

    @Option(names = "--console", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Serve the web console (default: on; --no-console turns it off)")
    boolean console = true;

    @Option(names = "--backups", description = "Failover nodes per node (default: ${DEFAULT-VALUE})")
    int backups = 1;

    @Option(names = "--memory-limit", converter = SizeConverter.class, description = "Bytes of queued messages in memory, "
            + "as a number or a size such as 256MiB; past it stored messages are paged and others meet --full-policy (default: "
            + "half the heap)")
    Long memoryLimit;

    @Option(names = "--block-timeout-ms", description = "How long a send waits for room while the memory limit is "
            + "reached; then it fails, not stored, with an error that says so (default: ${DEFAULT-VALUE}; keep it below "
            + "the clients' callTimeout, 30000 by default)")
    long blockTimeoutMs = 20_000;

    @Option(names = "--full-policy", description = "What a send meets past the memory limit (or, if it is stored, the disk "
            + "limit): BLOCK waits for room up to --block-timeout-ms, FAIL refuses it at once; either way a refused send is "
            + "not stored and its error says why (default: ${DEFAULT-VALUE})")
    io.tern.broker.BrokerConfig.FullPolicy fullPolicy = io.tern.broker.BrokerConfig.FullPolicy.BLOCK;

    @Option(names = "--max-disk-usage", converter = DiskLimitConverter.class, description = "Disk limit of the store: a "
            + "percentage of the data directory's disk in use (90%%), or a size of the data directory (20GiB); past it, "
            + "persistent sends meet --full-policy (default: ${DEFAULT-VALUE})")
    io.tern.broker.BrokerConfig.DiskLimit maxDiskUsage = io.tern.broker.BrokerConfig.DiskLimit.DEFAULT;

    @Option(names = "--max-deliveries", description = "Delivery attempts after which a message goes to the dead-letter "
            + "queue (default: ${DEFAULT-VALUE})")
    int maxDeliveries = io.tern.broker.QueueSettings.DEFAULT.maxDeliveries();

    @Option(names = "--dead-letter-queue", description = "Where messages go after --max-deliveries attempts (default: ${DEFAULT-VALUE})")
    String deadLetterQueue = io.tern.broker.QueueSettings.DEFAULT.deadLetterQueue();

    @Option(names = "--expiry-queue", description = "Where expired messages go (default: ${DEFAULT-VALUE})")
    String expiryQueue = io.tern.broker.QueueSettings.DEFAULT.expiryQueue();

    @Option(names = "--queue-setting", paramLabel = "PATTERN:KEY=VALUE", converter = QueueRuleConverter.class, description = "PATTERN:KEY=VALUE: one of "
            + "max-deliveries, dead-letter-queue or expiry-queue for the destinations of PATTERN (queue:NAME, topic:NAME or "
            + "NAME, * any characters; a subscription follows its topic), e.g. 'orders.*:max-deliveries=3'; repeat for more, "
            + "a later one wins")
    java.util.List<io.tern.broker.QueueSettings.Rule> queueRules = new java.util.ArrayList<>();

    /** The dead-letter settings of every queue no rule names, checked. */
    io.tern.broker.QueueSettings queueDefaults() {
        return new io.tern.broker.QueueSettings(maxDeliveries, deadLetterQueue, expiryQueue);
    }

    /** A value parsed by {@code parse}: what it throws is a usage error that says why (and, from --config, names the line). */
    abstract static class Parsed<T> implements picocli.CommandLine.ITypeConverter<T> {
        private final java.util.function.Function<String, T> parse;

        Parsed(java.util.function.Function<String, T> parse) {
            this.parse = parse;
        }

        @Override
        public T convert(String value) {
            try {
                return parse.apply(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    static final class DiskLimitConverter extends Parsed<io.tern.broker.BrokerConfig.DiskLimit> {
        DiskLimitConverter() {
            super(io.tern.broker.BrokerConfig.DiskLimit::parse);
        }
    }

    /** Bytes, with an optional unit: {@code 268435456}, {@code 256MiB}, {@code 1GB}. */
    static final class SizeConverter extends Parsed<Long> {
        SizeConverter() {
            super(text -> {
                try {
                    return io.tern.broker.BrokerConfig.bytes(text);
                } catch (IllegalArgumentException | ArithmeticException e) {
                    throw new IllegalArgumentException("expected bytes or a size such as 256MiB, not '" + text + "'");
                }
            });
        }
    }

    static final class QueueRuleConverter extends Parsed<io.tern.broker.QueueSettings.Rule> {
        QueueRuleConverter() {
            super(io.tern.broker.QueueSettings.Rule::parse);
        }
    }

    @Option(names = "--max-frame", description = "Largest frame accepted, bytes (default: ${DEFAULT-VALUE})")
    int maxFrame = io.tern.protocol.Handshake.DEFAULT_MAX_FRAME_SIZE;

    @Option(names = "--max-sessions-per-connection", description = "Sessions one client connection may hold (default: ${DEFAULT-VALUE})")
    int maxSessions = io.tern.broker.BrokerConfig.ConnectionLimits.DEFAULT.sessions();

    @Option(names = "--max-consumers-per-connection", description = "Consumers one client connection may hold (default: ${DEFAULT-VALUE})")
    int maxConsumers = io.tern.broker.BrokerConfig.ConnectionLimits.DEFAULT.consumers();

    @Option(names = "--max-temporaries-per-connection", description = "Temporary destinations one client connection may "
            + "hold (default: ${DEFAULT-VALUE})")
    int maxTemporaries = io.tern.broker.BrokerConfig.ConnectionLimits.DEFAULT.temporaries();

    @Option(names = "--max-selector-length", description = "Characters of a message selector (default: ${DEFAULT-VALUE})")
    int maxSelectorLength = io.tern.broker.BrokerConfig.ConnectionLimits.DEFAULT.selectorChars();

    @Option(names = "--dev-user", description = "For development only: NAME=PASSWORD of a user allowed everything; repeat "
            + "for more. The password is visible to every local user (ps): use --users and --permissions instead.")
    java.util.Map<String, String> users = new java.util.LinkedHashMap<>();

    @Option(names = "--users", description = "Users file: NAME:ROLES:HASH lines, written by 'tern user add' (needs --permissions)")
    java.nio.file.Path usersFile;

    @Option(names = "--permissions", description = "Permissions file: ROLE PERMISSIONS [DESTINATIONS] lines (see the README)")
    java.nio.file.Path permissionsFile;

    /** Who may connect and do what, from the files or the development users; read once, at start. */
    io.tern.broker.security.AccessControl accessControl() throws java.io.IOException {
        if ((usersFile == null) != (permissionsFile == null)) {
            throw new IllegalArgumentException("--users and --permissions go together: users have roles, and roles permissions");
        }
        if (usersFile != null && !users.isEmpty()) {
            throw new IllegalArgumentException("--dev-user is for a development node without --users");
        }
        return usersFile != null ? io.tern.broker.security.AccessControl.fromFiles(usersFile, permissionsFile)
                : io.tern.broker.security.AccessControl.devUsers(users);
    }

    /** The client port's TLS from the flags and the environment; null without {@code --tls-cert}. */
    io.tern.protocol.TlsSettings tls() throws java.io.IOException {
        if (tlsCert == null) {
            if (tlsKey != null || tlsTrust != null || tlsClientAuth != io.netty.handler.ssl.ClientAuth.NONE) {
                throw new IllegalArgumentException("--tls-key, --tls-trust and --tls-client-auth need --tls-cert");
            }
            return null;
        }
        if (tlsClientAuth != io.netty.handler.ssl.ClientAuth.NONE && tlsTrust == null) {
            throw new IllegalArgumentException("--tls-client-auth " + tlsClientAuth + " needs --tls-trust: the CA that client certificates chain to");
        }
        char[] keyPassword = tlsKeyPasswordFile != null
                ? java.nio.file.Files.readString(tlsKeyPasswordFile).strip().toCharArray()
                : env("TERN_TLS_KEY_PASSWORD");
        return new io.tern.protocol.TlsSettings(tlsCert, tlsKey, keyPassword, tlsTrust, env("TERN_TLS_TRUST_PASSWORD"), tlsClientAuth);
    }

    private static char[] env(String name) {
        String v = System.getenv(name);
        return v == null ? null : v.toCharArray();
    }

    @Option(names = "--tls-cert", description = "TLS for clients (terns://): the server's certificate chain (PEM, with "
            + "--tls-key) or a PKCS#12 key store (.p12/.pfx); its password from env TERN_TLS_KEY_PASSWORD or --tls-key-password-file")
    java.nio.file.Path tlsCert;

    @Option(names = "--tls-key", description = "The private key (PEM, PKCS#8) of --tls-cert")
    java.nio.file.Path tlsKey;

    @Option(names = "--tls-key-password-file", description = "File holding the password of --tls-key or the PKCS#12 store")
    java.nio.file.Path tlsKeyPasswordFile;

    @Option(names = "--tls-trust", description = "CA certificates (PEM) or a PKCS#12 trust store (password from env "
            + "TERN_TLS_TRUST_PASSWORD) that client certificates must chain to")
    java.nio.file.Path tlsTrust;

    @Option(names = "--tls-client-auth", description = "Client certificates: NONE, OPTIONAL or REQUIRE (default: "
            + "${DEFAULT-VALUE}); a verified certificate's common name is the client's user")
    io.netty.handler.ssl.ClientAuth tlsClientAuth = io.netty.handler.ssl.ClientAuth.NONE;

    @Option(names = "--discovery-address", description = "Multicast group address of discovery (default: ${DEFAULT-VALUE})")
    String discoveryAddress = io.tern.discovery.DiscoveryConfig.DEFAULT_GROUP_ADDRESS;

    @Option(names = "--discovery-port", description = "Multicast port of discovery (default: ${DEFAULT-VALUE}; 0 turns discovery off)")
    int discoveryPort = io.tern.discovery.DiscoveryConfig.DEFAULT_PORT;

    @picocli.CommandLine.Mixin
    ClusterSecretOption clusterSecret = new ClusterSecretOption();

    @Option(names = "--stack", converter = StackConverter.class, description = "Cluster membership stack: udp (multicast, the default), tcp (static --seeds), "
            + "kubernetes (DNS_PING on --dns-query), or none (no membership: independent servers found by discovery)")
    String stack = "udp";

    static final class StackConverter implements picocli.CommandLine.ITypeConverter<String> {
        static final java.util.List<String> STACKS = java.util.List.of("udp", "tcp", "kubernetes", "none");

        @Override
        public String convert(String value) {
            if (!STACKS.contains(value)) {
                throw new picocli.CommandLine.TypeConversionException("expected one of " + STACKS + " (or --jgroups FILE), not '"
                        + value + "'");
            }
            return value;
        }
    }

    @Option(names = "--jgroups", description = "Your own JGroups stack file instead of --stack")
    String jgroupsFile;

    @Option(names = "--seeds", description = "tcp stack: host:port,... of cluster members to contact first")
    String seeds;

    @Option(names = "--dns-query", description = "kubernetes stack: DNS name of the headless service")
    String dnsQuery;

    @Option(names = "--dns-address", description = "kubernetes stack: the DNS server to ask, host:port (default: the "
            + "resolver of /etc/resolv.conf, as in a pod)")
    String dnsAddress;

    @Option(names = "--cluster-bind", description = "Address cluster traffic binds to (default: --bind)")
    String clusterBind;

    @Option(names = "--cluster-address", description = "udp stack: multicast group of the cluster (default: ${DEFAULT-VALUE})")
    String clusterAddress = "239.255.84.79";

    @Option(names = "--cluster-port", description = "udp stack: multicast port; tcp and kubernetes: the port to bind "
            + "(defaults: 45588 and 7800)")
    Integer clusterPort;

    @Option(names = "--quorum", arity = "1", description = "Refuse sends in a partition without a majority of the last stable "
            + "view (default: ${DEFAULT-VALUE}); turn off only for two-node clusters, see README")
    boolean quorum = true;

    @Option(names = "--failover-policy", description = "Class of a FailoverPolicy with a constructor taking the number "
            + "of backups (default: the ring policy)")
    String failoverPolicy;

    @Option(names = "--replication", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Replicate every stored change and delivery to this node's failover nodes, take over a dead "
                    + "node's messages and let its clients recover their sessions (default: on; --no-replication turns it "
                    + "off; a node without a cluster, --stack none, never replicates)")
    boolean replication = true;

    @Option(names = "--clustered-queues", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Make the cluster one broker: a consumer on any node gets what was sent on any node, to queues, "
                    + "topics and temporary queues (docs/CLUSTERING.md; default: on; --no-clustered-queues keeps each "
                    + "node's destinations its own)")
    boolean clusteredQueues = true;

    @Option(names = "--fd-timeout", converter = MillisConverter.class, description = "Silence after which a member is "
            + "suspected (FD_ALL3): milliseconds, or with ms or s, e.g. 6s (default: the stack's, 6s)")
    Long fdTimeoutMs;

    /** A duration as milliseconds from {@code 6000}, {@code 6000ms} or {@code 6s}. */
    static final class MillisConverter implements picocli.CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            String t = value.trim().toLowerCase(java.util.Locale.ROOT);
            try {
                long ms = t.endsWith("ms") ? Long.parseLong(t.substring(0, t.length() - 2).trim())
                        : t.endsWith("s") ? Math.multiplyExact(Long.parseLong(t.substring(0, t.length() - 1).trim()), 1000)
                        : Long.parseLong(t);
                if (ms <= 0) {
                    throw new picocli.CommandLine.TypeConversionException("a duration must be positive: '" + value + "'");
                }
                return ms;
            } catch (NumberFormatException | ArithmeticException e) {
                throw new picocli.CommandLine.TypeConversionException("expected milliseconds, or a number with ms or s "
                        + "(6000, 6000ms, 6s), not '" + value + "'");
            }
        }
    }

    @Option(names = "--shutdown-grace-ms", description = "On SIGTERM or tern stop: how long clients get to move "
            + "to another server before the remaining connections are closed (default: ${DEFAULT-VALUE})")
    long shutdownGraceMs = 10_000;

    @Option(names = "--replica-store", description = "With replication: where this node keeps the replicas of the nodes "
            + "it backs up: memory, or disk too (DATA/replicas; a batch is acknowledged once synced there, and a restarted "
            + "node has them back) (default: ${DEFAULT-VALUE})")
    ReplicaStore replicaStore = ReplicaStore.MEMORY;

    enum ReplicaStore { MEMORY, DISK }

    @Option(names = "--fault-takeover-pause-ms", hidden = true, description = "Fault injection for system tests: a "
            + "takeover pauses this long after storing the messages, before recording itself")
    long faultTakeoverPauseMs;

    @Option(names = "--recovery-timeout-ms", description = "With replication: how long messages taken over from a dead "
            + "node stay kept for the client sessions that had them (they recover them on failover) before other "
            + "consumers get them (default: ${DEFAULT-VALUE})")
    long recoveryTimeoutMs = 15_000;

    /** How long a client of a node still in the view waits here for that node to be found dead: detection plus margin. */
    long admissionWaitMs() {
        return (fdTimeoutMs != null ? fdTimeoutMs : 6_000) + 4_000;
    }

    Path dataDir() {
        return data != null ? data : Path.of("data", name);
    }
}
