package io.tern.bench;

import io.tern.client.TernConnectionFactory;
import io.tern.discovery.FreePorts;
import io.tern.server.ServerProcess;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Clustered queues, measured as users run Tern: three server processes with their defaults
 * (replication on), clients in this JVM.
 * <ul>
 *   <li><b>Stranded message</b>: 1,000 persistent messages wait on node A with no consumer; a consumer
 *       appears on node B. The time from its creation to its first message, and to its last.</li>
 *   <li><b>Cross-node against same-node</b>: persistent, 1 KiB bodies, {@code clients} producers on
 *       node A and {@code clients} consumers either on A too or on B; messages per second from the
 *       first send to the last receive.</li>
 * </ul>
 * Each figure is the median of {@code rounds} (default 3), after a warm-up of both paths (the
 * cross-node one has code of its own to compile: without its warm-up the first round's cross-node
 * figure was always the lowest). Same-node and cross-node run back to back in each round, so the
 * ratio is also given per round, and its median: this machine's speed drifts between rounds.
 */
public final class ClusteredQueuesBench {
    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int messages = args.length > 1 ? Integer.parseInt(args[1]) : 8000;
        int clients = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        Path dir = Files.createTempDirectory("tern-cq-bench");
        int clusterPort = FreePorts.freeUdp();
        String address = FreePorts.multicastGroup(211);
        List<ServerProcess> nodes = new ArrayList<>();
        try {
            for (int i = 1; i <= 3; i++) {
                nodes.add(new ServerProcess("cqb-" + i, FreePorts.free(), dir.resolve("cqb-" + i), dir.resolve("cqb-" + i + ".log"),
                        serverArgs("--cluster", "cqb-" + clusterPort, "--cluster-port", Integer.toString(clusterPort),
                        "--cluster-address", address, "--discovery-port", "0", "--machine-id", "m" + i, "--clustered-queues")).start());
            }
            for (ServerProcess n : nodes) {
                if (!n.awaitListening(60_000) || !ServerProcess.awaitClusterMembers(new TernConnectionFactory(n.url()), 3, 60_000)) {
                    throw new IllegalStateException("the cluster did not form; see " + dir);
                }
            }
            ServerProcess a = nodes.get(0);
            ServerProcess b = nodes.get(1);
            double[] first = new double[rounds];
            double[] all = new double[rounds];
            double[] same = new double[rounds];
            double[] cross = new double[rounds];
            double[] ratio = new double[rounds];
            CpuTicks sameCpu = new CpuTicks(nodes);
            CpuTicks crossCpu = new CpuTicks(nodes);
            stranded(a, b, "warm-up-stranded", 1000);
            throughput(a, a, "warm-up", messages / 2, clients);
            throughput(a, b, "warm-up-cross", messages / 2, clients);
            for (int r = 0; r < rounds; r++) {
                double[] s = stranded(a, b, "stranded-" + r, 1000);
                first[r] = s[0];
                all[r] = s[1];
                sameCpu.start();
                same[r] = throughput(a, a, "same-" + r, messages, clients);
                sameCpu.stop(messages);
                crossCpu.start();
                cross[r] = throughput(a, b, "cross-" + r, messages, clients);
                crossCpu.stop(messages);
                ratio[r] = cross[r] / same[r];
                System.out.printf("round %d: stranded first %.1f ms, all 1000 %.1f ms; %d/%d same node %.0f msg/s, "
                        + "cross-node %.0f msg/s (%.0f%%)%n", r + 1, first[r], all[r], clients, clients, same[r], cross[r],
                        100 * ratio[r]);
            }
            System.out.printf("median of %d: stranded message reaches a new consumer on another node in %.1f ms "
                            + "(all 1000 in %.1f ms); persistent %d/%d: same node %.0f msg/s, cross-node %.0f msg/s (%.0f%%; "
                            + "median of the rounds' ratios %.0f%%)%n",
                    rounds, median(first), median(all), clients, clients, median(same), median(cross),
                    100 * median(cross) / median(same), 100 * median(ratio));
            System.out.printf("CPU per 1,000 messages (ms of user and system time; nodes A, B, C, then the clients' JVM): "
                    + "same node %s, cross-node %s%n", sameCpu, crossCpu);
        } finally {
            for (ServerProcess n : nodes) {
                n.stop(); // SIGTERM: a profiler given in TERN_BENCH_SERVER_OPTS writes its output at exit
            }
        }
    }

    /**
     * The CPU time each server process and this JVM (the clients) spent over the measured rounds of
     * one path, from {@code /proc/<pid>/stat}: on two cores the throughput follows the work, so this
     * says where a path's extra work lies. Empty on systems without {@code /proc}.
     */
    private static final class CpuTicks {
        private final List<Long> pids = new ArrayList<>();
        private final long[] total;
        private long[] atStart;
        private long messages;

        CpuTicks(List<ServerProcess> nodes) {
            nodes.forEach(n -> pids.add(n.pid()));
            pids.add(ProcessHandle.current().pid());
            total = new long[pids.size()];
        }

        void start() {
            atStart = read();
        }

        void stop(int measured) {
            long[] now = read();
            for (int i = 0; i < total.length; i++) {
                total[i] += now[i] - atStart[i];
            }
            messages += measured;
        }

        private long[] read() {
            long[] ticks = new long[pids.size()];
            for (int i = 0; i < ticks.length; i++) {
                try {
                    String stat = Files.readString(Path.of("/proc", Long.toString(pids.get(i)), "stat"));
                    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    ticks[i] = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                } catch (java.io.IOException | RuntimeException e) {
                    ticks[i] = 0;
                }
            }
            return ticks;
        }

        /** Milliseconds per 1,000 messages, at the usual 100 ticks a second. */
        @Override
        public String toString() {
            if (messages == 0) {
                return "-";
            }
            StringBuilder out = new StringBuilder();
            long sum = 0;
            for (long t : total) {
                out.append(out.length() == 0 ? "" : " / ").append(t * 10 * 1000 / messages);
                sum += t;
            }
            return out.append(" = ").append(sum * 10 * 1000 / messages).toString();
        }
    }

    /** {@code args}, then what the environment adds ({@link BenchServerOptions}). */
    private static String[] serverArgs(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(BenchServerOptions.fromEnvironment());
        return all.toArray(String[]::new);
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v[v.length / 2];
    }

    private static TernConnectionFactory factory(ServerProcess n) {
        return new TernConnectionFactory(n.url() + "?failover=false");
    }

    /** Milliseconds from a consumer's creation on {@code on} to its first and its last of {@code count} messages stranded on {@code at}. */
    private static double[] stranded(ServerProcess at, ServerProcess on, String queue, int count) throws Exception {
        try (Connection p = factory(at).createConnection(); Connection c = factory(on).createConnection()) {
            Session ps = p.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = ps.createProducer(ps.createQueue(queue));
            producer.setDeliveryMode(DeliveryMode.PERSISTENT);
            for (int i = 0; i < count; i++) {
                producer.send(ps.createTextMessage("stranded " + i));
            }
            c.start();
            Session cs = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            long startNs = System.nanoTime();
            MessageConsumer consumer = cs.createConsumer(cs.createQueue(queue));
            long firstNs = 0;
            for (int i = 0; i < count; i++) {
                if (consumer.receive(30_000) == null) {
                    throw new IllegalStateException("message " + i + " of " + queue + " did not come");
                }
                if (i == 0) {
                    firstNs = System.nanoTime();
                }
            }
            long lastNs = System.nanoTime();
            return new double[] {(firstNs - startNs) / 1e6, (lastNs - startNs) / 1e6};
        }
    }

    /** Messages per second with {@code clients} producers on {@code from} and as many consumers on {@code to}. */
    private static double throughput(ServerProcess from, ServerProcess to, String queue, int messages, int clients) throws Exception {
        byte[] body = new byte[1024];
        AtomicInteger received = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(1);
        try (Connection p = factory(from).createConnection(); Connection c = factory(to).createConnection()) {
            for (int i = 0; i < clients; i++) {
                Session cs = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                cs.createConsumer(cs.createQueue(queue)).setMessageListener(m -> {
                    if (received.incrementAndGet() == messages) {
                        done.countDown();
                    }
                });
            }
            c.start();
            long startNs = System.nanoTime();
            List<Thread> producers = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int share = messages / clients + (i < messages % clients ? 1 : 0);
                Thread t = new Thread(() -> {
                    try {
                        Session ps = p.createSession(false, Session.AUTO_ACKNOWLEDGE);
                        MessageProducer producer = ps.createProducer(ps.createQueue(queue));
                        producer.setDeliveryMode(DeliveryMode.PERSISTENT);
                        for (int k = 0; k < share; k++) {
                            jakarta.jms.BytesMessage m = ps.createBytesMessage();
                            m.writeBytes(body);
                            producer.send(m);
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, "bench-producer-" + i);
                producers.add(t);
                t.start();
            }
            for (Thread t : producers) {
                t.join();
            }
            if (!done.await(120, TimeUnit.SECONDS)) {
                throw new IllegalStateException("only " + received.get() + " of " + messages + " messages of " + queue + " came");
            }
            return messages / ((System.nanoTime() - startNs) / 1e9);
        }
    }
}
