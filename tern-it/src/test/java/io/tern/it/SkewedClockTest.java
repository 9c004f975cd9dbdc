package io.tern.it;

import io.tern.broker.BrokerConfig;
import io.tern.client.TernConnectionFactory;
import io.tern.server.TernServer;
import io.tern.discovery.FreePorts;
import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node whose clock is an hour behind its clients' (a failover node on another machine, say)
 * delivers a message sent without a delivery delay at once; a delayed message still waits.
 */
@Timeout(60)
class SkewedClockTest {
    @Test
    void aNodeWhoseClockIsBehindTheSendersDeliversUndelayedMessagesAtOnce() throws Exception {
        long hourMs = 3_600_000L;
        try (TernServer server = TernServer.start(BrokerConfig.builder().name("behind").port(FreePorts.free())
                .bindAddress("127.0.0.1").build(), s -> s, () -> System.currentTimeMillis() - hourMs);
             Connection c = new TernConnectionFactory(server.url()).createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue("skew"));
            MessageConsumer consumer = s.createConsumer(s.createQueue("skew"));
            p.send(s.createTextMessage("now"));
            Message m = consumer.receive(5_000);
            assertThat(m).as("a message without delivery delay is not held back by the node's clock").isNotNull();
            assertThat(((TextMessage) m).getText()).isEqualTo("now");

            p.setDeliveryDelay(hourMs / 2);
            p.send(s.createTextMessage("later"));
            assertThat(consumer.receive(300)).as("a delayed message waits for its delivery time").isNull();
        }
    }
}
