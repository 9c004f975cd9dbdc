package io.tern.bench;

import io.tern.client.TernConnectionFactory;
import io.tern.server.EmbeddedTern;
import io.tern.discovery.FreePorts;
import jakarta.jms.ConnectionFactory;
import org.apache.activemq.artemis.core.config.Configuration;
import org.apache.activemq.artemis.core.config.impl.ConfigurationImpl;
import org.apache.activemq.artemis.core.server.JournalType;
import org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Tern against Apache ActiveMQ Artemis, same workloads, same JVM, same machine, same run.
 * Usage: {@code CompareBench [scale [workload]]}: scale (default 1.0) multiplies the message counts;
 * workload, if given, runs only the workloads whose name contains it.
 *
 * <p>Artemis runs as shipped for a durable broker: NIO journal, persistence on, a TCP acceptor on
 * loopback, its JMS client with default settings. Tern runs its RocksDB store with group commit.
 */
public final class CompareBench {

    public static void main(String[] args) throws Exception {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "logback-bench.xml");
        }
        double scale = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        String only = args.length > 1 ? args[1] : "";
        List<Workload> workloads = java.util.stream.Stream.of(
                new Workload("nonpersistent-1x1", 1, 1, (int) (200_000 * scale), 1024, false, 0),
                new Workload("persistent-1x1", 1, 1, (int) (5_000 * scale), 1024, true, 0),
                new Workload("persistent-8x8", 8, 8, (int) (40_000 * scale), 1024, true, 0),
                new Workload("transacted-100", 1, 1, (int) (50_000 * scale), 1024, true, 100))
                .filter(w -> w.name().contains(only)).toList();
        Path dir = Files.createTempDirectory("tern-bench");
        double fsyncs = fsyncRate(dir);
        System.out.printf("machine: %d cores, %d MiB max heap, %s %s; fsync rate in %s: %.0f/s%n",
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20,
                System.getProperty("java.vm.name"), System.getProperty("java.version"), dir, fsyncs);
        List<String[]> rows = new ArrayList<>();
        try (EmbeddedTern tern = EmbeddedTern.start(b -> b.dataDir(dir.resolve("tern")))) {
            EmbeddedActiveMQ artemis = startArtemis(dir.resolve("artemis"));
            try {
                ConnectionFactory ternCf = new TernConnectionFactory(tern.url());
                ConnectionFactory artemisCf = new ActiveMQConnectionFactory(artemisUrl);
                for (Workload w : workloads) {
                    // JIT warm-up: one full-size run on each broker, then three measured runs each, in
                    // alternating order; the median is reported, every run is printed.
                    w.run(ternCf, "warm-" + w.name());
                    w.run(artemisCf, "warm-" + w.name());
                    double[] t = new double[RUNS];
                    double[] a = new double[RUNS];
                    for (int i = 0; i < RUNS; i++) {
                        if (i % 2 == 0) {
                            t[i] = w.run(ternCf, w.name());
                            a[i] = w.run(artemisCf, w.name());
                        } else {
                            a[i] = w.run(artemisCf, w.name());
                            t[i] = w.run(ternCf, w.name());
                        }
                    }
                    double tm = median(t);
                    double am = median(a);
                    rows.add(new String[] {w.name(), String.format("%.0f", tm), String.format("%.0f", am), String.format("%.2f", tm / am)});
                    System.out.printf("runs workload=%s tern=%s artemis=%s%n", w.name(), java.util.Arrays.toString(round(t)),
                            java.util.Arrays.toString(round(a)));
                    System.out.printf("RESULT workload=%s tern=%.0f artemis=%.0f ratio=%.2f%n", w.name(), tm, am, tm / am);
                }
            } finally {
                artemis.stop();
            }
        }
        System.out.println();
        System.out.printf("%-20s %12s %12s %8s%n", "workload (msg/s)", "tern", "artemis", "ratio");
        for (String[] r : rows) {
            System.out.printf("%-20s %12s %12s %8s%n", (Object[]) r);
        }
        System.out.printf("fsync rate of the disk: %.0f/s (the ceiling of one synchronous persistent producer)%n", fsyncs);
    }

    private static final int RUNS = 3;
    private static String artemisUrl;

    private static double median(double[] values) {
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static long[] round(double[] values) {
        return java.util.Arrays.stream(values).mapToLong(Math::round).toArray();
    }

    private static EmbeddedActiveMQ startArtemis(Path dir) throws Exception {
        int port = FreePorts.free();
        artemisUrl = "tcp://127.0.0.1:" + port;
        Configuration config = new ConfigurationImpl()
                .setPersistenceEnabled(true)
                .setJournalType(JournalType.NIO)
                .setJournalDirectory(dir.resolve("journal").toString())
                .setBindingsDirectory(dir.resolve("bindings").toString())
                .setLargeMessagesDirectory(dir.resolve("large").toString())
                .setPagingDirectory(dir.resolve("paging").toString())
                .setSecurityEnabled(false)
                .addAcceptorConfiguration("tcp", artemisUrl);
        EmbeddedActiveMQ server = new EmbeddedActiveMQ().setConfiguration(config);
        server.start();
        return server;
    }

    /** Synced 4 KiB writes per second on the benchmark's disk, over about two seconds. */
    static double fsyncRate(Path dir) throws IOException {
        Path file = dir.resolve("fsync-probe");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw"); FileChannel ch = raf.getChannel()) {
            ByteBuffer block = ByteBuffer.allocate(4096);
            long start = System.nanoTime();
            int n = 0;
            while (System.nanoTime() - start < 2_000_000_000L) {
                block.clear();
                ch.write(block, (long) (n % 256) * 4096);
                ch.force(false);
                n++;
            }
            return n / ((System.nanoTime() - start) / 1e9);
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
