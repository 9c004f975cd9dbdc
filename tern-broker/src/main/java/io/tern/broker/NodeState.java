package io.tern.broker;

/**
 * What a node does for its clients now. The same names appear in the log
 * ({@code Node n1: serving -> no-quorum (reason)}), in {@code tern status} and in the console.
 *
 * <table>
 *   <caption>What each state allows</caption>
 *   <tr><th>state</th><th>new clients</th><th>sends</th><th>deliveries of stored messages</th></tr>
 *   <tr><td>starting</td><td>refused (NOT_READY: try later or elsewhere)</td><td>-</td><td>held</td></tr>
 *   <tr><td>serving</td><td>served</td><td>accepted</td><td>made</td></tr>
 *   <tr><td>no-quorum</td><td>served</td><td>refused (NOT_IN_QUORUM: send elsewhere)</td><td>held if replicated
 *       (the majority may be taking them over), made if not</td></tr>
 *   <tr><td>draining</td><td>redirected (administration excepted)</td><td>accepted</td><td>made</td></tr>
 *   <tr><td>checking</td><td>held</td><td>held</td><td>held</td></tr>
 *   <tr><td>fenced</td><td>refused</td><td>-</td><td>held</td></tr>
 *   <tr><td>stopping</td><td>refused (SHUTTING_DOWN)</td><td>accepted</td><td>made</td></tr>
 * </table>
 */
public enum NodeState {
    /** Joining its cluster and checking whether another node took it over while it was gone. */
    STARTING("starting"),
    SERVING("serving"),
    /** In a partition without a majority of the cluster's last stable view. */
    NO_QUORUM("no-quorum"),
    /** Its clients move to other nodes on an operator's word; stays so until it stops. */
    DRAINING("draining"),
    /** It learned it was taken over and discards what it no longer owns, or it cannot record a takeover. */
    FENCED("fenced"),
    /**
     * Its JVM was stopped longer than half the failure-detection time: it asks the members whether
     * one took it over meanwhile, and every request waits until it knows.
     */
    CHECKING("checking"),
    STOPPING("stopping");

    private final String label;

    NodeState(String label) {
        this.label = label;
    }

    /** The name operators see. */
    public String label() {
        return label;
    }

    /** True if a new client's hello is answered (served, or redirected while draining). */
    public boolean admitsClients() {
        return this == SERVING || this == NO_QUORUM || this == DRAINING;
    }

    public boolean acceptsSends() {
        return this == SERVING || this == DRAINING || this == STOPPING;
    }

    /** True if stored messages go to consumers; {@code replicated}: whether a majority may take them over. */
    public boolean delivers(boolean replicated) {
        return this == SERVING || this == DRAINING || this == STOPPING || (this == NO_QUORUM && !replicated);
    }

    @Override
    public String toString() {
        return label;
    }
}
