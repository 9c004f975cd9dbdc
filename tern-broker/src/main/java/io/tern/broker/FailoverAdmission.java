package io.tern.broker;

/**
 * How a client that failed over from another node is let in: sent to the node that owns that
 * node's messages now ({@code redirectTo}), or served here, as the owner (its sessions recover
 * what this node took over) or not. The cluster decides ({@link Broker#setAdmission}); a node
 * without a cluster serves every such client without recovery.
 */
public record FailoverAdmission(String redirectTo, boolean owner) {
    public static final FailoverAdmission AS_OWNER = new FailoverAdmission(null, true);
    public static final FailoverAdmission WITHOUT_RECOVERY = new FailoverAdmission(null, false);

    public static FailoverAdmission redirect(String uri) {
        return new FailoverAdmission(java.util.Objects.requireNonNull(uri, "uri"), false);
    }

    /** A client connection ({@code connectionKey}, null for an old client) says it fails over from node {@code fromNode}. */
    public record Request(String fromNode, String connectionKey) {
    }
}
