package io.tern.it;

import io.tern.broker.NodeState;
import io.tern.broker.store.MessageStore;
import io.tern.client.TernConnectionFactory;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A takeover that stored the dead node's messages but cannot record itself (its records file cannot
 * be written) fails loudly: the taker is fenced, delivers none of them, removes them from its store
 * again, and keeps no record of a takeover only in memory, so that nobody tells the dead node, once
 * back, to discard what it still holds alone.
 */
@Timeout(120)
class TakeoverNotRecordedTest extends InJvmClusterTest {

    @Test
    void aTakeoverThatCannotBeRecordedFencesTheTakerAndUndoesItself() throws Exception {
        cluster = new InJvmCluster(dir);
        cluster.startInSync("a", "b", "c");
        InJvmCluster.Node gone = cluster.nodes.get(0);
        InJvmCluster.Node taker = cluster.failoverOf(gone);
        try (Connection c = new TernConnectionFactory(gone.url() + "?failover=false").createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue("orders"));
            p.setDeliveryMode(DeliveryMode.PERSISTENT);
            for (int i = 0; i < 5; i++) {
                p.send(s.createTextMessage("m" + i));
            }
        }
        // The records file is replaced through a temporary file beside it: a directory there fails every save.
        Files.createDirectories(dir.resolve(taker.name()).resolve("takeovers.tmp").resolve("in-the-way"));
        cluster.crash(gone);

        await().atMost(Duration.ofSeconds(30)).until(() -> taker.server().broker().availability().state() == NodeState.FENCED);
        assertThat(taker.server().broker().availability().reason()).contains("could not be recorded");
        assertThat(taker.takeover().records()).as("no record only in memory").doesNotContainKey(gone.id());
        assertThat(taker.server().broker().messageCount("orders")).as("none of them placed for delivery").isZero();
        await().atMost(Duration.ofSeconds(30)).until(() -> stored(taker.store(), "orders") == 0);
    }

    /** The messages of {@code queue} in {@code store}. */
    private static int stored(MessageStore store, String queue) {
        AtomicInteger count = new AtomicInteger();
        try (MessageStore.Snapshot s = store.snapshot()) {
            s.read(MessageStore.Recovery.asOps(op -> {
                if (op instanceof io.tern.broker.store.StoreBatch.AddMessage m && m.queue().equals(queue)) {
                    count.incrementAndGet();
                }
            }));
        }
        return count.get();
    }
}
