package io.tern.it;

import io.tern.client.TernConnectionFactory;
import jakarta.jms.Connection;
import jakarta.jms.IllegalStateException;
import jakarta.jms.InvalidDestinationException;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TemporaryTopic;
import jakarta.jms.TextMessage;
import jakarta.jms.Topic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(60)
class TopicMessagingTest extends EmbeddedTernTest {

    private Connection connect(String clientId) throws JMSException {
        TernConnectionFactory f = tern.factory();
        Connection c = f.createConnection();
        if (clientId != null) {
            c.setClientID(clientId);
        }
        c.start();
        return c;
    }

    @Test
    void everySubscriberGetsEveryMessageAndNoLocalSkipsOwnMessages() throws Exception {
        try (Connection a = connect(null); Connection b = connect(null)) {
            Session sa = a.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Session sb = b.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Topic t = sa.createTopic("news");
            MessageConsumer all = sb.createConsumer(t);
            MessageConsumer selective = sb.createConsumer(t, "important = TRUE");
            MessageConsumer notMine = sa.createConsumer(t, null, true);
            MessageProducer fromA = sa.createProducer(t);
            TextMessage m1 = sa.createTextMessage("one");
            m1.setBooleanProperty("important", true);
            fromA.send(m1);
            fromA.send(sa.createTextMessage("two"));
            sb.createProducer(t).send(sb.createTextMessage("from b"));

            assertThat(((TextMessage) all.receive(5000)).getText()).isEqualTo("one");
            assertThat(((TextMessage) all.receive(5000)).getText()).isEqualTo("two");
            assertThat(((TextMessage) all.receive(5000)).getText()).isEqualTo("from b");
            assertThat(((TextMessage) selective.receive(5000)).getText()).isEqualTo("one");
            assertThat(selective.receive(300)).isNull();
            assertThat(((TextMessage) notMine.receive(5000)).getText()).isEqualTo("from b");
            assertThat(notMine.receive(300)).isNull();
        }
    }

    @Test
    void durableSubscriptionsKeepMessagesWhileOfflineAndAcrossRestarts() throws Exception {
        try (Connection c = connect("durable-client")) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Topic t = s.createTopic("orders");
            s.createDurableSubscriber(t, "audit").close();
            s.createProducer(t).send(s.createTextMessage("while offline"));
        }
        tern.restart();
        try (Connection c = connect("durable-client")) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Topic t = s.createTopic("orders");
            MessageConsumer sub = s.createDurableSubscriber(t, "audit");
            assertThat(((TextMessage) sub.receive(5000)).getText()).isEqualTo("while offline");
            assertThatThrownBy(() -> s.unsubscribe("audit")).isInstanceOf(IllegalStateException.class);
            sub.close();
            s.unsubscribe("audit");
            assertThatThrownBy(() -> s.unsubscribe("audit")).isInstanceOf(InvalidDestinationException.class);
        }
    }

    @Test
    void anUnsharedDurableSubscriptionNeedsAClientIdAndHasOneConsumer() throws Exception {
        try (Connection anonymous = connect(null); Connection c = connect("solo")) {
            Session s = anonymous.createSession(false, Session.AUTO_ACKNOWLEDGE);
            assertThatThrownBy(() -> s.createDurableSubscriber(s.createTopic("t"), "x")).isInstanceOf(IllegalStateException.class);
            Session s1 = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Session s2 = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            s1.createDurableSubscriber(s1.createTopic("t"), "x");
            assertThatThrownBy(() -> s2.createDurableSubscriber(s2.createTopic("t"), "x")).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void aClientIdIsUsedByOneConnectionAtATime() throws Exception {
        try (Connection c = connect("unique")) {
            Connection other = tern.factory().createConnection();
            try {
                assertThatThrownBy(() -> other.setClientID("unique")).isInstanceOf(jakarta.jms.InvalidClientIDException.class);
            } finally {
                other.close();
            }
            assertThatThrownBy(() -> c.setClientID("again")).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void sharedSubscriptionsSplitMessagesBetweenTheirConsumers() throws Exception {
        try (Connection a = connect(null); Connection b = connect(null)) {
            Session sa = a.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Session sb = b.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Topic t = sa.createTopic("work");
            MessageConsumer ca = sa.createSharedConsumer(t, "workers");
            MessageConsumer cb = sb.createSharedConsumer(t, "workers");
            MessageConsumer durable = sa.createSharedDurableConsumer(t, "archive");
            MessageProducer p = sa.createProducer(t);
            for (int i = 0; i < 20; i++) {
                p.send(sa.createTextMessage("w" + i));
            }
            int na = 0;
            int nb = 0;
            while (ca.receive(500) != null) {
                na++;
            }
            while (cb.receive(500) != null) {
                nb++;
            }
            assertThat(na + nb).isEqualTo(20);
            int archived = 0;
            while (durable.receive(500) != null) {
                archived++;
            }
            assertThat(archived).isEqualTo(20);
        }
    }

    @Test
    void temporaryTopicsBelongToTheirConnection() throws Exception {
        try (Connection a = connect(null); Connection b = connect(null)) {
            Session sa = a.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Session sb = b.createSession(false, Session.AUTO_ACKNOWLEDGE);
            TemporaryTopic tt = sa.createTemporaryTopic();
            MessageConsumer mine = sa.createConsumer(tt);
            sb.createProducer(tt).send(sb.createTextMessage("to temp"));
            Message m = mine.receive(5000);
            assertThat(((TextMessage) m).getText()).isEqualTo("to temp");
            assertThatThrownBy(() -> sb.createConsumer(tt)).isInstanceOf(InvalidDestinationException.class);
        }
    }
}
