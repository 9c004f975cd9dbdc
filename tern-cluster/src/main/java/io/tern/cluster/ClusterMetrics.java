package io.tern.cluster;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * The meters of a node's part in its cluster: members and quorum, and with replication the
 * backups in sync, the batches waiting for them and how long the oldest has waited (the
 * replication lag), the commits that failed for want of them, the replicas this node holds, and
 * the takeovers it made.
 */
public final class ClusterMetrics implements MeterBinder {
    private final ClusteredNode clustered;

    public ClusterMetrics(ClusteredNode clustered) {
        this.clustered = clustered;
    }

    @Override
    public void bindTo(MeterRegistry r) {
        ClusterNode node = clustered.cluster();
        Gauge.builder("tern.cluster.members", node, n -> n.members().size()).description("Members in this node's view").register(r);
        Gauge.builder("tern.cluster.quorum", node, n -> n.hasQuorum() ? 1 : 0)
                .description("1 while this node's partition holds a majority of the last stable view").register(r);
        FunctionCounter.builder("tern.cluster.send.failures", node, ClusterNode::sendFailures)
                .description("Messages to members that could not be sent").register(r);
        ReplicatingStore store = clustered.store();
        if (store == null) {
            return;
        }
        Gauge.builder("tern.replication.backups.in.sync", store, s -> s.backups().size())
                .description("Failover nodes that have every batch of this node").register(r);
        Gauge.builder("tern.replication.waiting", store, ReplicatingStore::waitingCommits)
                .description("Batches waiting for their failover nodes' acknowledgement").register(r);
        Gauge.builder("tern.replication.lag", store, s -> s.replicationLagNanos() / 1e9).baseUnit("seconds")
                .description("How long the oldest batch waiting for the failover nodes has waited").register(r);
        FunctionCounter.builder("tern.replication.failed.commits", store, ReplicatingStore::failedCommits)
                .description("Commits that failed because they could not be replicated, or had no quorum").register(r);
        Gauge.builder("tern.replication.replicas.held", store, s -> s.replicas().primaries().size())
                .description("Nodes whose replica this node holds (it is their failover node)").register(r);
        Takeover takeover = clustered.takeover();
        if (takeover != null) {
            FunctionCounter.builder("tern.takeovers", takeover, Takeover::takeovers)
                    .description("Dead nodes this node took over since it started").register(r);
        }
    }
}
