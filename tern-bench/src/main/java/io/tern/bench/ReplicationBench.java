package io.tern.bench;

import io.tern.broker.BrokerConfig;
import io.tern.client.TernConnectionFactory;
import io.tern.cluster.ClusterNode;
import io.tern.cluster.ReplicatingStore;
import io.tern.cluster.RingFailoverPolicy;
import io.tern.protocol.NodeInfo;
import io.tern.server.TernServer;
import io.tern.discovery.FreePorts;
import jakarta.jms.ConnectionFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What synchronous replication to one failover node (k=1) costs: persistent 1/1 and 8/8 against a
 * node that replicates to a second node over the udp stack on loopback (TTL 0), beside the same
 * workloads against a node alone. Both nodes and the clients share this JVM and the machine's
 * cores and disk, as they would not in production, so the figure is a pessimistic one.
 *
 * <p>Arguments: {@code [scale] [memory|disk]}; {@code disk} has the backup keep its replica on its
 * own disk too ({@code --replica-store disk}).
 */
public final class ReplicationBench {

    public static void main(String[] args) throws Exception {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "logback-bench.xml");
        }
        double scale = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        String replicaStore = args.length > 1 ? args[1] : "memory";
        if (!List.of("memory", "disk").contains(replicaStore)) {
            throw new IllegalArgumentException("the replica store is memory or disk, not " + replicaStore);
        }
        List<Workload> workloads = List.of(
                new Workload("persistent-1x1", 1, 1, (int) (5_000 * scale), 1024, true, 0),
                new Workload("persistent-8x8", 8, 8, (int) (40_000 * scale), 1024, true, 0));
        Path dir = Files.createTempDirectory("tern-replication-bench");
        String cluster = "bench-" + FreePorts.freeUdp();
        Map<String, String> stack = Map.of("mcast_port", Integer.toString(FreePorts.freeUdp()),
                "mcast_addr", FreePorts.multicastGroup(209), "bind_addr", "127.0.0.1", "ip_ttl", "0");
        List<AutoCloseable> open = new ArrayList<>();
        try {
            TernServer alone = TernServer.start(config("alone", dir));
            open.add(alone);
            ReplicatingStore[] primaryStore = new ReplicatingStore[1];
            TernServer primary = replicated("primary", dir, cluster, stack, open, primaryStore, null);
            replicated("backup", dir, cluster, stack, open, new ReplicatingStore[1],
                    "disk".equals(replicaStore) ? dir.resolve("backup-replicas") : null);
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (primaryStore[0].backups().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50); // polls until the primary replicates to the backup
            }
            if (primaryStore[0].backups().isEmpty()) {
                throw new IllegalStateException("the two nodes did not form a cluster within 30 s");
            }
            ConnectionFactory aloneCf = new TernConnectionFactory(alone.url());
            ConnectionFactory primaryCf = new TernConnectionFactory(primary.url());
            System.out.println("k=1 synchronous replication over the udp stack on loopback, replica in " + replicaStore
                    + "; median of 3 after a warm-up");
            for (Workload w : workloads) {
                w.run(aloneCf, "warm-" + w.name());
                w.run(primaryCf, "warm-" + w.name());
                double[] a = new double[3];
                double[] r = new double[3];
                for (int i = 0; i < 3; i++) {
                    a[i] = w.run(aloneCf, w.name());
                    r[i] = w.run(primaryCf, w.name());
                }
                Arrays.sort(a);
                Arrays.sort(r);
                System.out.printf("runs workload=%s alone=%s replicated=%s%n", w.name(), Arrays.toString(round(a)),
                        Arrays.toString(round(r)));
                System.out.printf("RESULT workload=%s alone=%.0f replicated=%.0f cost=%.1f%%%n", w.name(), a[1], r[1],
                        (1 - r[1] / a[1]) * 100);
            }
        } finally {
            for (int i = open.size() - 1; i >= 0; i--) {
                open.get(i).close();
            }
        }
    }

    private static BrokerConfig config(String name, Path dir) {
        return BrokerConfig.builder().name(name).dataDir(dir.resolve(name)).port(FreePorts.free()).bindAddress("127.0.0.1").build();
    }

    private static TernServer replicated(String name, Path dir, String cluster, Map<String, String> stack,
                                         List<AutoCloseable> open, ReplicatingStore[] store, Path replicaDir)
            throws Exception {
        TernServer server = TernServer.start(config(name, dir), s -> store[0] = new ReplicatingStore(s, replicaDir));
        open.add(server);
        // Joined as tern server joins a node (the one assembler): it serves once it has checked it was not taken over.
        open.add(io.tern.cluster.ClusteredNode.join(server.broker(), store[0],
                new ClusterNode.Config(cluster, "udp", stack, new RingFailoverPolicy(1), false),
                new NodeInfo(server.broker().nodeId(), name, "machine-" + name, List.of(server.url()), ""),
                io.tern.cluster.ClusteredNode.Settings.defaults(dir.resolve(name).resolve("takeovers"))));
        return server;
    }

    private static long[] round(double[] values) {
        return Arrays.stream(values).mapToLong(Math::round).toArray();
    }
}
