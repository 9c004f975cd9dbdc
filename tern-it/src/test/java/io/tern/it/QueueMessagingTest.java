package io.tern.it;

import io.tern.server.EmbeddedTern;
import jakarta.jms.BytesMessage;
import jakarta.jms.CompletionListener;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.InvalidSelectorException;
import jakarta.jms.JMSException;
import jakarta.jms.MapMessage;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.ObjectMessage;
import jakarta.jms.Queue;
import jakarta.jms.QueueBrowser;
import jakarta.jms.Session;
import jakarta.jms.StreamMessage;
import jakarta.jms.TemporaryQueue;
import jakarta.jms.TextMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(60)
class QueueMessagingTest {
    private EmbeddedTern tern;
    private Connection connection;

    @BeforeEach
    void start() throws JMSException {
        tern = EmbeddedTern.start();
        connection = tern.factory().createConnection();
        connection.start();
    }

    @AfterEach
    void stop() throws JMSException {
        connection.close();
        tern.close();
    }

    private Session session(int mode) throws JMSException {
        return mode == Session.SESSION_TRANSACTED ? connection.createSession(true, mode) : connection.createSession(false, mode);
    }

    @Test
    void anIdleSynchronousConsumerGivesItsBufferBackAndTakesAgainWhenItReceives() throws Exception {
        try (Connection c = tern.factory("idleRelease=200").createConnection()) {
            c.start();
            Session idleSession = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
            Session busySession = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = idleSession.createQueue("hoard");
            MessageProducer p = busySession.createProducer(q);
            for (int i = 0; i < 100; i++) {
                p.send(busySession.createTextMessage("m" + i));
            }
            MessageConsumer idle = idleSession.createConsumer(q);
            Message first = idle.receive(5_000); // the rest of the queue lands in its prefetch buffer
            assertThat(((TextMessage) first).getText()).isEqualTo("m0");
            MessageConsumer busy = busySession.createConsumer(q);
            java.util.List<String> taken = new java.util.ArrayList<>();
            for (int i = 1; i < 100; i++) {
                Message m = busy.receive(5_000); // given back by the idle consumer after 200 ms
                assertThat(m).as("message " + i).isNotNull();
                taken.add(((TextMessage) m).getText());
            }
            assertThat(taken).doesNotHaveDuplicates().doesNotContain("m0").hasSize(99);
            assertThat(taken.stream().filter(t -> t.equals("m1")).count()).isOne();
            // The idle consumer's held message is still its own, and it takes new messages once it receives again.
            p.send(busySession.createTextMessage("late"));
            busy.close();
            assertThat(((TextMessage) idle.receive(5_000)).getText()).isEqualTo("late");
            first.acknowledge();
        }
    }

