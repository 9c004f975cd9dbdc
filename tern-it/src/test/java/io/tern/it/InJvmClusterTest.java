package io.tern.it;

import io.tern.client.TernConnectionFactory;
import jakarta.jms.Connection;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A test of nodes in this JVM ({@link InJvmCluster}): it sets {@link #cluster}, which is closed after it. */
abstract class InJvmClusterTest {
    @TempDir
    Path dir;

    InJvmCluster cluster;

    /** Queue {@code name} as node {@code n} shows it (its part there); null if it has none. */
    static io.tern.broker.NodeView.QueueView queue(InJvmCluster.Node n, String name) {
        return n.server().broker().view().queues().stream().filter(q -> q.name().equals(name)).findFirst().orElse(null);
    }

    /**
     * Sends a marker to queue {@code orders} on {@code node} and receives there until it comes: what
     * the cluster's part of the queue held, wherever it was, then the marker, and nothing after it.
     */
    static List<String> drainOrders(InJvmCluster.Node node) throws Exception {
        List<String> got = new ArrayList<>();
        try (Connection again = new TernConnectionFactory(node.url() + "?failover=false").createConnection()) {
            again.start();
            Session s = again.createSession(false, Session.AUTO_ACKNOWLEDGE);
            s.createProducer(s.createQueue("orders")).send(s.createTextMessage("after"));
            MessageConsumer consumer = s.createConsumer(s.createQueue("orders"));
            while (!got.contains("after")) {
                TextMessage m = (TextMessage) consumer.receive(30_000);
                assertThat(m).as("the queue ends with the marker; got so far " + got).isNotNull();
                got.add(m.getText());
            }
            assertThat(consumer.receive(2_000)).as("nothing comes after the marker; got " + got).isNull();
        }
        return got;
    }

    /** Sends persistent messages "m0" to "m{count - 1}" to queue {@code orders} on {@code node}. */
    static void sendOrders(InJvmCluster.Node node, int count) throws Exception {
        try (Connection c = new TernConnectionFactory(node.url() + "?failover=false").createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            jakarta.jms.MessageProducer p = s.createProducer(s.createQueue("orders"));
            p.setDeliveryMode(jakarta.jms.DeliveryMode.PERSISTENT);
            for (int i = 0; i < count; i++) {
                p.send(s.createTextMessage("m" + i));
            }
        }
    }

    /** The messages of {@code queue} in {@code store}. */
    static int stored(io.tern.broker.store.MessageStore store, String queue) {
        java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();
        try (io.tern.broker.store.MessageStore.Snapshot s = store.snapshot()) {
            s.read(io.tern.broker.store.MessageStore.Recovery.asOps(op -> {
                if (op instanceof io.tern.broker.store.StoreBatch.AddMessage m && m.queue().equals(queue)) {
                    count.incrementAndGet();
                }
            }));
        }
        return count.get();
    }

    @AfterEach
    void closeCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }
}
