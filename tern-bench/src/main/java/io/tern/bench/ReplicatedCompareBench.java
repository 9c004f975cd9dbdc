package io.tern.bench;

import io.tern.client.TernConnectionFactory;
import io.tern.server.ServerProcess;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Replicated persistent messaging, each broker as users run it with replication: three {@code tern
 * server} processes of one cluster with their defaults (replication on: each node's commits wait for
 * its failover node) against an Artemis primary and backup with a replicated journal
 * ({@link ArtemisServer#startPair}), each a process of its own; the clients in this JVM, connected to
 * one Tern node and to the Artemis primary. Workloads persistent 1/1 and 8/8, 1 KiB, as
 * {@link CompareBench} runs them. Usage: {@code bin/tern-bench replicated [scale]}.
 */
public final class ReplicatedCompareBench {
    public static void main(String[] args) throws Exception {
        double scale = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        List<Workload> workloads = List.of(
                new Workload("replicated-persistent-1x1", 1, 1, (int) (5_000 * scale), 1024, true, 0),
                new Workload("replicated-persistent-8x8", 8, 8, (int) (40_000 * scale), 1024, true, 0));
        Path dir = Files.createTempDirectory("tern-replicated-bench");
        System.out.printf("replicated: 3 Tern nodes against an Artemis primary and backup, each a process of its own; "
                + "fsync rate %.0f/s; logs in %s%n", CompareBench.fsyncRate(dir), dir);
        List<ServerProcess> nodes = List.of();
        List<ArtemisServer> pair = List.of();
        try {
            nodes = TernCluster.start(dir, "rb", 213);
            pair = ArtemisServer.startPair(dir.resolve("artemis"), dir);
            List<String[]> rows = CompareBench.throughput(workloads, new TernConnectionFactory(nodes.get(0).url()),
                    new ActiveMQConnectionFactory(pair.get(0).url()));
            CompareBench.table(rows);
        } finally {
            for (ArtemisServer a : pair) {
                a.close();
            }
            TernCluster.close(nodes);
        }
    }
}
