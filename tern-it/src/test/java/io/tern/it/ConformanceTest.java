package io.tern.it;

import io.tern.server.EmbeddedTern;
import jakarta.jms.BytesMessage;
import jakarta.jms.CompletionListener;
import jakarta.jms.Connection;
import jakarta.jms.IllegalStateException;
import jakarta.jms.IllegalStateRuntimeException;
import jakarta.jms.InvalidDestinationException;
import jakarta.jms.JMSConsumer;
import jakarta.jms.JMSContext;
import jakarta.jms.JMSException;
import jakarta.jms.JMSRuntimeException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageFormatRuntimeException;
import jakarta.jms.MessageProducer;
import jakarta.jms.ObjectMessage;
import jakarta.jms.Queue;
import jakarta.jms.QueueConnection;
import jakarta.jms.QueueSession;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import jakarta.jms.TopicConnection;
import jakarta.jms.TopicSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.Serializable;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Where the Jakarta Messaging 3.1 API documentation says what must throw, and what must not: the
 * places a conformance suite found or an audit of the javadoc "throws" clauses turned up (see the
 * README's "Against the API, on purpose" for the ones Tern keeps).
 */
@Timeout(60)
class ConformanceTest {
    private EmbeddedTern tern;

    @BeforeEach
    void start() {
        tern = EmbeddedTern.start();
    }

    /** Asynchronous sends that failed: none may. */
    private static final List<Exception> SEND_FAILURES = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        tern.close();
        assertThat(SEND_FAILURES).as("asynchronous sends that failed").isEmpty();
    }

    /** Not on the ObjectMessage allow-list (java.*): deserializing it is refused. */
    record NotAllowed(int x) implements Serializable {
    }

    @Test
    void aQueueSessionRefusesTheTopicDomainAndATopicSessionTheQueueDomain() throws Exception {
        try (QueueConnection qc = tern.factory().createQueueConnection()) {
            QueueSession qs = qc.createQueueSession(false, Session.AUTO_ACKNOWLEDGE);
            jakarta.jms.Topic t = new io.tern.client.TernTopic("t");
            List<ThrowingCall> topicOnly = List.of(() -> qs.createTopic("t"), qs::createTemporaryTopic,
                    () -> qs.createDurableSubscriber(t, "d"), () -> qs.createDurableConsumer(t, "d"),
                    () -> qs.createSharedConsumer(t, "s"), () -> qs.createSharedDurableConsumer(t, "s"),
                    () -> qs.unsubscribe("d"));
            for (ThrowingCall call : topicOnly) {
                assertThatThrownBy(call::run).isInstanceOf(IllegalStateException.class).hasMessageContaining("QueueSession");
            }
            assertThat(qs.createQueue("q")).isNotNull();
            assertThatThrownBy(() -> qc.createDurableConnectionConsumer(t, "d", null, null, 1))
                    .isInstanceOf(IllegalStateException.class);
        }
        try (TopicConnection tc = tern.factory().createTopicConnection()) {
            TopicSession ts = tc.createTopicSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = new io.tern.client.TernQueue("q");
            List<ThrowingCall> queueOnly = List.of(() -> ts.createQueue("q"), ts::createTemporaryQueue,
                    () -> ts.createBrowser(q), () -> ts.createBrowser(q, "a = 1"));
            for (ThrowingCall call : queueOnly) {
                assertThatThrownBy(call::run).isInstanceOf(IllegalStateException.class).hasMessageContaining("TopicSession");
            }
            assertThat(ts.createTopic("t")).isNotNull();
            // A connection of both domains says only that connection consumers are not provided.
            assertThatThrownBy(() -> tc.createDurableConnectionConsumer(ts.createTopic("t"), "d", null, null, 1))
                    .isInstanceOf(JMSException.class).isNotInstanceOf(IllegalStateException.class);
        }
        try (Connection c = tern.factory().createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            assertThat(s.createTopic("t")).isNotNull();
            assertThat(s.createQueue("q")).isNotNull();
            assertThatThrownBy(() -> c.createSession(false, Session.SESSION_TRANSACTED)).isInstanceOf(JMSException.class)
                    .hasMessageContaining("not transacted");
            assertThatThrownBy(() -> s.createQueue(null)).isInstanceOf(InvalidDestinationException.class);
        }
    }

    interface ThrowingCall {
        void run() throws Exception;
    }

    @Test
    void unsubscribingNullIsAnInvalidNameAndTheConnectionCarriesOn() throws Exception {
        try (Connection c = tern.factory().createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            assertThatThrownBy(() -> s.unsubscribe(null)).isInstanceOf(InvalidDestinationException.class);
            s.close();
            assertThatThrownBy(() -> s.createDurableConsumer(s.createTopic("t"), null))
                    .as("a closed session says so before it looks at the name").isInstanceOf(IllegalStateException.class);
            Session again = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = again.createQueue("after-unsubscribe");
            again.createProducer(q).send(again.createTextMessage("still here"));
            assertThat(((TextMessage) again.createConsumer(q).receive(5_000)).getText()).isEqualTo("still here");
        }
    }

    @Test
    void completionListenersRunApartFromMessageListenersWithTheRulesOfTheApi() throws Exception {
        try (Connection c = tern.factory().createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue("completions");
            MessageProducer p = s.createProducer(q);
            p.setDeliveryMode(jakarta.jms.DeliveryMode.NON_PERSISTENT);
            CompletableFuture<Throwable> closeOwnProducer = new CompletableFuture<>();
            CompletableFuture<Throwable> stopConnection = new CompletableFuture<>();
            p.send(s.createTextMessage("one"), new Completion(m -> {
                closeOwnProducer.complete(thrownBy(p::close));
                stopConnection.complete(thrownBy(() -> {
                    c.stop();
                    c.start();
                }));
            }));
            assertThat(closeOwnProducer.get(10, TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class);
            assertThat(stopConnection.get(10, TimeUnit.SECONDS)).as("a completion listener may stop its connection").isNull();

            // A message listener may send asynchronously on its own session.
            Session ls = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer replies = ls.createProducer(ls.createQueue("replies"));
            CountDownLatch completed = new CountDownLatch(1);
            List<Throwable> failures = new CopyOnWriteArrayList<>();
            ls.createConsumer(ls.createQueue("requests")).setMessageListener(m -> {
                try {
                    replies.send(ls.createTextMessage("reply"), new Completion(x -> completed.countDown()));
                } catch (JMSException e) {
                    failures.add(e);
                }
            });
            s.createProducer(s.createQueue("requests")).send(s.createTextMessage("request"));
            assertThat(completed.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(failures).isEmpty();

            // A transacted session's own completion listener may not commit it; commit waits for the sends.
            Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
            MessageProducer tp = tx.createProducer(tx.createQueue("tx"));
            CompletableFuture<Throwable> commitFromCallback = new CompletableFuture<>();
            List<String> calledBack = new CopyOnWriteArrayList<>();
            for (int i = 0; i < 20; i++) {
                int n = i;
                tp.send(tx.createTextMessage("t" + i), new Completion(m -> {
                    calledBack.add("t" + n);
                    if (n == 0) {
                        commitFromCallback.complete(thrownBy(tx::commit));
                    }
                }));
            }
            tx.commit();
            assertThat(calledBack).as("every callback returned before commit did").hasSize(20);
            assertThat(commitFromCallback.get(10, TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class);
            assertThat(tern.broker().messageCount("tx")).isEqualTo(20);
        }
    }

    @Test
    void closingASessionWaitsForItsAsynchronousSendsAndTheirCallbacks() throws Exception {
        try (Connection c = tern.factory().createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue("close-waits"));
            List<String> calledBack = new CopyOnWriteArrayList<>();
            for (int i = 0; i < 200; i++) {
                int n = i;
                p.send(s.createTextMessage("m" + i), new Completion(m -> calledBack.add("m" + n)));
            }
            s.close();
            assertThat(calledBack).hasSize(200);
        }
    }

    @Test
    void receiveBodyOfAMessageWithoutSuchABodyThrowsAndLeavesItFirstInLine() throws Exception {
        try (JMSContext ctx = tern.factory().createContext()) {
            Queue q = ctx.createQueue("bodies");
            ctx.createProducer().send(q, ctx.createMessage()).send(q, "text");
            JMSConsumer consumer = ctx.createConsumer(q);
            assertThatThrownBy(() -> consumer.receiveBody(String.class, 5_000)).isInstanceOf(MessageFormatRuntimeException.class)
                    .hasMessageContaining("no body");
            Message again = consumer.receive(5_000);
            assertThat(again).as("the same message, first in line").isNotNull();
            assertThat(again.getJMSRedelivered()).as("not counted as delivered").isFalse();
            assertThatThrownBy(() -> consumer.receiveBody(Integer.class, 5_000)).isInstanceOf(MessageFormatRuntimeException.class);
            assertThat(consumer.receiveBody(String.class, 5_000)).isEqualTo("text");
        }
    }

    @Test
    void aMessageConsumerClosedFromAnotherThreadWaitsForItsRunningListener() throws Exception {
        try (Connection c = tern.factory().createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue("slow-listener");
            MessageConsumer consumer = s.createConsumer(q);
            CountDownLatch inListener = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            List<String> done = new CopyOnWriteArrayList<>();
            consumer.setMessageListener(m -> {
                inListener.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                done.add("listener");
            });
            s.createProducer(q).send(s.createTextMessage("x"));
            assertThat(inListener.await(10, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> {
                try {
                    consumer.close();
                    done.add("closed");
                } catch (JMSException e) {
                    throw new RuntimeException(e);
                }
            });
            // close() must still be waiting while the listener runs; then it returns after it.
            await().during(java.time.Duration.ofMillis(300)).atMost(java.time.Duration.ofSeconds(5)).until(() -> !closing.isDone());
            release.countDown();
            closing.get(10, TimeUnit.SECONDS);
            assertThat(done).containsExactly("listener", "closed");
        }
    }

    @Test
    void messageBodiesFollowTheGetBodyRules() throws Exception {
        try (Connection c = tern.factory().createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            ObjectMessage om = s.createObjectMessage(new NotAllowed(1));
            assertThat(om.isBodyAssignableTo(Serializable.class)).as("true would promise that getBody works").isFalse();
            BytesMessage bm = s.createBytesMessage();
            bm.writeInt(7);
            bm.writeInt(8);
            assertThat(bm.getBody(byte[].class)).hasSize(8);
            assertThat(bm.readInt()).as("getBody resets the message: reading starts at the beginning").isEqualTo(7);
            bm.readInt();
            assertThat(bm.getBody(byte[].class)).hasSize(8);
            assertThat(bm.readInt()).isEqualTo(7);
        }
    }

    @Test
    void aPropertyMayHaveAnyNonEmptyNameAndTravelsWithTheMessage() throws Exception {
        try (Connection c = tern.factory().createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue("property-names");
            TextMessage m = s.createTextMessage("named");
            m.setBooleanProperty("true", true); // other brokers accept it; a selector cannot name it
            m.setStringProperty("a-b", "dash");
            m.setIntProperty("x.y", 7);
            assertThatThrownBy(() -> m.setStringProperty("", "v")).isInstanceOf(IllegalArgumentException.class);
            s.createProducer(q).send(m);
            Message got = s.createConsumer(q).receive(5_000);
            assertThat(got.getBooleanProperty("true")).isTrue();
            assertThat(got.getStringProperty("a-b")).isEqualTo("dash");
            assertThat(got.getIntProperty("x.y")).isEqualTo(7);
        }
    }

    @Test
    void sharedAndUnsharedDurableSubscriptionsOfOneNameAndClientIdExclude() throws Exception {
        try (Connection c = tern.factory().createConnection()) {
            c.setClientID("conformance-kinds");
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            jakarta.jms.Topic t = s.createTopic("kinds");
            s.createDurableConsumer(t, "unshared").close();
            assertThatThrownBy(() -> s.createSharedDurableConsumer(t, "unshared")).isInstanceOf(JMSException.class)
                    .hasMessageContaining("unshared durable subscription named 'unshared' exists");
            s.createSharedDurableConsumer(t, "shared").close();
            assertThatThrownBy(() -> s.createDurableConsumer(t, "shared")).isInstanceOf(JMSException.class)
                    .hasMessageContaining("shared durable subscription named 'shared' exists");
            s.unsubscribe("unshared");
            s.unsubscribe("shared");
            s.createSharedDurableConsumer(t, "unshared").close(); // the name is free again
            s.unsubscribe("unshared");
        }
    }

    @Test
    void aDurableNoLocalSubscriptionNeverStoresWhatItsClientIdPublishes() throws Exception {
        try (Connection own = tern.factory().createConnection(); Connection other = tern.factory().createConnection()) {
            own.setClientID("conformance-nolocal");
            Session s = own.createSession(false, Session.AUTO_ACKNOWLEDGE);
            jakarta.jms.Topic t = s.createTopic("nolocal");
            s.createDurableConsumer(t, "sub", null, true).close();
            s.createProducer(t).send(s.createTextMessage("own"));
            Session o = other.createSession(false, Session.AUTO_ACKNOWLEDGE);
            o.createProducer(t).send(o.createTextMessage("other"));
        }
        try (Connection again = tern.factory().createConnection()) {
            again.setClientID("conformance-nolocal"); // the same client id, a new connection
            again.start();
            Session s = again.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer sub = s.createDurableConsumer(s.createTopic("nolocal"), "sub", null, true);
            assertThat(((TextMessage) sub.receive(5_000)).getText()).isEqualTo("other");
            assertThat(sub.receive(300)).as("the own publication was never added").isNull();
            sub.close();
            s.unsubscribe("sub");
        }
    }

    @Test
    void aDurableSubscriptionNeedsATopicThatIsNotTemporary() throws Exception {
        try (Connection c = tern.factory().createConnection()) {
            c.setClientID("conformance-durable");
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            jakarta.jms.TemporaryTopic t = s.createTemporaryTopic();
            assertThatThrownBy(() -> s.createDurableConsumer(t, "d")).isInstanceOf(InvalidDestinationException.class);
        }
    }

    @Test
    void contextsLeaveNoConnectionOpenBehind() throws Exception {
        assertThatThrownBy(() -> tern.factory().createContext(-1)).isInstanceOf(JMSRuntimeException.class);
        assertThat(tern.broker().connectionCount()).as("a bad mode is refused before connecting").isZero();

        JMSContext ctx = tern.factory().createContext();
        Queue q = ctx.createQueue("context-close");
        CompletableFuture<Throwable> closeFromListener = new CompletableFuture<>();
        ctx.createConsumer(q).setMessageListener(m -> closeFromListener.complete(thrownBy(ctx::close)));
        ctx.createProducer().send(q, "x");
        assertThat(closeFromListener.get(10, TimeUnit.SECONDS)).isInstanceOf(IllegalStateRuntimeException.class);
        ctx.close(); // the refused close left the context whole: this one closes its connection
        await().atMost(java.time.Duration.ofSeconds(10)).until(() -> tern.broker().connectionCount() == 0);

        JMSContext first = tern.factory().createContext();
        JMSContext second = first.createContext(JMSContext.AUTO_ACKNOWLEDGE); // shares the connection
        first.createProducer();
        first.close();
        List<ThrowingCall> onClosed = List.of(first::createProducer, first::getClientID, first::getMetaData, first::start,
                first::stop, first::getSessionMode, first::getAutoStart, first::acknowledge, first::getExceptionListener);
        for (ThrowingCall call : onClosed) {
            assertThatThrownBy(call::run).as("a closed context, though its connection serves another")
                    .isInstanceOf(IllegalStateRuntimeException.class);
        }
        assertThat(second.getMetaData()).isNotNull();
        second.close();
    }

    private static Throwable thrownBy(ThrowingRunnable r) {
        try {
            r.run();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** A completion listener that runs {@code then} on completion and records a failure (none is expected). */
    private record Completion(java.util.function.Consumer<Message> then) implements CompletionListener {
        @Override
        public void onCompletion(Message message) {
            then.accept(message);
        }

        @Override
        public void onException(Message message, Exception exception) {
            SEND_FAILURES.add(exception);
        }
    }
}
