package io.tern.bench;

import io.tern.client.TernConnectionFactory;
import io.tern.discovery.FreePorts;
import io.tern.server.ServerProcess;
import jakarta.jms.BytesMessage;
import jakarta.jms.Connection;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A queue deeper than the server's memory, as users run Tern: one server process with its defaults (but
 * {@code --no-replication}, a node alone) and a heap of {@code heapMiB}, clients in this JVM. Fills one
 * queue with {@code messages} persistent messages of {@code bodyBytes} and no consumer, restarts the
 * server (time from start to serving, with the store that deep), then drains the queue. Prints
 * throughput of each phase and the server's peak resident memory (VmHWM) in each of its two lives.
 *
 * <p>{@code bin/tern-bench paging [messages [bodyBytes [heapMiB [clients]]]]}: by default 32,768
 * messages of 64 KiB (2 GiB) into a 512 MiB heap, 4 producers and 4 consumers. For the restart with a
 * million stored messages: {@code bin/tern-bench paging 1000000 100}.
 *
 * <p>{@code bin/tern-bench paging replicated [messages [bodyBytes [heapMiB [clients]]]]}: the same queue
 * on three nodes with replication (the default), each with that heap: filled through the first node
 * (its backup pages the replica to its disk), drained through the second (clustered queues move the
 * messages across); no restart. Prints throughput and each node's peak resident memory.
 */
public final class PagingBench {
    public static void main(String[] args) throws Exception {
        boolean replicated = args.length > 0 && args[0].equals("replicated");
        if (replicated) {
            args = java.util.Arrays.copyOfRange(args, 1, args.length);
        }
        int messages = args.length > 0 ? Integer.parseInt(args[0]) : 32_768;
        int body = args.length > 1 ? Integer.parseInt(args[1]) : 64 * 1024;
        int heapMiB = args.length > 2 ? Integer.parseInt(args[2]) : 512;
        int clients = args.length > 3 ? Integer.parseInt(args[3]) : 4;
        Path dir = Files.createTempDirectory("tern-paging-bench");
        if (replicated) {
            replicated(dir, messages, body, heapMiB, clients);
            return;
        }
        int port = FreePorts.free();
        System.out.printf("paging: %,d persistent messages of %,d bytes (%,d MiB) into a server with a %d MiB heap, %d clients%n",
                messages, body, (long) messages * body >> 20, heapMiB, clients);
        ServerProcess server = start(port, dir, "paging-1.log", heapMiB);
        try {
            long t0 = System.nanoTime();
            run(clients, i -> fill(server, "deep", messages, body, clients, i));
            double fillS = (System.nanoTime() - t0) / 1e9;
            long rss1 = peakRssKiB(server.pid());
            System.out.printf("fill:    %,.0f msg/s, %,.1f MiB/s (%.1f s); server peak RSS %,d MiB%n",
                    messages / fillS, (double) messages * body / fillS / (1 << 20), fillS, rss1 >> 10);
            server.stop();
        } finally {
            server.close();
        }
        long t1 = System.nanoTime();
        ServerProcess again = start(port, dir, "paging-2.log", heapMiB);
        try {
            double restartS = (System.nanoTime() - t1) / 1e9;
            String recovered = Files.readAllLines(dir.resolve("paging-2.log")).stream()
                    .filter(l -> l.contains("Recovered ")).findFirst().orElse("(no recovery line)");
            System.out.printf("restart: %.2f s from start to serving, %,d MiB peak RSS so far; %s%n", restartS,
                    peakRssKiB(again.pid()) >> 10, recovered.substring(recovered.indexOf("Recovered")));
            long t2 = System.nanoTime();
            AtomicInteger received = new AtomicInteger();
            run(clients, i -> drain(again, "deep", messages, received));
            double drainS = (System.nanoTime() - t2) / 1e9;
            if (received.get() != messages) {
                throw new IllegalStateException("drained " + received.get() + " of " + messages + "; see " + dir);
            }
            System.out.printf("drain:   %,.0f msg/s, %,.1f MiB/s (%.1f s); server peak RSS %,d MiB%n",
                    messages / drainS, (double) messages * body / drainS / (1 << 20), drainS, peakRssKiB(again.pid()) >> 10);
        } finally {
            again.close();
        }
    }

