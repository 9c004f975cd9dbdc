package io.tern.it;

import io.tern.client.TernConnectionFactory;
import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Message groups through the JMS API: the messages of one JMSXGroupID reach one consumer, in the
 * order sent, and another consumer only once that one closes.
 */
@Timeout(60)
class MessageGroupsSystemTest extends EmbeddedTernTest {
    /** What each consumer got: consumer name to "group:seq" in the order received. */
    private final Map<String, List<String>> got = new ConcurrentHashMap<>();

    private MessageConsumer consumer(Connection c, String name) throws JMSException {
        Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer consumer = s.createConsumer(s.createQueue("orders"));
        consumer.setMessageListener(m -> got.computeIfAbsent(name, k -> new CopyOnWriteArrayList<>()).add(label(m)));
        return consumer;
    }

    private static String label(Message m) {
        try {
            return m.getStringProperty("JMSXGroupID") + ":" + m.getIntProperty("seq");
        } catch (JMSException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void send(MessageProducer p, Session s, String group, int seq) throws JMSException {
        Message m = s.createMessage();
        m.setStringProperty("JMSXGroupID", group);
        m.setIntProperty("seq", seq);
        p.send(m);
    }

    private List<String> consumersOf(String group) {
        List<String> names = new ArrayList<>();
        got.forEach((name, labels) -> {
            if (labels.stream().anyMatch(l -> l.startsWith(group + ":"))) {
                names.add(name);
            }
        });
        return names;
    }

    private int total() {
        return got.values().stream().mapToInt(List::size).sum();
    }

    @Test
    void eachGroupReachesOneConsumerInOrderAndMovesWhenThatConsumerCloses() throws Exception {
        List<String> groups = List.of("g0", "g1", "g2", "g3", "g4", "g5");
        try (Connection c = new TernConnectionFactory(tern.url()).createConnection()) {
            MessageConsumer first = consumer(c, "first");
            consumer(c, "second");
            c.start();
            Session ps = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = ps.createProducer(ps.createQueue("orders"));
            for (int seq = 0; seq < 25; seq++) {
                for (String g : groups) {
                    send(p, ps, g, seq);
                }
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> total() == 150);
            for (String g : groups) {
                assertThat(consumersOf(g)).as("consumers of group %s", g).hasSize(1);
                List<String> inOrder = got.get(consumersOf(g).get(0)).stream().filter(l -> l.startsWith(g + ":")).toList();
                assertThat(inOrder).as("group %s in the order sent", g).isEqualTo(
                        java.util.stream.IntStream.range(0, 25).mapToObj(i -> g + ":" + i).toList());
            }
            assertThat(got.keySet()).as("both consumers own groups").containsExactlyInAnyOrder("first", "second");

            String ownedByFirst = groups.stream().filter(g -> consumersOf(g).equals(List.of("first"))).findFirst().orElseThrow();
            first.close();
            for (int seq = 25; seq < 35; seq++) {
                send(p, ps, ownedByFirst, seq);
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> total() == 160);
            assertThat(got.get("second").stream().filter(l -> l.startsWith(ownedByFirst + ":")).toList())
                    .as("group %s went to the other consumer once its owner closed, in order", ownedByFirst)
                    .isEqualTo(java.util.stream.IntStream.range(25, 35).mapToObj(i -> ownedByFirst + ":" + i).toList());
        }
    }
}
