package io.tern.broker;

import java.util.concurrent.CompletableFuture;

/**
 * Message groups across the nodes of a cluster with clustered queues: which node owns a group of a
 * queue (its consumer there takes all of the group's messages, wherever they were sent), so that a
 * group has one consumer cluster-wide. A node whose part of the queue holds a message of a group no
 * node owns claims it before one of its own consumers takes it; a part that holds a message of a group
 * another node owns gives it only to that node's cluster link. Without a directory (a single node, or
 * clustered queues off) each node's part gives its groups to its own consumers, as on one broker.
 * Implemented by the cluster ({@code GroupOwnership} in tern-cluster).
 */
public interface GroupDirectory {
    /** The node that owns {@code group} of {@code queue} as this node knows it now, or null if none does. */
    String owner(String queue, String group);

    /**
     * Asks for {@code group} of {@code queue} for this node; completes with the node that owns it then
     * (this one or another), or with null if it could not be decided yet (ask again a moment later).
     */
    CompletableFuture<String> claim(String queue, String group);

    /** This node's consumers hold {@code group} of {@code queue} no more: another node may claim it. */
    void release(String queue, String group);
}
