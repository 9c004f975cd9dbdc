package io.tern.cluster;

import io.tern.protocol.ClusterTopology;

/** Told of every change of the membership, the failover map or the quorum; called on a JGroups thread. */
@FunctionalInterface
public interface ClusterListener {
    /**
     * @param topology the members and failover map, as clients get them
     * @param quorum   whether this node is in a partition holding a majority of the last stable view
     *                 (always true when the quorum rule is off)
     */
    void clusterChanged(ClusterTopology topology, boolean quorum);
}
