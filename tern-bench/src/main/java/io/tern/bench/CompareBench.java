package io.tern.bench;

import io.tern.client.TernConnectionFactory;
import io.tern.server.EmbeddedTern;
import io.tern.discovery.FreePorts;
import io.tern.server.ServerProcess;
import jakarta.jms.ConnectionFactory;
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
 * Tern against Apache ActiveMQ Artemis, same workloads, same JMS code, same machine, same run.
 * Usage: {@code CompareBench [embedded] [scale [workload]]}: scale (default 1.0) multiplies the message
 * counts; workload, if given, runs only the workloads whose name contains it.
 *
 * <p>By default each broker runs as users run it, a server process of its own with its defaults
 * (Tern through {@code tern server}, with the JVM's default heap as {@code bin/tern} leaves it;
 * Artemis as {@link ArtemisServer}: NIO journal, persistence on, the heap {@code artemis create}
 * gives it), and the clients run in this JVM. With {@code embedded}, both brokers run inside this JVM
 * instead (the figures of earlier runs). Artemis's JMS client runs with its default settings.
 */
public final class CompareBench {

    public static void main(String[] args) throws Exception {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "logback-bench.xml");
        }
        boolean embedded = args.length > 0 && args[0].equals("embedded");
        if (embedded) {
            args = java.util.Arrays.copyOfRange(args, 1, args.length);
        }
        double scale = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        String only = args.length > 1 ? args[1] : "";
        List<Workload> workloads = java.util.stream.Stream.of(
                new Workload("nonpersistent-1x1", 1, 1, (int) (200_000 * scale), 1024, false, 0),
                new Workload("persistent-1x1", 1, 1, (int) (5_000 * scale), 1024, true, 0),
                new Workload("persistent-8x8", 8, 8, (int) (40_000 * scale), 1024, true, 0),
                new Workload("transacted-100", 1, 1, (int) (50_000 * scale), 1024, true, 100),
                new Workload("persistent-64x64", 64, 64, (int) (64_000 * scale), 1024, true, 0),
                new Workload("persistent-1x1-100B", 1, 1, (int) (5_000 * scale), 100, true, 0),
                new Workload("persistent-1x1-64KiB", 1, 1, (int) (2_000 * scale), 64 * 1024, true, 0))
                .filter(w -> w.name().contains(only)).toList();
        Path dir = Files.createTempDirectory("tern-bench");
        double fsyncs = fsyncRate(dir);
        double idleSync = syncAfterIdleMicros(dir, 1);
        System.out.printf("machine: %d cores, %d MiB max heap, %s %s; fsync rate in %s: %.0f/s; brokers %s%n",
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20,
                System.getProperty("java.vm.name"), System.getProperty("java.version"), dir, fsyncs,
                embedded ? "embedded in this JVM" : "each a server process of its own, clients in this JVM");
        List<String[]> rows = new ArrayList<>();
        List<String[]> latencyRows = List.of();
        try (Brokers brokers = embedded ? Brokers.embedded(dir) : Brokers.processes(dir)) {
            {
                ConnectionFactory ternCf = new TernConnectionFactory(brokers.ternUrl());
                ConnectionFactory artemisCf = new ActiveMQConnectionFactory(brokers.artemisUrl());
                rows.addAll(throughput(workloads, ternCf, artemisCf));
                SendLatency latency = new SendLatency("latency-200", 200, (int) Math.max(2, 20 * scale), 1024);
                if (latency.name().contains(only)) {
                    latencyRows = latency(latency, ternCf, artemisCf);
                }
            }
        }
        rows.addAll(latencyRows);
        table(rows);
        System.out.printf("fsync rate of the disk: %.0f/s back to back (the ceiling of one synchronous persistent producer); "
                + "a sync after 1 ms idle: %.0f us median%n", fsyncs, idleSync);
    }

    private static final int RUNS = 3;

    /**
     * Each workload on both brokers: a JIT warm-up run at full size on each, then three measured runs
     * each, in alternating order; prints every run and returns a row per workload with the medians
     * (name, Tern, Artemis, ratio).
     */
    static List<String[]> throughput(List<Workload> workloads, ConnectionFactory ternCf, ConnectionFactory artemisCf)
            throws Exception {
        List<String[]> rows = new ArrayList<>();
        for (Workload w : workloads) {
            double[][] runs = rounds(w, ternCf, artemisCf);
            double[] t = runs[0];
            double[] a = runs[1];
            double tm = median(t);
            double am = median(a);
            rows.add(new String[] {w.name(), String.format("%.0f", tm), String.format("%.0f", am), String.format("%.2f", tm / am)});
            System.out.printf("runs workload=%s tern=%s artemis=%s%n", w.name(), java.util.Arrays.toString(round(t)),
                    java.util.Arrays.toString(round(a)));
            System.out.printf("RESULT workload=%s tern=%.0f artemis=%.0f ratio=%.2f%n", w.name(), tm, am, tm / am);
        }
        return rows;
    }

    /**
     * {@code w} on each broker: a JIT warm-up run at full size on each, then {@value #RUNS} measured
     * rounds, each starting with the next broker in turn (so none always runs first); the rates, per
     * broker in the order given.
     */
    static double[][] rounds(Workload w, ConnectionFactory... brokers) throws Exception {
        for (ConnectionFactory cf : brokers) {
            w.run(cf, "warm-" + w.name());
        }
        double[][] r = new double[brokers.length][RUNS];
        for (int round = 0; round < RUNS; round++) {
            for (int k = 0; k < brokers.length; k++) {
                int b = (k + round) % brokers.length;
                r[b][round] = w.run(brokers[b], w.name());
            }
        }
        return r;
    }

    /** The table at the end of a run, for people. */
    static void table(List<String[]> rows) {
        System.out.println();
        System.out.printf("%-22s %12s %12s %8s%n", "workload", "tern", "artemis", "ratio");
        for (String[] r : rows) {
            System.out.printf("%-22s %12s %12s %8s%n", (Object[]) r);
        }
    }

    /**
     * Persistent sends at 200 a second, 1 KiB: p50, p99 and p99.9 of their latency in microseconds on
     * each broker, after a warm-up; the median of three runs of each, alternating which goes first.
     */
    private static List<String[]> latency(SendLatency w, ConnectionFactory ternCf, ConnectionFactory artemisCf) throws Exception {
        w.run(ternCf, "warm-" + w.name());
        w.run(artemisCf, "warm-" + w.name());
        double[] percentiles = {50, 99, 99.9};
        double[][] t = new double[percentiles.length][RUNS];
        double[][] a = new double[percentiles.length][RUNS];
        for (int i = 0; i < RUNS; i++) {
            org.HdrHistogram.Histogram ht;
            org.HdrHistogram.Histogram ha;
            if (i % 2 == 0) {
                ht = w.run(ternCf, w.name());
                ha = w.run(artemisCf, w.name());
            } else {
                ha = w.run(artemisCf, w.name());
                ht = w.run(ternCf, w.name());
            }
            for (int p = 0; p < percentiles.length; p++) {
                t[p][i] = ht.getValueAtPercentile(percentiles[p]);
                a[p][i] = ha.getValueAtPercentile(percentiles[p]);
            }
        }
        List<String[]> rows = new ArrayList<>();
        for (int p = 0; p < percentiles.length; p++) {
            String label = w.name() + " p" + (percentiles[p] == 99.9 ? "99.9" : String.valueOf((int) percentiles[p])) + " us";
            double tm = median(t[p]);
            double am = median(a[p]);
            System.out.printf("runs workload=%s tern=%s artemis=%s%n", label, java.util.Arrays.toString(round(t[p])),
                    java.util.Arrays.toString(round(a[p])));
            System.out.printf("RESULT workload=%s tern=%.0f artemis=%.0f ratio=%.2f%n", label.replace(' ', '_'), tm, am, tm / am);
            rows.add(new String[] {label, String.format("%.0f", tm), String.format("%.0f", am), String.format("%.2f", tm / am)});
        }
        return rows;
    }

    /** The two brokers of a run, and what stops them. */
    private record Brokers(String ternUrl, String artemisUrl, AutoCloseable stop) implements AutoCloseable {
        static Brokers embedded(Path dir) throws Exception {
            EmbeddedTern tern = EmbeddedTern.start(b -> b.dataDir(dir.resolve("tern")));
            String artemisUrl = "tcp://127.0.0.1:" + FreePorts.free();
            EmbeddedActiveMQ artemis = startArtemis(dir.resolve("artemis"), artemisUrl);
            return new Brokers(tern.url(), artemisUrl, () -> {
                artemis.stop();
                tern.close();
            });
        }

        static Brokers processes(Path dir) throws Exception {
            // bin/tern sets no heap: the JVM's default, a quarter of the machine's memory.
            List<String> args = new ArrayList<>(List.of("-J-XX:MaxRAMPercentage=25", "--discovery-port", "0"));
            args.addAll(BenchServerOptions.fromEnvironment());
            ServerProcess tern = new ServerProcess("bench", FreePorts.free(), dir.resolve("tern"), dir.resolve("tern.log"),
                    args.toArray(String[]::new)).start();
            if (!tern.awaitListening(60_000)) {
                tern.close();
                throw new IllegalStateException("tern server did not start; see " + dir.resolve("tern.log"));
            }
            ArtemisServer artemis;
            try {
                artemis = ArtemisServer.start(dir.resolve("artemis"), FreePorts.free(), dir.resolve("artemis.log"));
            } catch (Exception e) {
                tern.close();
                throw e;
            }
            return new Brokers(tern.url(), artemis.url(), () -> {
                artemis.close();
                tern.stop(); // SIGTERM, as an operator stops it (and a JFR recording is written on exit)
                tern.close();
            });
        }

        @Override
        public void close() throws Exception {
            stop.close();
        }
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    static long[] round(double[] values) {
        return java.util.Arrays.stream(values).mapToLong(Math::round).toArray();
    }

    private static EmbeddedActiveMQ startArtemis(Path dir, String artemisUrl) throws Exception {
        EmbeddedActiveMQ server = new EmbeddedActiveMQ().setConfiguration(ArtemisServer.config(dir, artemisUrl));
        server.start();
        return server;
    }

    /**
     * Median time of one 4 KiB write and sync that follows {@code idleMs} of idleness, in microseconds.
     * On this machine's virtual disk a sync after a pause costs far more than one right after another
     * (64 us back to back, 430 us after 1 ms, 880 us after 5 ms): a client that waits for each answer
     * (a transaction's commit, a lone synchronous producer) leaves such pauses, so the rate of back-to-back
     * syncs above is a ceiling no request-and-answer workload reaches, on either broker.
     */
    static double syncAfterIdleMicros(Path dir, int idleMs) throws IOException, InterruptedException {
        Path file = dir.resolve("idle-sync-probe");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw"); FileChannel ch = raf.getChannel()) {
            ByteBuffer block = ByteBuffer.allocate(4096);
            long[] micros = new long[200];
            for (int n = 0; n < micros.length; n++) {
                Thread.sleep(idleMs);
                block.clear();
                long t0 = System.nanoTime();
                ch.write(block, (long) (n % 256) * 4096);
                ch.force(false);
                micros[n] = (System.nanoTime() - t0) / 1000;
            }
            java.util.Arrays.sort(micros);
            return micros[micros.length / 2];
        } finally {
            Files.deleteIfExists(file);
        }
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
