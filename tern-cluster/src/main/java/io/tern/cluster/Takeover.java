package io.tern.cluster;

import io.tern.broker.Broker;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.FailoverInfo;
import io.tern.protocol.NodeInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * When a member leaves the view, its first failover node (by the map of the view before) takes
 * over what it stored: the replica becomes messages of this node's broker. Only in a partition that
 * holds the quorum, so two halves never both take over. Runs off the JGroups thread.
 *
 * <p>Not yet done (issue 5): recording the takeover with an epoch so that the node, if it comes
 * back with its old disk, discards what it no longer owns. Until then this is not wired into
 * {@code tern server}.
 */
public final class Takeover implements ClusterListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Takeover.class);

    private final String selfId;
    private final ReplicatingStore store;
    private final Broker broker;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "tern-takeover");
        t.setDaemon(true);
        return t;
    });
    private ClusterTopology previous; // guarded by this

    public Takeover(String selfId, ReplicatingStore store, Broker broker) {
        this.selfId = selfId;
        this.store = store;
        this.broker = broker;
    }

    @Override
    public synchronized void clusterChanged(ClusterTopology topology, boolean quorum) {
        ClusterTopology before = previous;
        previous = topology;
        if (before == null) {
            return;
        }
        Set<String> now = new HashSet<>();
        topology.members().forEach(m -> now.add(m.nodeId()));
        for (NodeInfo gone : before.members()) {
            if (now.contains(gone.nodeId())) {
                continue;
            }
            List<FailoverInfo> failover = before.failover().getOrDefault(gone.nodeId(), List.of());
            if (failover.isEmpty() || !failover.get(0).nodeId().equals(selfId)) {
                continue;
            }
            if (!quorum) {
                LOG.warn("{} left, and this node is its failover node, but this partition has no quorum: no takeover",
                        gone.name());
                continue;
            }
            worker.execute(() -> takeOver(gone));
        }
    }

    private void takeOver(NodeInfo gone) {
        ReplicatingStore.Taken taken = store.takeReplica(gone.nodeId());
        if (taken == null) {
            LOG.warn("{} left and this node is its failover node, but holds no replica of it", gone.name());
            return;
        }
        if (!taken.complete()) {
            LOG.error("{} left before its replica here was in sync: taking over what arrived", gone.name());
        }
        long start = System.nanoTime();
        int count = broker.adopt(taken.queues(), taken.messages(), taken.duplicateIds()).join();
        LOG.info("Took over {}: {} queue(s), {} message(s), {} duplicate id(s) in {} ms", gone.name(), taken.queues().size(),
                count, taken.duplicateIds().size(), (System.nanoTime() - start) / 1_000_000);
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
