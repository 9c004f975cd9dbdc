package io.tern.bench;

import io.tern.client.TernConnectionFactory;
import io.tern.client.impl.TernConnection;
import io.tern.server.ServerProcess;
import io.tern.testkit.Ports;
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
 * The failover gap (issue 5): time from the SIGKILL of the node a client uses to the next message
 * delivered to its consumer, over {@code kills} kills (default 10). Three server processes with
 * {@code --replication} on loopback; a producer and a listener on one connection; after each kill
 * the node is restarted and rejoins before the next.
 */
public final class FailoverGapBench {

    public static void main(String[] args) throws Exception {
        int kills = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        Path dir = Files.createTempDirectory("tern-gap-bench");
        int clusterPort = Ports.freeUdp();
        String address = Ports.multicastGroup(210);
        List<ServerProcess> nodes = new ArrayList<>();
        StringBuilder url = new StringBuilder("tern://");
        for (int i = 1; i <= 3; i++) {
            ServerProcess n = new ServerProcess("gap-" + i, Ports.free(), dir.resolve("gap-" + i), dir.resolve("gap-" + i + ".log"),
                    "--cluster", "gap-" + clusterPort, "--cluster-port", Integer.toString(clusterPort), "--cluster-address", address,
                    "--discovery-port", "0", "--machine-id", "m" + i, "--replication").start();
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
            TernConnectionFactory cf = new TernConnectionFactory(url + "?reconnectAttempts=1&reconnectDelay=50");
            awaitMembers(cf, 3);
            Connection c = cf.createConnection();
            AtomicLong lastDeliveryNs = new AtomicLong();
            java.util.concurrent.atomic.AtomicReference<String> killed = new java.util.concurrent.atomic.AtomicReference<>("");
            Session listen = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            listen.createConsumer(listen.createQueue("gap")).setMessageListener(m -> {
                if (!((TernConnection) c).server().equals(killed.get())) { // not one still buffered from the killed node
                    lastDeliveryNs.set(System.nanoTime());
                }
            });
            c.start();
            Thread producer = new Thread(() -> {
                try {
                    Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                    MessageProducer p = s.createProducer(s.createQueue("gap"));
                    p.setDeliveryMode(DeliveryMode.PERSISTENT);
                    while (!stop.get()) {
                        p.send(s.createTextMessage("tick"));
                    }
                } catch (JMSException e) {
                    if (!stop.get()) {
                        System.out.println("producer failed: " + e.getMessage());
                    }
                }
            }, "gap-producer");
            producer.start();
            double[] gapsMs = new double[kills];
            for (int k = 0; k < kills; k++) {
                Thread.sleep(2000); // traffic before the kill
                String server = ((TernConnection) c).server();
                ServerProcess victim = nodes.stream().filter(n -> server.endsWith(":" + n.port())).findFirst().orElseThrow();
                killed.set(server);
                long killNs = System.nanoTime();
                victim.kill();
                long deadline = killNs + 60_000_000_000L;
                while (lastDeliveryNs.get() <= killNs && System.nanoTime() < deadline) {
                    Thread.sleep(1); // polls for the first delivery after the kill
                }
                gapsMs[k] = (lastDeliveryNs.get() - killNs) / 1e6;
                System.out.printf("kill %d of %s: next delivery after %.0f ms%n", k + 1, victim.url(), gapsMs[k]);
                victim.start();
                if (!victim.awaitListening(60_000)) {
                    throw new IllegalStateException("node did not restart; see " + dir);
                }
                awaitMembers(cf, 3);
            }
            stop.set(true);
            producer.join(10_000);
            c.close();
            Arrays.sort(gapsMs);
            System.out.printf("RESULT workload=failover-gap kills=%d median_ms=%.0f worst_ms=%.0f%n", kills,
                    gapsMs[kills / 2], gapsMs[kills - 1]);
        } finally {
            stop.set(true);
            for (ServerProcess n : nodes) {
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
