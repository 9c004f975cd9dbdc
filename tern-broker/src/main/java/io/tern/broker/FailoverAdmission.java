package io.tern.broker;

/**
 * How a client that failed over from another node is let in: sent to the node that owns that
 * node's messages now ({@code redirectTo}), or served here, as the owner (its sessions recover
 * what this node took over) or not. The cluster decides ({@link Broker#setAdmission}); a node
 * without a cluster serves every such client without recovery.
 *
 * <p>{@code arbiterFor} names a node still in the view whose failover node this is: the client
 * holds nothing of that node, so it is served here at once, and the sends it resends are checked
 * against this node's replica of that node (a send that node stored is dropped as a duplicate; any
 * other is stored here, and that node's own copy of it, should it come later, is refused).
 */
public record FailoverAdmission(String redirectTo, boolean owner, String arbiterFor) {
    public static final FailoverAdmission AS_OWNER = new FailoverAdmission(null, true, null);
    public static final FailoverAdmission WITHOUT_RECOVERY = new FailoverAdmission(null, false, null);

    public static FailoverAdmission redirect(String uri) {
        return new FailoverAdmission(java.util.Objects.requireNonNull(uri, "uri"), false, null);
    }

    /** Served here at once; this node arbitrates the client's sends against its replica of {@code nodeId}. */
    public static FailoverAdmission arbitrating(String nodeId) {
        return new FailoverAdmission(null, false, java.util.Objects.requireNonNull(nodeId, "nodeId"));
    }

    /**
     * A client connection ({@code connectionKey}, null for an old client) says it fails over from node
     * {@code fromNode}; {@code holdsNothing}: it holds no unacknowledged delivery and no open transaction.
     */
    public record Request(String fromNode, String connectionKey, boolean holdsNothing) {
    }
}
