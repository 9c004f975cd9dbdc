package io.tern.cluster;

import io.tern.protocol.NodeInfo;

import java.util.List;

/**
 * Decides, for every member of a view, which members take over its clients and queues when it
 * dies. Every node computes the map from the same view, so the function must be pure: the same
 * members in the same order give the same map, with no state and no randomness.
 *
 * <p>A custom policy is a class with a public constructor taking the number of backups (an
 * {@code int}), named with {@code --failover-policy}.
 */
public interface FailoverPolicy {

    /**
     * @param members the view's members, in view order (the coordinator first)
     * @return each member's failover nodes, best first
     */
    FailoverMap compute(List<NodeInfo> members);
}