    @Test
    void sendsAndReceivesEveryMessageTypeWithHeadersAndProperties() throws Exception {
        Session s = session(Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("types");
        MessageProducer p = s.createProducer(q);
        TextMessage text = s.createTextMessage("héllo");
        text.setJMSCorrelationID("corr-1");
        text.setJMSType("greeting");
        text.setIntProperty("n", 42);
        text.setStringProperty("s", "7");
        p.send(text);
        BytesMessage bytes = s.createBytesMessage();
        bytes.writeInt(7);
        bytes.writeUTF("x");
        p.send(bytes);
        MapMessage map = s.createMapMessage();
        map.setLong("l", 5L);
        map.setChar("c", 'z');
        map.setBytes("b", new byte[] {1, 2});
        p.send(map);
        p.send(s.createObjectMessage(new ArrayList<>(List.of("a", "b"))));
        StreamMessage stream = s.createStreamMessage();
        stream.writeInt(3);
        stream.writeString("4");
        p.send(stream);
        p.send(s.createMessage());

        MessageConsumer c = s.createConsumer(q);
        TextMessage t = (TextMessage) c.receive(5000);
        assertThat(t.getText()).isEqualTo("héllo");
        assertThat(t.getJMSCorrelationID()).isEqualTo("corr-1");
        assertThat(t.getJMSType()).isEqualTo("greeting");
        assertThat(t.getJMSMessageID()).startsWith("ID:");
        assertThat(t.getJMSDestination()).isEqualTo(q);
        assertThat(t.getJMSDeliveryMode()).isEqualTo(DeliveryMode.PERSISTENT);
        assertThat(t.getLongProperty("n")).isEqualTo(42L);
        assertThat(t.getIntProperty("s")).isEqualTo(7);
        assertThat(t.getIntProperty("JMSXDeliveryCount")).isEqualTo(1);
        assertThat(t.getJMSRedelivered()).isFalse();
        assertThatThrownBy(() -> t.setStringProperty("x", "y")).isInstanceOf(jakarta.jms.MessageNotWriteableException.class);
        assertThatThrownBy(() -> t.getByteProperty("n")).isInstanceOf(jakarta.jms.MessageFormatException.class);

        BytesMessage b = (BytesMessage) c.receive(5000);
        assertThat(b.readInt()).isEqualTo(7);
        assertThat(b.readUTF()).isEqualTo("x");
        assertThatThrownBy(b::readByte).isInstanceOf(jakarta.jms.MessageEOFException.class);
        MapMessage m = (MapMessage) c.receive(5000);
        assertThat(m.getString("l")).isEqualTo("5");
        assertThat(m.getChar("c")).isEqualTo('z');
        assertThat(m.getBytes("b")).containsExactly(1, 2);
        assertThat(((ObjectMessage) c.receive(5000)).getObject()).isEqualTo(List.of("a", "b"));
        StreamMessage st = (StreamMessage) c.receive(5000);
        assertThat(st.readLong()).isEqualTo(3L);
        assertThat(st.readInt()).isEqualTo(4);
        Message plain = c.receive(5000);
        assertThat(plain).isNotInstanceOf(TextMessage.class);
        assertThat(c.receiveNoWait()).isNull();
    }

    @Test
    void aMessageChangedAfterItsSendArrivesAsItWasSent() throws Exception {
        // JMS 3.0 §4.6: once send returns, the application may change and resend the same message object.
        // Non-persistent sends go out asynchronously, so the sent copy must not share the live properties.
        Session s = session(Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("reused");
        MessageProducer p = s.createProducer(q);
        p.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
        TextMessage m = s.createTextMessage();
        int count = 2000;
        for (int i = 0; i < count; i++) {
            m.clearProperties();
            m.setIntProperty("i", i);
            for (int k = 0; k < 8; k++) {
                m.setStringProperty("k" + k, "v" + i);
            }
            m.setText("t" + i);
            p.send(m);
        }
        MessageConsumer c = s.createConsumer(q);
        for (int i = 0; i < count; i++) {
            Message got = c.receive(5000);
            assertThat(got).as("message %d", i).isNotNull();
            assertThat(got.getIntProperty("i")).isEqualTo(i);
            assertThat(got.getStringProperty("k7")).isEqualTo("v" + i);
            assertThat(((TextMessage) got).getText()).isEqualTo("t" + i);
        }
    }

    @Test
    void higherPriorityMessagesAreDeliveredFirst() throws Exception {
        Session s = session(Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("prio");
        MessageProducer p = s.createProducer(q);
        for (int prio : new int[] {1, 9, 4, 9, 0}) {
            TextMessage m = s.createTextMessage("p" + prio);
            p.send(m, DeliveryMode.PERSISTENT, prio, 0);
        }
        MessageConsumer c = s.createConsumer(q);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            order.add(c.receive(5000).getJMSPriority());
        }
        assertThat(order).containsExactly(9, 9, 4, 1, 0);
    }

    @Test
    void expiredMessagesGoToTheExpiryQueueAndAreNotDelivered() throws Exception {
        Session s = session(Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("ttl");
        MessageProducer p = s.createProducer(q);
        p.send(s.createTextMessage("short"), DeliveryMode.PERSISTENT, 4, 1);
        p.send(s.createTextMessage("long"), DeliveryMode.PERSISTENT, 4, 60_000);
        MessageConsumer expiry = s.createConsumer(s.createQueue("ExpiryQueue"));
        // The short one is past its expiry time by the time the consumer asks: wait until it is.
        long sentAt = System.currentTimeMillis();
        while (System.currentTimeMillis() < sentAt + 5) {
            Thread.onSpinWait();
        }
        MessageConsumer c = s.createConsumer(q);
        assertThat(((TextMessage) c.receive(5000)).getText()).isEqualTo("long");
        TextMessage expired = (TextMessage) expiry.receive(5000);
        assertThat(expired.getText()).isEqualTo("short");
        assertThat(expired.getStringProperty("JMS_TERN_ORIGINAL_QUEUE")).isEqualTo("ttl");
    }

    @Test
    void deliveryDelayHoldsAMessageBack() throws Exception {
        Session s = session(Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("delay");
        MessageProducer p = s.createProducer(q);
        p.setDeliveryDelay(700);
        long before = System.currentTimeMillis();
        p.send(s.createTextMessage("later"));
        MessageConsumer c = s.createConsumer(q);
        assertThat(c.receiveNoWait()).isNull();
        Message m = c.receive(10_000);
        long receivedAt = System.currentTimeMillis();
        assertThat(m).isNotNull();
        assertThat(m.getJMSDeliveryTime()).isGreaterThanOrEqualTo(before + 700);
        assertThat(receivedAt).isGreaterThanOrEqualTo(m.getJMSDeliveryTime());
    }

    @Test
    void selectorsFilterWhatAQueueConsumerTakes() throws Exception {
        Session s = session(Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("sel");
        MessageProducer p = s.createProducer(q);
        for (int i = 0; i < 10; i++) {
            TextMessage m = s.createTextMessage("m" + i);
            m.setIntProperty("i", i);
            m.setStringProperty("color", i % 2 == 0 ? "red" : "blue");
            p.send(m);
        }
        MessageConsumer c = s.createConsumer(q, "color = 'blue' AND i BETWEEN 3 AND 7 AND JMSPriority = 4");
        List<String> got = new ArrayList<>();
        for (Message m; (m = c.receive(1000)) != null; ) {
            got.add(((TextMessage) m).getText());
        }
        assertThat(got).containsExactly("m3", "m5", "m7");
        MessageConsumer rest = s.createConsumer(q, "color IS NOT NULL AND name IS NULL");
        int n = 0;
        while (rest.receive(1000) != null) {
            n++;
        }
        assertThat(n).isEqualTo(7);
        assertThatThrownBy(() -> s.createConsumer(q, "color = = 'x'")).isInstanceOf(InvalidSelectorException.class);
    }

    @Test
    void clientAcknowledgeRecoverRedeliversWithDeliveryCount() throws Exception {
        Session s = session(Session.CLIENT_ACKNOWLEDGE);
        Queue q = s.createQueue("client-ack");
        MessageProducer p = s.createProducer(q);
        p.send(s.createTextMessage("a"));
        p.send(s.createTextMessage("b"));
        MessageConsumer c = s.createConsumer(q);
        assertThat(((TextMessage) c.receive(5000)).getText()).isEqualTo("a");
        s.recover();
        Message again = c.receive(5000);
        assertThat(((TextMessage) again).getText()).isEqualTo("a");
        assertThat(again.getJMSRedelivered()).isTrue();
        assertThat(again.getIntProperty("JMSXDeliveryCount")).isEqualTo(2);
        Message b = c.receive(5000);
        assertThat(b.getJMSRedelivered()).as("b was buffered but never seen").isFalse();
        b.acknowledge();
        c.close();
        assertThat(tern.broker().messageCount("client-ack")).isZero();
    }

    @Test
    void unacknowledgedMessagesReturnWhenTheSessionCloses() throws Exception {
        Session s = session(Session.CLIENT_ACKNOWLEDGE);
        Queue q = s.createQueue("close-returns");
        s.createProducer(q).send(s.createTextMessage("x"));
        assertThat(s.createConsumer(q).receive(5000)).isNotNull();
        s.close();
        Session s2 = session(Session.AUTO_ACKNOWLEDGE);
        Message m = s2.createConsumer(q).receive(5000);
        assertThat(m.getJMSRedelivered()).isTrue();
    }

    @Test
    void transactedSessionsCommitAndRollBackSendsAndReceives() throws Exception {
        Session tx = session(Session.SESSION_TRANSACTED);
        Queue q = tx.createQueue("tx");
        MessageProducer p = tx.createProducer(q);
        p.send(tx.createTextMessage("1"));
        p.send(tx.createTextMessage("2"));
        Session other = session(Session.AUTO_ACKNOWLEDGE);
        MessageConsumer watcher = other.createConsumer(q);
        assertThat(watcher.receive(300)).as("uncommitted sends are invisible").isNull();
        tx.rollback();
        p.send(tx.createTextMessage("3"));
        tx.commit();
        assertThat(((TextMessage) watcher.receive(5000)).getText()).isEqualTo("3");
        assertThat(watcher.receive(300)).isNull();
        watcher.close();

        p.send(tx.createTextMessage("4"));
        tx.commit();
        MessageConsumer c = tx.createConsumer(q);
        assertThat(((TextMessage) c.receive(5000)).getText()).isEqualTo("4");
        tx.rollback();
        Message again = c.receive(5000);
        assertThat(again.getJMSRedelivered()).isTrue();
        tx.commit();
        assertThat(c.receive(300)).isNull();
        assertThat(tern.broker().messageCount("tx")).isZero();
    }

    @Test
    void aMessageRejectedTooOftenGoesToTheDeadLetterQueue() throws Exception {
        Session tx = session(Session.SESSION_TRANSACTED);
        Queue q = tx.createQueue("poison");
        tx.createProducer(q).send(tx.createTextMessage("poison"));
        tx.commit();
        MessageConsumer c = tx.createConsumer(q);
        for (int attempt = 1; attempt <= 10; attempt++) {
            Message m = c.receive(5000);
            assertThat(m.getIntProperty("JMSXDeliveryCount")).isEqualTo(attempt);
            tx.rollback();
        }
        assertThat(c.receive(300)).isNull();
        Message dead = tx.createConsumer(tx.createQueue("DLQ")).receive(5000);
        assertThat(((TextMessage) dead).getText()).isEqualTo("poison");
        assertThat(dead.getStringProperty("JMS_TERN_ORIGINAL_QUEUE")).isEqualTo("poison");
        tx.commit();
    }

    @Test
    void browsersSeeMessagesWithoutConsumingThem() throws Exception {
        Session s = session(Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("browse");
        MessageProducer p = s.createProducer(q);
        for (int i = 0; i < 450; i++) {
            TextMessage m = s.createTextMessage("m" + i);
            m.setBooleanProperty("even", i % 2 == 0);
            p.send(m);
        }
        QueueBrowser all = s.createBrowser(q);
        assertThat(count(all.getEnumeration())).isEqualTo(450);
        QueueBrowser even = s.createBrowser(q, "even = TRUE");
        assertThat(count(even.getEnumeration())).isEqualTo(225);
        assertThat(tern.broker().messageCount("browse")).isEqualTo(450);
        assertThatThrownBy(() -> s.createBrowser(q, "(((")).isInstanceOf(InvalidSelectorException.class);
    }

    private static int count(java.util.Enumeration<?> e) {
        int n = 0;
        while (e.hasMoreElements()) {
            assertThat(e.nextElement()).isInstanceOf(Message.class);
            n++;
        }
        return n;
    }

    @Test
    void temporaryQueuesCarryRequestReply() throws Exception {
        Session s = session(Session.AUTO_ACKNOWLEDGE);
        Queue requests = s.createQueue("requests");
        TemporaryQueue replies = s.createTemporaryQueue();
        Session server = session(Session.AUTO_ACKNOWLEDGE);
        MessageConsumer serverConsumer = server.createConsumer(requests);
        MessageProducer serverProducer = server.createProducer(null);
        serverConsumer.setMessageListener(m -> {
            try {
                serverProducer.send(m.getJMSReplyTo(), server.createTextMessage("re: " + ((TextMessage) m).getText()));
            } catch (JMSException e) {
                throw new IllegalStateException(e);
            }
        });
        TextMessage request = s.createTextMessage("ping");
        request.setJMSReplyTo(replies);
        s.createProducer(requests).send(request);
        MessageConsumer replyConsumer = s.createConsumer(replies);
        assertThat(((TextMessage) replyConsumer.receive(5000)).getText()).isEqualTo("re: ping");
        replyConsumer.close();
        replies.delete();
        assertThatThrownBy(() -> s.createProducer(replies).send(s.createTextMessage("x")))
                .isInstanceOf(jakarta.jms.InvalidDestinationException.class);
    }

    @Test
    void listenersRunOnTheSessionThreadAndAsyncSendsComplete() throws Exception {
        Session s = session(Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("listener");
        Session ps = session(Session.AUTO_ACKNOWLEDGE);
        MessageProducer p = ps.createProducer(q);
        CountDownLatch completed = new CountDownLatch(100);
        List<Exception> failures = new CopyOnWriteArrayList<>();
        for (int i = 0; i < 100; i++) {
            p.send(ps.createTextMessage("m" + i), new CompletionListener() {
                @Override
                public void onCompletion(Message message) {
                    completed.countDown();
                }

                @Override
                public void onException(Message message, Exception exception) {
                    failures.add(exception);
                }
            });
        }
        assertThat(completed.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(failures).isEmpty();
        CountDownLatch received = new CountDownLatch(100);
        List<String> threads = new CopyOnWriteArrayList<>();
        s.createConsumer(q).setMessageListener(m -> {
            threads.add(Thread.currentThread().getName());
            received.countDown();
        });
        assertThat(received.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(threads).allMatch(t -> t.startsWith("tern-session-"));
    }

    @Test
    void aListenerThatThrowsGetsTheMessageAgain() throws Exception {
        Session s = session(Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("listener-throws");
        s.createProducer(q).send(s.createTextMessage("boom"));
        CountDownLatch secondTry = new CountDownLatch(1);
        List<Boolean> redelivered = new CopyOnWriteArrayList<>();
        s.createConsumer(q).setMessageListener(m -> {
            try {
                redelivered.add(m.getJMSRedelivered());
            } catch (JMSException e) {
                throw new IllegalStateException(e);
            }
            if (redelivered.size() == 1) {
                throw new IllegalStateException("first attempt fails on purpose");
            }
            secondTry.countDown();
        });
        assertThat(secondTry.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(redelivered).containsExactly(false, true);
    }

    @Test
    void stoppedConnectionsDeliverNothingUntilStarted() throws Exception {
        Session s = session(Session.AUTO_ACKNOWLEDGE);
        Queue q = s.createQueue("stop-start");
        s.createProducer(q).send(s.createTextMessage("x"));
        connection.stop();
        MessageConsumer c = s.createConsumer(q);
        assertThat(c.receive(300)).isNull();
        connection.start();
        assertThat(c.receive(5000)).isNotNull();
    }

    @Test
    void prefetchZeroConsumersShareAQueueFairly() throws Exception {
        try (Connection slow = tern.factory("prefetch=0").createConnection()) {
            slow.start();
            Session a = slow.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Session b = slow.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = a.createQueue("fair");
            MessageConsumer ca = a.createConsumer(q);
            MessageConsumer cb = b.createConsumer(q);
            MessageProducer p = a.createProducer(q);
            for (int i = 0; i < 4; i++) {
                p.send(a.createTextMessage("m" + i));
            }
            assertThat(ca.receive(5000)).isNotNull();
            assertThat(cb.receive(5000)).as("nothing was prefetched by consumer a").isNotNull();
            assertThat(cb.receiveNoWait()).isNotNull();
            assertThat(ca.receiveNoWait()).isNotNull();
        }
    }
}
