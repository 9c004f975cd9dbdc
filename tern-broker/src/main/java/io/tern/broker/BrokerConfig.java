package io.tern.broker;

import io.tern.protocol.Handshake;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * Validated settings of one node, built once. Defaults live here and nowhere else.
 *
 * @param dataDir            where the store lives; null keeps nothing on disk
 * @param memoryLimitBytes   bytes of queued messages above which producers are blocked or refused
 * @param maxDeliveryAttempts deliveries after which a message goes to the dead-letter queue
 * @param duplicateIdCacheSize duplicate-detection ids remembered (and stored)
 * @param connectionTtlMs    a connection silent this long is closed and its work rolled back
 * @param users              user name to password; empty allows anonymous connections
 * @param recoveryTimeoutMs  how long messages taken over from a dead node stay kept for the client
 *                           sessions that had them, before they go to other consumers
 * @param blockTimeoutMs     under {@link FullPolicy#BLOCK}: how long a send waits for room before it
 *                           fails, not stored (below the clients' call timeout, 30 s by default, so
 *                           that the producer gets this answer rather than none)
 */
public record BrokerConfig(String name, Path dataDir, String bindAddress, int port, int maxFrameSize,
                           long memoryLimitBytes, FullPolicy fullPolicy, int maxDeliveryAttempts,
                           String deadLetterQueue, String expiryQueue, int duplicateIdCacheSize,
                           long connectionTtlMs, Map<String, String> users, int workerThreads,
                           long recoveryTimeoutMs, long blockTimeoutMs) {

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
        if (maxDeliveryAttempts < 1) {
            throw new IllegalArgumentException("maxDeliveryAttempts must be >= 1: " + maxDeliveryAttempts);
        }
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
        users = Map.copyOf(users);
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
        b.maxDeliveryAttempts = maxDeliveryAttempts;
        b.deadLetterQueue = deadLetterQueue;
        b.expiryQueue = expiryQueue;
        b.duplicateIdCacheSize = duplicateIdCacheSize;
        b.connectionTtlMs = connectionTtlMs;
        b.users = users;
        b.workerThreads = workerThreads;
        b.recoveryTimeoutMs = recoveryTimeoutMs;
        b.blockTimeoutMs = blockTimeoutMs;
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
        private int maxDeliveryAttempts = 10;
        private String deadLetterQueue = "DLQ";
        private String expiryQueue = "ExpiryQueue";
        private int duplicateIdCacheSize = 200_000;
        private long connectionTtlMs = 60_000;
        private Map<String, String> users = Map.of();
        private int workerThreads = Math.max(4, Runtime.getRuntime().availableProcessors() * 2);
        private long recoveryTimeoutMs = 15_000;
        private long blockTimeoutMs = 20_000;

        public Builder name(String v) { name = v; return this; }
        public Builder dataDir(Path v) { dataDir = v; return this; }
        public Builder bindAddress(String v) { bindAddress = v; return this; }
        public Builder port(int v) { port = v; return this; }
        public Builder maxFrameSize(int v) { maxFrameSize = v; return this; }
        public Builder memoryLimitBytes(long v) { memoryLimitBytes = v; return this; }
        public Builder fullPolicy(FullPolicy v) { fullPolicy = v; return this; }
        public Builder maxDeliveryAttempts(int v) { maxDeliveryAttempts = v; return this; }
        public Builder deadLetterQueue(String v) { deadLetterQueue = v; return this; }
        public Builder expiryQueue(String v) { expiryQueue = v; return this; }
        public Builder duplicateIdCacheSize(int v) { duplicateIdCacheSize = v; return this; }
        public Builder connectionTtlMs(long v) { connectionTtlMs = v; return this; }
        public Builder users(Map<String, String> v) { users = v; return this; }
        public Builder workerThreads(int v) { workerThreads = v; return this; }
        public Builder recoveryTimeoutMs(long v) { recoveryTimeoutMs = v; return this; }
        public Builder blockTimeoutMs(long v) { blockTimeoutMs = v; return this; }

        public BrokerConfig build() {
            return new BrokerConfig(name, dataDir, bindAddress, port, maxFrameSize, memoryLimitBytes, fullPolicy,
                    maxDeliveryAttempts, deadLetterQueue, expiryQueue, duplicateIdCacheSize, connectionTtlMs,
                    users, workerThreads, recoveryTimeoutMs, blockTimeoutMs);
        }
    }
}
