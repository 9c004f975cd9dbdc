package io.tern.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a client knows of the cluster: its members, each member's failover nodes, whether every
 * member has a failover node on another machine, and whether the partition of the node that sent it
 * holds the quorum (a node without it refuses sends), and if not, the names of the members of the
 * last view that held it that it misses; and whether the list came over authenticated channels (the
 * cluster has a secret: its membership is encrypted and its discovery signed), so that a client
 * without TLS may give its password to the servers it names.
 *
 * <p>The {@link #digest()} is a 64-bit hash of the content (the first 8 bytes of SHA-256 over the
 * canonical encoding). Client and server compare digests for equality only, so restarts and clocks
 * never make a stale list look newer.
 */
public record ClusterTopology(List<NodeInfo> members, Map<String, List<FailoverInfo>> failover,
                              boolean machineRedundant, boolean quorum, List<String> missing, boolean authenticated) {

    public static final long UNKNOWN_DIGEST = 0L;

    public ClusterTopology {
        members = List.copyOf(members);
        missing = List.copyOf(missing);
        Map<String, List<FailoverInfo>> copy = new LinkedHashMap<>();
        failover.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        failover = java.util.Collections.unmodifiableMap(copy);
    }

    public ClusterTopology(List<NodeInfo> members, Map<String, List<FailoverInfo>> failover, boolean machineRedundant,
                           boolean quorum, List<String> missing) {
        this(members, failover, machineRedundant, quorum, missing, false);
    }

    public ClusterTopology(List<NodeInfo> members, Map<String, List<FailoverInfo>> failover, boolean machineRedundant,
                           boolean quorum) {
        this(members, failover, machineRedundant, quorum, List.of());
    }

    /** This list, marked as having come over authenticated channels (or not). */
    public ClusterTopology authenticated(boolean yes) {
        return new ClusterTopology(members, failover, machineRedundant, quorum, missing, yes);
    }

    /** A topology of a partition that holds the quorum (or of a cluster that does not use the rule). */
    public ClusterTopology(List<NodeInfo> members, Map<String, List<FailoverInfo>> failover, boolean machineRedundant) {
        this(members, failover, machineRedundant, true);
    }

    public static ClusterTopology single(NodeInfo node) {
        return new ClusterTopology(List.of(node), Map.of(node.nodeId(), List.of()), false);
    }

    /** Digest of the content; never {@link #UNKNOWN_DIGEST}. */
    public long digest() {
        ByteBuf buf = Unpooled.buffer();
        try {
            TopologyCodec.write(this, buf);
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(bytes);
            long d = 0;
            for (int i = 0; i < 8; i++) {
                d = (d << 8) | (hash[i] & 0xff);
            }
            return d == UNKNOWN_DIGEST ? 1 : d;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every JVM", e);
        } finally {
            buf.release();
        }
    }
}
