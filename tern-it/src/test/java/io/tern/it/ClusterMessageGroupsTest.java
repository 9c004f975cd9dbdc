package io.tern.it;

import io.tern.client.TernConnectionFactory;
import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Message groups across nodes (issue 12, point 7): the messages of one {@code JMSXGroupID} go to one
 * consumer cluster-wide, whichever nodes they were sent through, and to another only when that one
 * closes. Producers on two nodes, consumers on two nodes (one of them a producer's node, whose own
 * consumer would otherwise take what is sent there while the other node's messages go elsewhere).
 */
@Timeout(120)
class ClusterMessageGroupsTest extends InJvmClusterTest {
    private static final int GROUPS = 6;
    private static final List<String> GROUP_IDS = java.util.stream.IntStream.range(0, GROUPS).mapToObj(i -> "group-" + i).toList();

    /** Group to the consumers that received its messages, and how many arrived in all. */
    private final Map<String, Set<String>> consumersOfGroup = new ConcurrentHashMap<>();
    private final AtomicInteger received = new AtomicInteger();

    private MessageConsumer consumer(Connection c, String name) throws JMSException {
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer consumer = s.createConsumer(s.createQueue("orders"));
        consumer.setMessageListener(m -> {
            try {
                consumersOfGroup.computeIfAbsent(m.getStringProperty("JMSXGroupID"), g -> ConcurrentHashMap.newKeySet()).add(name);
                received.incrementAndGet();
            } catch (JMSException e) {
                throw new IllegalStateException(e);
            }
        });
        return consumer;
    }

    private static void send(Connection c, int count, List<String> groups) throws JMSException {
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer p = s.createProducer(s.createQueue("orders"));
        for (int i = 0; i < count; i++) {
            TextMessage m = s.createTextMessage("message " + i);
            m.setStringProperty("JMSXGroupID", groups.get(i % groups.size()));
            p.send(m);
        }
        s.close();
    }

    /**
     * Closes {@code holder} (the consumer of group-0; null: none), sends 20 messages of group-0 through each of
     * {@code senders}, waits until {@code receivedThen} messages arrived in all, and checks that every
     * later message of group-0 went to {@code expected} only.
     */
    private void closeThenExpect(MessageConsumer holder, String expected, int receivedThen, Connection... senders)
            throws JMSException {
        if (holder != null) {
            holder.close();
        }
        consumersOfGroup.clear();
        for (Connection c : senders) {
            send(c, 20, List.of("group-0"));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> received.get() == receivedThen);
        assertThat(consumersOfGroup.get("group-0")).containsExactly(expected);
    }

    @FunctionalInterface
    private interface ThreeNodes {
        void run(Connection onA, Connection onB, Connection onC) throws Exception;
    }

    /** Starts nodes a, b and c in sync and runs {@code test} with a connection to each. */
    private void onThreeNodes(ThreeNodes test) throws Exception {
        cluster = new InJvmCluster(dir);
        List<InJvmCluster.Node> nodes = cluster.startInSync("a", "b", "c");
        try (Connection onA = new TernConnectionFactory(nodes.get(0).url() + "?failover=false").createConnection();
             Connection onB = new TernConnectionFactory(nodes.get(1).url() + "?failover=false").createConnection();
             Connection onC = new TernConnectionFactory(nodes.get(2).url() + "?failover=false").createConnection()) {
            test.run(onA, onB, onC);
        }
    }

    @Test
    void aGroupHasOneConsumerClusterWideAndMovesOnlyWhenItCloses() throws Exception {
        onThreeNodes((onA, onB, onC) -> {
            MessageConsumer atB = consumer(onB, "consumer on b");
            MessageConsumer atC = consumer(onC, "consumer on c");
            onB.start();
            onC.start();
            Thread fromC = new Thread(() -> {
                try {
                    send(onC, 120, GROUP_IDS);
                } catch (JMSException e) {
                    throw new IllegalStateException(e);
                }
            });
            fromC.start();
            send(onA, 120, GROUP_IDS);
            fromC.join(60_000);
            await().atMost(Duration.ofSeconds(60)).until(() -> received.get() == 240);
            assertThat(consumersOfGroup).hasSize(GROUPS);
            consumersOfGroup.forEach((group, consumers) ->
                    assertThat(consumers).as("the consumers of %s", group).hasSize(1));

            // The consumer of group-0 closes: the group's later messages go to the other one, and only to it.
            String owner = consumersOfGroup.get("group-0").iterator().next();
            closeThenExpect(owner.endsWith("b") ? atB : atC, owner.endsWith("b") ? "consumer on c" : "consumer on b", 280,
                    onA, onC);
        });
    }

    @Test
    void aGroupStaysOnItsNodeWhileThatNodeHasAConsumerOfTheQueue() throws Exception {
        onThreeNodes((onA, onB, onC) -> {
            MessageConsumer first = consumer(onB, "first on b");
            MessageConsumer second = consumer(onB, "second on b");
            onB.start();
            send(onA, 60, GROUP_IDS); // only b has consumers: b owns every group
            await().atMost(Duration.ofSeconds(60)).until(() -> received.get() == 60);
            consumer(onC, "consumer on c");
            onC.start();

            // The consumer of group-0 on b closes while b has another: the group stays b's (a release then could
            // leave it owned by b and by c at once), and its later messages, sent on a and on c, go to b's other one.
            String holder = consumersOfGroup.get("group-0").iterator().next();
            closeThenExpect(holder.startsWith("first") ? first : second, holder.startsWith("first") ? "second on b" : "first on b",
                    100, onC, onA);
        });
    }

    @Test
    void aMessageWithGroupSequenceMinusOneEndsTheGroupClusterWide() throws Exception {
        cluster = new InJvmCluster(dir);
        List<InJvmCluster.Node> nodes = cluster.startInSync("a", "b", "c");
        try (Connection onA = new TernConnectionFactory(nodes.get(0).url() + "?failover=false").createConnection();
             Connection onB = new TernConnectionFactory(nodes.get(1).url() + "?failover=false").createConnection();
             Connection onC = new TernConnectionFactory(nodes.get(2).url() + "?failover=false").createConnection()) {
            consumer(onB, "consumer on b");
            consumer(onC, "consumer on c");
            onB.start();
            onC.start();
            send(onA, 10, List.of("group-0"));
            await().atMost(Duration.ofSeconds(60)).until(() -> received.get() == 10);
            assertThat(consumersOfGroup.get("group-0")).hasSize(1);
            String holder = consumersOfGroup.get("group-0").iterator().next();

            Session s = onA.createSession(false, Session.AUTO_ACKNOWLEDGE);
            TextMessage last = s.createTextMessage("the group's last message");
            last.setStringProperty("JMSXGroupID", "group-0");
            last.setIntProperty("JMSXGroupSeq", -1);
            s.createProducer(s.createQueue("orders")).send(last);
            await().atMost(Duration.ofSeconds(60)).until(() -> received.get() == 11);
            assertThat(consumersOfGroup.get("group-0")).as("the last message went to the group's consumer").containsExactly(holder);
            await().atMost(Duration.ofSeconds(30)).until(() -> nodes.stream()
                    .allMatch(n -> n.server().broker().groupDirectory().owner("orders", "group-0") == null));

            // Ended, the group is anybody's: sent through the other consumer's node, it stays with that consumer.
            boolean heldOnB = holder.endsWith("b");
            closeThenExpect(null, heldOnB ? "consumer on c" : "consumer on b", 31, heldOnB ? onC : onB);
        }
    }
}
