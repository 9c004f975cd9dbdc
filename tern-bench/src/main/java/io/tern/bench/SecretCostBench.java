package io.tern.bench;

import io.tern.client.TernConnectionFactory;
import io.tern.server.ServerProcess;
import jakarta.jms.ConnectionFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the cluster secret costs replication: two clusters of three Tern nodes (each a process, with
 * replication as by default), one without a secret and one with {@code --cluster-secret-file}, whose
 * every replication batch is serialized, signed and encrypted. The clients in this JVM, connected to
 * one node of each. Usage: {@code bin/tern-bench secret [scale]}; a warm-up on each cluster, then three
 * rounds in alternating order ({@link CompareBench#rounds}); medians.
 */
public final class SecretCostBench {
    public static void main(String[] args) throws Exception {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "logback-bench.xml");
        }
        double scale = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        List<Workload> workloads = List.of(
                new Workload("replicated-persistent-1x1", 1, 1, (int) (5_000 * scale), 1024, true, 0),
                new Workload("replicated-persistent-8x8", 8, 8, (int) (40_000 * scale), 1024, true, 0),
                new Workload("replicated-persistent-1x1-64KiB", 1, 1, (int) (2_000 * scale), 64 * 1024, true, 0));
        Path dir = Files.createTempDirectory("tern-secret-bench");
        Path secret = Files.writeString(dir.resolve("cluster.secret"), "the secret of this benchmark run, 40 bytes");
        System.out.printf("cluster secret cost: two clusters of 3 Tern nodes with replication, each node a process; logs in %s%n", dir);
        List<ServerProcess> plain = List.of();
        List<ServerProcess> secured = List.of();
        try {
            plain = TernCluster.start(dir, "plain", 214);
            secured = TernCluster.start(dir, "secret", 215, "--cluster-secret-file", secret.toString());
            ConnectionFactory p = new TernConnectionFactory(plain.get(0).url());
            ConnectionFactory s = new TernConnectionFactory(secured.get(0).url());
            List<String[]> rows = new ArrayList<>();
            for (Workload w : workloads) {
                double[][] r = CompareBench.rounds(w, p, s);
                double[] a = r[0];
                double[] b = r[1];
                double pm = CompareBench.median(a);
                double sm = CompareBench.median(b);
                System.out.printf("runs workload=%s plain=%s secret=%s%n", w.name(), java.util.Arrays.toString(CompareBench.round(a)),
                        java.util.Arrays.toString(CompareBench.round(b)));
                System.out.printf("RESULT workload=%s plain=%.0f secret=%.0f secret/plain=%.2f%n", w.name(), pm, sm, sm / pm);
                rows.add(new String[]{w.name(), String.format("%.0f", pm), String.format("%.0f", sm), String.format("%.2f", sm / pm)});
            }
            System.out.println();
            System.out.printf("%-32s %10s %10s %13s%n", "workload", "plain", "secret", "secret/plain");
            for (String[] r : rows) {
                System.out.printf("%-32s %10s %10s %13s%n", (Object[]) r);
            }
        } finally {
            TernCluster.close(secured);
            TernCluster.close(plain);
        }
    }
}
