package io.tern.it;

import io.tern.client.TernConnectionFactory;
import io.tern.server.ServerProcess;
import io.tern.discovery.FreePorts;
import io.tern.testkit.TotalQueueChecker;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import jakarta.jms.Topic;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** A real server process killed with SIGKILL keeps every persistent message it acknowledged, and nothing else. */
@Tag("system")
@Timeout(180)
class CrashRecoverySystemTest {
    @TempDir
    Path dir;

    @Test
    void persistentMessagesAndDurableSubscriptionsSurviveKillNine() throws Exception {
        int port = FreePorts.free();
        Path data = dir.resolve("node");
        TotalQueueChecker checker = new TotalQueueChecker();
        ServerProcess node = new ServerProcess("crash-1", port, data, dir.resolve("node.log"), "--discovery-port", "0").start();
        assertThat(node.awaitListening(60_000)).as("server started; log in " + dir).isTrue();
        TernConnectionFactory cf = new TernConnectionFactory(node.url());
        cf.setClientId("crash-client");
        try (Connection c = cf.createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Topic topic = s.createTopic("events");
            s.createDurableSubscriber(topic, "sub").close();
            MessageProducer p = s.createProducer(null);
            for (int i = 0; i < 1000; i++) {
                String id = "q-" + i;
                p.send(s.createQueue("work"), s.createTextMessage(id));
                checker.sent(id);
            }
            for (int i = 0; i < 100; i++) {
                p.send(topic, s.createTextMessage("t-" + i));
            }
            p.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
            p.send(s.createQueue("work"), s.createTextMessage("volatile"));
            // Consume and acknowledge the first 300 before the crash.
            Session ack = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
            MessageConsumer consumer = ack.createConsumer(ack.createQueue("work"));
            c.start();
            Message last = null;
            for (int i = 0; i < 300; i++) {
                last = consumer.receive(5000);
                checker.received(((TextMessage) last).getText());
            }
            last.acknowledge();
            for (int i = 0; i < 300; i++) {
                checker.acknowledged("q-" + i);
            }
            // Receive 50 more without acknowledging: they must come back after the crash.
            for (int i = 0; i < 50; i++) {
                checker.received(((TextMessage) consumer.receive(5000)).getText());
            }
        }
        node.kill();

        node = new ServerProcess("crash-1", port, data, dir.resolve("node.log"), "--discovery-port", "0").start();
        assertThat(node.awaitListening(60_000)).isTrue();
        try (Connection c = cf.createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
            MessageConsumer consumer = s.createConsumer(s.createQueue("work"));
            for (Message m; (m = consumer.receive(2000)) != null; ) {
                String id = ((TextMessage) m).getText();
                checker.received(id);
                m.acknowledge();
                checker.acknowledged(id);
            }
            MessageConsumer sub = s.createDurableSubscriber(s.createTopic("events"), "sub");
            int events = 0;
            for (Message m; (m = sub.receive(2000)) != null; ) {
                events++;
                m.acknowledge();
            }
            assertThat(events).isEqualTo(100);
        } finally {
            node.stop();
        }
        assertThat(checker.lost()).as(checker.toString()).isEmpty();
        assertThat(checker.duplicated()).as(checker.toString()).isEmpty();
        assertThat(checker.unexpected()).as("the non-persistent message must not survive: " + checker).isEmpty();
        assertThat(checker.recovered()).hasSize(50);
    }
}
