package io.tern.bench;

import io.tern.client.TernConnectionFactory;
import io.tern.client.impl.TernConnection;
import io.tern.server.ServerProcess;
import io.tern.discovery.FreePorts;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.JMSException;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The failover gap, per fault of the node a client uses: the longest time its consumer went without
 * a delivery, and the longest time the producer on that node waited for a send to return (issue 11: within the failure-detection time). Three server processes with {@code
 * --replication} and a failure detection of {@value #FD_TIMEOUT_MS} ms on loopback; a producer and a
 * listener on connections of their own, on the same node; the fault hits the producer's node. Each fault kind runs {@code cycles} times (default 5): SIGKILL (then
 * restart), SIGSTOP past failure detection (then SIGCONT), and a SIGSTOP shorter than it; after each,
 * the cluster is whole again before the next.
 */
public final class FailoverGapBench {
    private static final int FD_TIMEOUT_MS = 2000;

    /** The faults, as {@code RepeatedFaultsSystemTest} injects them. */
    enum Fault {
        KILL, PAUSE_PAST_FAILURE_DETECTION, SHORT_PAUSE
    }

    public static void main(String[] args) throws Exception {
        int cycles = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Path dir = Files.createTempDirectory("tern-gap-bench");
        int clusterPort = FreePorts.freeUdp();
        String address = FreePorts.multicastGroup(210);
        List<ServerProcess> nodes = new ArrayList<>();
        StringBuilder url = new StringBuilder("tern://");
        for (int i = 1; i <= 3; i++) {
            ServerProcess n = new ServerProcess("gap-" + i, FreePorts.free(), dir.resolve("gap-" + i), dir.resolve("gap-" + i + ".log"),
                    "--cluster", "gap-" + clusterPort, "--cluster-port", Integer.toString(clusterPort), "--cluster-address", address,
                    "--discovery-port", "0", "--machine-id", "m" + i, "--replication", "--fd-timeout", FD_TIMEOUT_MS + "ms").start();
            nodes.add(n);
            url.append(i > 1 ? "," : "").append("127.0.0.1:").append(n.port());
        }
        AtomicBoolean stop = new AtomicBoolean();
        try {
            for (ServerProcess n : nodes) {
                if (!n.awaitListening(60_000)) {
                    throw new IllegalStateException("a node did not start; see " + dir);
                }
            }
            TernConnectionFactory cf = new TernConnectionFactory(url + "?reconnectAttempts=1&reconnectDelay=50&heartbeat=500");
            awaitMembers(cf, 3);
            // The listener and the producer on connections of their own: a connection that only sends holds
            // nothing, and its node's failover node takes it at once (README, "A connection that holds nothing").
            Connection c = cf.createConnection();
            Connection pc = cf.createConnection();
            AtomicLong lastDeliveryNs = new AtomicLong();
            AtomicLong longestDeliveryGapNs = new AtomicLong();
            Session listen = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            listen.createConsumer(listen.createQueue("gap")).setMessageListener(m -> {
                long now = System.nanoTime();
                long before = lastDeliveryNs.getAndSet(now);
                if (before > 0) {
                    longestDeliveryGapNs.accumulateAndGet(now - before, Math::max);
                }
            });
            c.start();
            AtomicLong longestSendGapNs = new AtomicLong();
            Thread producer = new Thread(() -> {
                try {
                    Session s = pc.createSession(false, Session.AUTO_ACKNOWLEDGE);
                    MessageProducer p = s.createProducer(s.createQueue("gap"));
                    p.setDeliveryMode(DeliveryMode.PERSISTENT);
                    long lastNs = System.nanoTime();
                    while (!stop.get()) {
                        p.send(s.createTextMessage("tick"));
                        long now = System.nanoTime();
                        longestSendGapNs.accumulateAndGet(now - lastNs, Math::max);
                        lastNs = now;
                    }
                } catch (JMSException e) {
                    if (!stop.get()) {
                        System.out.println("producer failed: " + e.getMessage());
                    }
                }
            }, "gap-producer");
            producer.start();
            for (Fault fault : Fault.values()) {
                double[] deliveryGapsMs = new double[cycles];
                double[] sendGapsMs = new double[cycles];
                for (int k = 0; k < cycles; k++) {
                    Thread.sleep(2000); // traffic before the fault
                    String server = ((TernConnection) pc).server();
                    ServerProcess victim = nodes.stream().filter(n -> server.endsWith(":" + n.port())).findFirst().orElseThrow();
                    longestSendGapNs.set(0);
                    longestDeliveryGapNs.set(0);
                    long faultNs = System.nanoTime();
                    switch (fault) {
                        case KILL -> victim.kill();
                        case PAUSE_PAST_FAILURE_DETECTION, SHORT_PAUSE -> victim.pause(true);
                    }
                    long resumeAfterMs = switch (fault) {
                        case KILL -> 0;
                        case PAUSE_PAST_FAILURE_DETECTION -> FD_TIMEOUT_MS + 5000;
                        case SHORT_PAUSE -> FD_TIMEOUT_MS / 4;
                    };
                    long deadline = faultNs + 60_000_000_000L;
                    long resumeAtNs = faultNs + resumeAfterMs * 1_000_000L;
                    boolean resumed = resumeAfterMs == 0;
                    // Until deliveries come again: through another node, or (short pause) once the node is back.
                    while (System.nanoTime() < deadline) {
                        if (!resumed && System.nanoTime() - resumeAtNs >= 0) {
                            victim.pause(false);
                            resumed = true;
                        }
                        boolean moved = !((TernConnection) pc).server().equals(server)
                                && !((TernConnection) c).server().equals(server);
                        if (lastDeliveryNs.get() > faultNs && (moved || (fault == Fault.SHORT_PAUSE && resumed))) {
                            break;
                        }
                        Thread.sleep(1);
                    }
                    if (!resumed) {
                        Thread.sleep(Math.max(0, (resumeAtNs - System.nanoTime()) / 1_000_000L));
                        victim.pause(false);
                    }
                    Thread.sleep(1000); // the gaps end with the next send and the next delivery
                    sendGapsMs[k] = longestSendGapNs.get() / 1e6;
                    deliveryGapsMs[k] = longestDeliveryGapNs.get() / 1e6;
                    System.out.printf("%s %d of %s: longest time without a delivery %.0f ms, longest send %.0f ms%n", fault,
                            k + 1, victim.url(), deliveryGapsMs[k], sendGapsMs[k]);
                    if (fault == Fault.KILL) {
                        victim.start();
                        if (!victim.awaitListening(60_000)) {
                            throw new IllegalStateException("node did not restart; see " + dir);
                        }
                    }
                    awaitMembers(cf, 3);
                }
                Arrays.sort(deliveryGapsMs);
                Arrays.sort(sendGapsMs);
                System.out.printf("RESULT workload=failover-gap fault=%s cycles=%d delivery_median_ms=%.0f delivery_worst_ms=%.0f "
                        + "send_median_ms=%.0f send_worst_ms=%.0f fd_timeout_ms=%d%n", fault, cycles, deliveryGapsMs[cycles / 2],
                        deliveryGapsMs[cycles - 1], sendGapsMs[cycles / 2], sendGapsMs[cycles - 1], FD_TIMEOUT_MS);
            }
            stop.set(true);
            producer.join(10_000);
            pc.close();
            c.close();
        } finally {
            stop.set(true);
            for (ServerProcess n : nodes) {
                if (n.isAlive()) {
                    n.pause(false);
                }
                n.close();
            }
        }
    }

    private static void awaitMembers(TernConnectionFactory cf, int members) throws InterruptedException {
        if (!ServerProcess.awaitClusterMembers(cf, members, 60_000)) {
            throw new IllegalStateException("the cluster did not reach " + members + " members");
        }
    }
}