    /** Three replicated nodes: fill through the first, drain through the second; each node's peak RSS. */
    private static void replicated(Path dir, int messages, int body, int heapMiB, int clients) throws Exception {
        System.out.printf("paging, replicated: %,d persistent messages of %,d bytes (%,d MiB) through one of three nodes with "
                + "replication, %d MiB heap each, %d clients; drained through another node%n",
                messages, body, (long) messages * body >> 20, heapMiB, clients);
        List<ServerProcess> nodes = TernCluster.start(dir, "paging", 218, "-J-Xmx" + heapMiB + "m");
        try {
            long t0 = System.nanoTime();
            run(clients, i -> fill(nodes.get(0), "deep", messages, body, clients, i));
            double fillS = (System.nanoTime() - t0) / 1e9;
            System.out.printf("fill:    %,.0f msg/s, %,.1f MiB/s (%.1f s); peak RSS of the nodes %s MiB%n",
                    messages / fillS, (double) messages * body / fillS / (1 << 20), fillS, peakRss(nodes));
            long t1 = System.nanoTime();
            AtomicInteger received = new AtomicInteger();
            run(clients, i -> drain(nodes.get(1), "deep", messages, received));
            double drainS = (System.nanoTime() - t1) / 1e9;
            if (received.get() != messages) {
                throw new IllegalStateException("drained " + received.get() + " of " + messages + "; see " + dir);
            }
            System.out.printf("drain:   %,.0f msg/s, %,.1f MiB/s (%.1f s), through another node; peak RSS of the nodes %s MiB%n",
                    messages / drainS, (double) messages * body / drainS / (1 << 20), drainS, peakRss(nodes));
            for (ServerProcess n : nodes) {
                if (Files.readString(n.log()).contains("OutOfMemoryError")) {
                    throw new IllegalStateException(n.log() + " has an OutOfMemoryError");
                }
            }
        } finally {
            TernCluster.close(nodes);
        }
    }

    private static List<Long> peakRss(List<ServerProcess> nodes) {
        return nodes.stream().map(n -> peakRssKiB(n.pid()) >> 10).toList();
    }

    private interface Task {
        void run(int client) throws Exception;
    }

    private static void run(int clients, Task task) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            int client = i;
            Thread t = new Thread(() -> {
                try {
                    task.run(client);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("a client failed: " + failure.get(), failure.get());
        }
    }

    private static void fill(ServerProcess server, String queue, int messages, int body, int clients, int client)
            throws Exception {
        try (Connection c = new TernConnectionFactory(server.url()).createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue(queue));
            byte[] bytes = new byte[body];
            for (int i = client; i < messages; i += clients) {
                BytesMessage m = s.createBytesMessage();
                m.writeBytes(bytes);
                p.send(m);
            }
        }
    }

    /** Takes messages until all {@code messages} are taken (by any consumer), or none came for 30 s. */
    private static void drain(ServerProcess server, String queue, int messages, AtomicInteger received) throws Exception {
        try (Connection c = new TernConnectionFactory(server.url() + "?prefetch=100").createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = s.createConsumer(s.createQueue(queue));
            long lastNs = System.nanoTime();
            while (received.get() < messages && System.nanoTime() - lastNs < 30_000_000_000L) {
                if (consumer.receive(200) != null) {
                    received.incrementAndGet();
                    lastNs = System.nanoTime();
                }
            }
        }
    }

    private static ServerProcess start(int port, Path dir, String log, int heapMiB) throws Exception {
        ServerProcess s = new ServerProcess("paging", port, dir.resolve("data"), dir.resolve(log), "-J-Xmx" + heapMiB + "m",
                "--discovery-port", "0", "--no-replication").start(); // paging is off while backups hold replicas in memory
        if (!s.awaitListening(300_000)) {
            throw new IllegalStateException("the server did not start; see " + dir.resolve(log));
        }
        return s;
    }

    /** The process's peak resident set (VmHWM), KiB; -1 where /proc does not tell. */
    private static long peakRssKiB(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
