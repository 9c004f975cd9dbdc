/**
 * Cluster membership: {@link io.tern.cluster.ClusterNode} joins a JGroups channel whose addresses
 * carry each node's {@link io.tern.protocol.NodeInfo}; on every view a
 * {@link io.tern.cluster.FailoverPolicy} (by default {@link io.tern.cluster.RingFailoverPolicy})
 * computes each node's failover nodes, and the quorum rule says whether this node's partition may
 * accept sends. Stacks ship as resources under {@code tern/jgroups/}.
 */
package io.tern.cluster;
