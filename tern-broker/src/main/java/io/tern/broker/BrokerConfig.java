package io.tern.broker;

import io.tern.protocol.Handshake;
import io.tern.broker.security.AccessControl;
import io.tern.protocol.TlsSettings;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * Validated settings of one node, built once. Defaults live here and nowhere else.
 *
 * @param dataDir            where the store lives; null keeps nothing on disk
 * @param memoryLimitBytes   bytes of queued messages above which producers are blocked or refused
 * @param queueDefaults      max deliveries, dead-letter and expiry queue of every queue no rule names
 * @param queueRules         those settings for the queues of a pattern, applied in order (see {@link QueueSettings})
 * @param duplicateIdCacheSize duplicate-detection ids remembered (and stored)
 * @param connectionTtlMs    a connection silent this long is closed and its work rolled back
 * @param users              user name to password; empty allows anonymous connections
 * @param recoveryTimeoutMs  how long messages taken over from a dead node stay kept for the client
 *                           sessions that had them, before they go to other consumers
 * @param blockTimeoutMs     under {@link FullPolicy#BLOCK}: how long a send waits for room before it
 *                           fails, not stored (below the clients' call timeout, 30 s by default, so
 *                           that the producer gets this answer rather than none)
 * @param maxDiskUsage       the disk limit: past it, persistent sends wait (BLOCK, up to the block
 *                           timeout) or fail (FAIL), not stored, with an error that names it
 * @param accessControl      who may connect and what each may do; by default built from {@code users}
 *                           (none: open; else development users allowed everything)
 * @param limits             what one client connection may hold, so that no client exhausts the node
 * @param tls                the client port's TLS (the node's address is then {@code terns://}); null: plaintext
 */
public record BrokerConfig(String name, Path dataDir, String bindAddress, int port, int maxFrameSize,
                           long memoryLimitBytes, FullPolicy fullPolicy, QueueSettings queueDefaults,
                           java.util.List<QueueSettings.Rule> queueRules, int duplicateIdCacheSize,
                           long connectionTtlMs, Map<String, String> users, int workerThreads,
                           long recoveryTimeoutMs, long blockTimeoutMs, DiskLimit maxDiskUsage, TlsSettings tls,
                           AccessControl accessControl, ConnectionLimits limits) {

    /**
     * How much disk the store may use: a share of the file system that holds the data directory in use
     * ({@code percent} of it, counting what other programs use, as a full disk does), or {@code bytes}
     * of the data directory itself. Parsed from {@code 90%} or a size such as {@code 20GiB}.
     */
    public record DiskLimit(int percent, long bytes) {
        public static final DiskLimit DEFAULT = new DiskLimit(90, 0);

        public DiskLimit {
            if ((percent == 0) == (bytes == 0) || percent < 0 || percent > 100 || bytes < 0) {
                throw new IllegalArgumentException("a disk limit is a percentage of 1-100 or a number of bytes above 0");
            }
        }

        /** {@code 90%}, or bytes with an optional unit: {@code 512MiB}, {@code 20GB}, {@code 1048576}. */
        public static DiskLimit parse(String text) {
            String t = text.trim();
            try {
                if (t.endsWith("%")) {
                    return new DiskLimit(Integer.parseInt(t.substring(0, t.length() - 1).trim()), 0);
                }
                return new DiskLimit(0, BrokerConfig.bytes(t));
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new IllegalArgumentException("bad disk limit '" + text + "' (" + e.getMessage()
                        + "): give a percentage of the disk such as 90% or a size such as 20GiB");
            }
        }

        @Override
        public String toString() {
            return percent > 0 ? percent + "%" : bytes + " bytes";
        }
    }

    /**
     * Bytes with an optional unit: {@code 1048576}, {@code 512MiB} or {@code 512M} (powers of 1024),
     * {@code 20GB} (powers of 1000).
     *
     * @throws IllegalArgumentException if it is not such a size
     * @throws ArithmeticException if it does not fit a long
     */
    public static long bytes(String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)(\\d+)\\s*(k|m|g|t)?(i?b)?").matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a size");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "" : m.group(2).toLowerCase(java.util.Locale.ROOT);
        long scale = m.group(3) != null && m.group(3).equalsIgnoreCase("b") && !unit.isEmpty() ? 1000 : 1024;
        int power = "kmgt".indexOf(unit.isEmpty() ? "x" : unit) + 1;
        long bytes = n;
        for (int i = 0; i < power; i++) {
            bytes = Math.multiplyExact(bytes, scale);
        }
        return bytes;
    }

    /**
     * What one client connection may hold: sessions, consumers, temporary destinations, and the
     * length of a selector (parsing and evaluating one costs time on threads other clients share).
     */
    public record ConnectionLimits(int sessions, int consumers, int temporaries, int selectorChars) {
        public static final ConnectionLimits DEFAULT = new ConnectionLimits(1_000, 10_000, 1_000, 4_096);

        public ConnectionLimits {
            if (sessions < 1 || consumers < 1 || temporaries < 1 || selectorChars < 16) {
                throw new IllegalArgumentException("connection limits must be >= 1 (selectors >= 16 characters): " + sessions
                        + " sessions, " + consumers + " consumers, " + temporaries + " temporaries, " + selectorChars + " characters");
            }
        }
    }

    /** What happens to a send while queued messages exceed the memory limit. */
    public enum FullPolicy {
        /** The producer waits until consumers make room, up to the block timeout; then its send fails, not stored. */
        BLOCK,
        /** The send fails with ResourceAllocationException. */
        FAIL
    }

    public BrokerConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(bindAddress, "bindAddress");
        Objects.requireNonNull(fullPolicy, "fullPolicy");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535: " + port);
        }
        if (maxFrameSize < 1024) {
            throw new IllegalArgumentException("maxFrameSize must be >= 1024: " + maxFrameSize);
        }
        if (memoryLimitBytes < 1024) {
            throw new IllegalArgumentException("memoryLimitBytes must be >= 1024: " + memoryLimitBytes);
        }
        Objects.requireNonNull(queueDefaults, "queueDefaults");
        queueRules = java.util.List.copyOf(queueRules);
        if (duplicateIdCacheSize < 0) {
            throw new IllegalArgumentException("duplicateIdCacheSize must be >= 0: " + duplicateIdCacheSize);
        }
        if (connectionTtlMs < 1000) {
            throw new IllegalArgumentException("connectionTtlMs must be >= 1000: " + connectionTtlMs);
        }
        if (workerThreads < 1) {
            throw new IllegalArgumentException("workerThreads must be >= 1: " + workerThreads);
        }
        if (recoveryTimeoutMs < 0) {
            throw new IllegalArgumentException("recoveryTimeoutMs must be >= 0: " + recoveryTimeoutMs);
        }
        if (blockTimeoutMs < 1) {
            throw new IllegalArgumentException("blockTimeoutMs must be >= 1: " + blockTimeoutMs);
        }
        Objects.requireNonNull(maxDiskUsage, "maxDiskUsage");
        users = Map.copyOf(users);
        limits = limits == null ? ConnectionLimits.DEFAULT : limits;
        if (accessControl == null) {
            accessControl = AccessControl.devUsers(users);
        }
    }

    /** The dead-letter settings of {@code definition}'s queue: the defaults with the matching rules applied. */
    QueueSettings queueSettings(QueueDefinition definition) {
        return queueDefaults.forQueue(queueRules, definition);
    }

    /** The scheme of this node's client address: {@code terns} with TLS, else {@code tern}. */
    public String scheme() {
        return tls != null ? "terns" : "tern";
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.name = name;
        b.dataDir = dataDir;
        b.bindAddress = bindAddress;
        b.port = port;
        b.maxFrameSize = maxFrameSize;
        b.memoryLimitBytes = memoryLimitBytes;
        b.fullPolicy = fullPolicy;
        b.queueDefaults = queueDefaults;
        b.queueRules = queueRules;
        b.duplicateIdCacheSize = duplicateIdCacheSize;
        b.connectionTtlMs = connectionTtlMs;
        b.users = users;
        b.workerThreads = workerThreads;
        b.recoveryTimeoutMs = recoveryTimeoutMs;
        b.blockTimeoutMs = blockTimeoutMs;
        b.maxDiskUsage = maxDiskUsage;
        b.tls = tls;
        b.accessControl = accessControl;
        b.limits = limits;
        return b;
    }

    /** Builder with the defaults of a production node bound to loopback. */
    public static final class Builder {
        private String name = "tern";
        private Path dataDir;
        private String bindAddress = "127.0.0.1";
        private int port = 5445;
        private int maxFrameSize = Handshake.DEFAULT_MAX_FRAME_SIZE;
        private long memoryLimitBytes = Runtime.getRuntime().maxMemory() / 2;
        private FullPolicy fullPolicy = FullPolicy.BLOCK;
        private QueueSettings queueDefaults = QueueSettings.DEFAULT;
        private java.util.List<QueueSettings.Rule> queueRules = java.util.List.of();
        private int duplicateIdCacheSize = 200_000;
        private long connectionTtlMs = 60_000;
        private Map<String, String> users = Map.of();
        private int workerThreads = Math.max(4, Runtime.getRuntime().availableProcessors() * 2);
        private long recoveryTimeoutMs = 15_000;
        private long blockTimeoutMs = 20_000;
        private DiskLimit maxDiskUsage = DiskLimit.DEFAULT;
        private TlsSettings tls;
        private AccessControl accessControl;
        private ConnectionLimits limits = ConnectionLimits.DEFAULT;

        public Builder name(String v) { name = v; return this; }
        public Builder dataDir(Path v) { dataDir = v; return this; }
        public Builder bindAddress(String v) { bindAddress = v; return this; }
        public Builder port(int v) { port = v; return this; }
        public Builder maxFrameSize(int v) { maxFrameSize = v; return this; }
        public Builder memoryLimitBytes(long v) { memoryLimitBytes = v; return this; }
        public Builder fullPolicy(FullPolicy v) { fullPolicy = v; return this; }
        public Builder queueDefaults(QueueSettings v) { queueDefaults = v; return this; }
        public Builder queueRules(java.util.List<QueueSettings.Rule> v) { queueRules = v; return this; }
        public Builder duplicateIdCacheSize(int v) { duplicateIdCacheSize = v; return this; }
        public Builder connectionTtlMs(long v) { connectionTtlMs = v; return this; }
        /** Development users (passwords in clear, each allowed everything); replaces an access control set before. */
        public Builder users(Map<String, String> v) { users = v; accessControl = null; return this; }
        public Builder workerThreads(int v) { workerThreads = v; return this; }
        public Builder recoveryTimeoutMs(long v) { recoveryTimeoutMs = v; return this; }
        public Builder blockTimeoutMs(long v) { blockTimeoutMs = v; return this; }
        public Builder maxDiskUsage(DiskLimit v) { maxDiskUsage = v; return this; }
        public Builder tls(TlsSettings v) { tls = v; return this; }
        public Builder accessControl(AccessControl v) { accessControl = v; return this; }
        public Builder limits(ConnectionLimits v) { limits = v; return this; }

        public BrokerConfig build() {
            return new BrokerConfig(name, dataDir, bindAddress, port, maxFrameSize, memoryLimitBytes, fullPolicy,
                    queueDefaults, queueRules, duplicateIdCacheSize, connectionTtlMs,
                    users, workerThreads, recoveryTimeoutMs, blockTimeoutMs, maxDiskUsage, tls, accessControl, limits);
        }
    }
}
