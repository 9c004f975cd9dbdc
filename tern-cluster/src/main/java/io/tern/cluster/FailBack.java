package io.tern.cluster;

import io.tern.broker.ClusterPort;
import io.tern.protocol.NodeInfo;

import java.util.List;

/**
 * A member serves (again) after it was taken over: its former clients move back to it ("failback
 * only when safe": the member says so once it discarded what it no longer owns), and with clustered
 * queues, where a client is served the same on any node, a share of this node's own clients moves
 * there too, so that the connections spread over the grown cluster.
 */
final class FailBack {
    private final ClusterNode node;
    private final ClusterPort broker;
    private volatile boolean spreadOnJoin;

    FailBack(ClusterNode node, ClusterPort broker) {
        this.node = node;
        this.broker = broker;
    }

    /** Clustered queues are on: a member that starts serving gets a share of this node's clients. */
    void spreadOnJoin() {
        spreadOnJoin = true;
    }

    /** {@code nodeId} serves (again). */
    void to(String nodeId) {
        broker.events().record("failed-back", broker.events().nameOf(nodeId), "serves; its former clients move back to it");
        List<NodeInfo> members = node.members();
        for (NodeInfo m : members) {
            if (m.nodeId().equals(nodeId) && !m.clientUris().isEmpty()) {
                broker.failBack(nodeId, m.clientUris().get(0));
                if (spreadOnJoin) {
                    broker.spreadTo(m.clientUris().get(0), members.size());
                }
            }
        }
    }
}
