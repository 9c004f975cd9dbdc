package io.tern.bench;

import io.tern.client.TernConnectionFactory;
import io.tern.server.ServerProcess;
import jakarta.jms.ConnectionFactory;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A cluster of three against a cluster of three, each member a process of its own, clients spread over
 * all members ({@link SpreadConnectionFactory}: connections made in turn through each member):
 * {@code tern server --clustered-queues} (replication on, as by default) against Artemis members with
 * {@code ON_DEMAND} load balancing and redistribution ({@link ArtemisServer#startCluster}). Persistent
 * 1 KiB messages on one queue; in {@code spread-2x3} the third member has a consumer and no producer, so
 * a third of the messages must cross between members. Usage: {@code bin/tern-bench cluster [scale]}.
 */
public final class ClusterCompareBench {
    public static void main(String[] args) throws Exception {
        double scale = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        List<Workload> workloads = List.of(
                new Workload("spread-3x3", 3, 3, (int) (15_000 * scale), 1024, true, 0, true),
                new Workload("spread-2x3", 2, 3, (int) (15_000 * scale), 1024, true, 0, true),
                new Workload("spread-9x9", 9, 9, (int) (45_000 * scale), 1024, true, 0, true));
        Path dir = Files.createTempDirectory("tern-cluster-bench");
        System.out.printf("cluster: 3 Tern nodes (clustered queues) against 3 Artemis members (ON_DEMAND, redistribution), "
                + "each a process of its own, clients spread over the members; fsync rate %.0f/s; logs in %s%n",
                CompareBench.fsyncRate(dir), dir);
        List<ServerProcess> nodes = List.of();
        List<ArtemisServer> artemis = List.of();
        try {
            nodes = TernCluster.start(dir, "cb", 217, "--clustered-queues");
            List<ConnectionFactory> ternMembers = new ArrayList<>();
            for (ServerProcess n : nodes) {
                ternMembers.add(new TernConnectionFactory(n.url()));
            }
            artemis = ArtemisServer.startCluster(3, dir.resolve("artemis"), dir);
            List<ConnectionFactory> artemisMembers = new ArrayList<>();
            for (ArtemisServer a : artemis) {
                artemisMembers.add(new ActiveMQConnectionFactory(a.url()));
            }
            if (!ArtemisServer.awaitBridges(3, dir, 60_000)) {
                throw new IllegalStateException("the Artemis members did not connect their cluster bridges; see " + dir);
            }
            CompareBench.table(CompareBench.throughput(workloads, new SpreadConnectionFactory(ternMembers),
                    new SpreadConnectionFactory(artemisMembers)));
        } finally {
            for (ArtemisServer a : artemis) {
                a.close();
            }
            TernCluster.close(nodes);
        }
    }
}
