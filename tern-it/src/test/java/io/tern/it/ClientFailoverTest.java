package io.tern.it;

import io.tern.client.FailoverEvent;
import io.tern.client.TernConnectionFactory;
import io.tern.server.EmbeddedTern;
import io.tern.discovery.FreePorts;
import io.tern.testkit.TcpProxy;
import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Queue;
import jakarta.jms.Session;
import jakarta.jms.TemporaryQueue;
import jakarta.jms.TextMessage;
import jakarta.jms.TransactionRolledBackException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Failover between independent servers in one JVM. Closing an {@link EmbeddedTern} drops its
 * connections without a notice, which is what a client sees of a crash; {@code shutdownGracefully}
 * is the lame-duck stop.
 */
@Timeout(60)
class ClientFailoverTest {
    private final List<EmbeddedTern> servers = new ArrayList<>();
    private final List<FailoverEvent> events = new CopyOnWriteArrayList<>();
    private final List<JMSException> errors = new CopyOnWriteArrayList<>();

    @AfterEach
    void stopServers() {
        servers.forEach(EmbeddedTern::close);
    }

    private EmbeddedTern server() {
        EmbeddedTern s = EmbeddedTern.start();
        servers.add(s);
        return s;
    }

    private Connection connect(String url) throws JMSException {
        TernConnectionFactory f = new TernConnectionFactory(url);
        f.setFailoverListener(events::add);
        Connection c = f.createConnection();
        c.setExceptionListener(errors::add);
        c.start();
        return c;
    }

    private static String list(EmbeddedTern... nodes) {
        StringBuilder b = new StringBuilder("tern://");
        for (EmbeddedTern n : nodes) {
            b.append(b.length() > 7 ? "," : "").append("127.0.0.1:").append(n.port());
        }
        return b.append("?reconnectAttempts=1&reconnectDelay=20").toString();
    }

    private List<FailoverEvent> completed() {
        return events.stream().filter(e -> e.kind() == FailoverEvent.Kind.COMPLETED).toList();
    }

    @Test
    void aCrashedServerIsLeftForTheNextWithNoErrorForTheApplication() throws Exception {
        EmbeddedTern a = server();
        EmbeddedTern b = server();
        try (Connection c = connect(list(a, b))) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue("orders");
            MessageProducer p = s.createProducer(q);
            List<String> got = new CopyOnWriteArrayList<>();
            MessageConsumer consumer = s.createConsumer(q);
            consumer.setMessageListener(m -> got.add(text(m)));
            for (int i = 0; i < 50; i++) {
                p.send(s.createTextMessage("before-" + i));
            }
            await().until(() -> got.size() == 50);
            assertThat(a.broker().connectionCount()).isEqualTo(1);

            a.close();
            for (int i = 0; i < 50; i++) {
                p.send(s.createTextMessage("after-" + i)); // waits for the failover, then goes to b
            }
            await().until(() -> got.size() == 100);
            assertThat(got.subList(50, 100)).allMatch(t -> t.startsWith("after-"));
            assertThat(b.broker().connectionCount()).isEqualTo(1);
            await().until(() -> completed().size() == 1);
            FailoverEvent done = completed().get(0);
            assertThat(done.from()).endsWith(":" + a.port());
            assertThat(done.to()).endsWith(":" + b.port());
            assertThat(done.planned()).isFalse();
            assertThat(events.get(0).kind()).isEqualTo(FailoverEvent.Kind.STARTED);
            assertThat(errors).isEmpty();
        }
    }

    @Test
    void aPulledCableIsRetriedOnTheSameServerWhichDropsTheResentSend() throws Exception {
        EmbeddedTern a = server();
        try (TcpProxy cable = new TcpProxy(a.port());
             Connection c = connect("tern://127.0.0.1:" + cable.port() + "?reconnectAttempts=5&reconnectDelay=20")) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue("once");
            MessageProducer p = s.createProducer(q);
            p.send(s.createTextMessage("first"));
            cable.holdReplies(true); // the server stores the next send, and its answer is lost
            CompletableFuture<Void> send = CompletableFuture.runAsync(() -> {
                try {
                    p.send(s.createTextMessage("exactly-once"));
                } catch (JMSException e) {
                    throw new IllegalStateException(e);
                }
            });
            await().until(() -> a.broker().messageCount("once") == 2);
            assertThat(send).isNotDone();
            cable.cut();
            cable.holdReplies(false);
            send.get(); // resent on the new connection to the same server, with the same duplicate id

            assertThat(a.broker().duplicatesDropped()).isEqualTo(1);
            assertThat(a.broker().messageCount("once")).isEqualTo(2);
            await().until(() -> completed().size() == 1);
            assertThat(completed().get(0).from()).isEqualTo(completed().get(0).to());
            assertThat(completed().get(0).inDoubtMessageIds()).isEmpty(); // the same server: nothing in doubt
            c.start();
            MessageConsumer consumer = s.createConsumer(q);
            assertThat(text(consumer.receive(10_000))).isEqualTo("first");
            assertThat(text(consumer.receive(10_000))).isEqualTo("exactly-once");
            assertThat(consumer.receiveNoWait()).isNull();
            assertThat(errors).isEmpty();
        }
    }

    @Test
    void aNodeWithoutQuorumRefusesTheSendAndTheClientSendsOnAnotherNode() throws Exception {
        EmbeddedTern a = server();
        EmbeddedTern b = server();
        try (Connection c = connect(list(a, b))) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue("quorate"));
            p.send(s.createTextMessage("on a"));
            a.broker().availability().quorum("node a is in a minority partition");
            p.send(s.createTextMessage("on b")); // refused by a, moved, sent to b
            assertThat(a.broker().messageCount("quorate")).isEqualTo(1);
            assertThat(b.broker().messageCount("quorate")).isEqualTo(1);
            await().until(() -> completed().size() == 1);
            assertThat(completed().get(0).to()).endsWith(":" + b.port());
            assertThat(errors).isEmpty();

            b.broker().availability().quorum("node b is in a minority partition");
            assertThatThrownBy(() -> p.send(s.createTextMessage("nowhere")))
                    .isInstanceOf(JMSException.class).hasMessageContaining("minority partition")
                    .hasMessageMatching("(?s).*tern://127\\.0\\.0\\.1:(" + a.port() + "|" + b.port() + ").*"); // which server said so
        }
    }

    /**
     * The only server reachable refuses sends for want of quorum (as a survivor does when two of
     * three are gone): the connection finds no other server, and the error the application gets says
     * why it moved, with the server's own reason, not just that no other server answered.
     */
    @Test
    void whenNoServerCanTakeARefusedSendTheErrorSaysWhyItMoved() throws Exception {
        EmbeddedTern a = server();
        a.broker().availability().quorum("node a is in a partition without a majority (it misses b, c)");
        try (Connection c = connect(list(a) + "&failoverTimeout=1000")) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue("refused"));
            assertThatThrownBy(() -> p.send(s.createTextMessage("nowhere"))).isInstanceOf(JMSException.class)
                    .hasMessageContaining("no other server is known")
                    .hasMessageContaining("It began because tern://127.0.0.1:" + a.port() + " refuses sends")
                    .hasMessageContaining("without a majority (it misses b, c)");
        }
    }

    @Test
    void aFencedNodeDeliversNothingUntilTheFenceLifts() throws Exception {
        EmbeddedTern a = server();
        try (Connection c = connect(list(a))) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Queue q = s.createQueue("held");
            s.createProducer(q).send(s.createTextMessage("waits"));
            // As a node does while it discards what was taken over: its connections stay, nothing moves.
            a.broker().availability().fence("discarding what was taken over");
            MessageConsumer consumer = s.createConsumer(q);
            assertThat(consumer.receive(300)).isNull();
            assertThat(a.broker().state()).isEqualTo("fenced");
            a.broker().availability().unfence("discarded");
            assertThat(text(consumer.receive(10_000))).isEqualTo("waits");
        }
    }

    @Test
    void aTemporaryQueueKeepsItsNameAndABrowserCarriesOnAcrossAFailover() throws Exception {
        EmbeddedTern a = server();
        EmbeddedTern b = server();
        try (Connection c = connect(list(a, b))) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            TemporaryQueue replies = s.createTemporaryQueue();
            MessageConsumer consumer = s.createConsumer(replies);
            Queue browsed = s.createQueue("browsed");
            jakarta.jms.QueueBrowser browser = s.createBrowser(browsed);
            a.close();
            s.createProducer(replies).send(s.createTextMessage("reply"));
            assertThat(text(consumer.receive(10_000))).isEqualTo("reply");
            s.createProducer(browsed).send(s.createTextMessage("seen by the browser made before the failover"));
            @SuppressWarnings("unchecked")
            java.util.Enumeration<Message> pages = browser.getEnumeration();
            assertThat(java.util.Collections.list(pages)).extracting(ClientFailoverTest::text)
                    .containsExactly("seen by the browser made before the failover");
            assertThat(errors).isEmpty();
        }
    }

    @Test
    void aTransactionThatOnlySentGoesOnOnTheNextServer() throws Exception {
        EmbeddedTern a = server();
        EmbeddedTern b = server();
        try (Connection c = connect(list(a, b))) {
            Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
            Queue q = tx.createQueue("ledger");
            MessageProducer p = tx.createProducer(q);
            p.send(tx.createTextMessage("sent-to-a"));
            a.close();
            p.send(tx.createTextMessage("sent-after-the-failover"));
            tx.commit(); // the client kept the transaction's sends and sent them again to b

            Session reader = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = reader.createConsumer(q);
            assertThat(text(consumer.receive(10_000))).isEqualTo("sent-to-a");
            assertThat(text(consumer.receive(10_000))).isEqualTo("sent-after-the-failover");
            assertThat(consumer.receiveNoWait()).isNull();
            assertThat(errors).isEmpty();
        }
    }

    @Test
    void aTransactionThatReceivedFromAServerWithoutReplicationIsRolledBackAndTheNextOneCommits() throws Exception {
        EmbeddedTern a = server();
        EmbeddedTern b = server();
        try (Connection c = connect(list(a, b))) {
            c.start();
            Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
            Queue in = tx.createQueue("in");
            Queue out = tx.createQueue("out");
            tx.createProducer(in).send(tx.createTextMessage("on-a"));
            tx.commit();
            MessageConsumer consumer = tx.createConsumer(in);
            assertThat(text(consumer.receive(10_000))).isEqualTo("on-a");
            MessageProducer p = tx.createProducer(out);
            p.send(tx.createTextMessage("never-applied"));
            a.close(); // nobody took a over: what the transaction received there cannot be committed elsewhere
            assertThatThrownBy(tx::commit).isInstanceOf(TransactionRolledBackException.class)
                    .hasMessageContaining("rolled back");

            p.send(tx.createTextMessage("next"));
            tx.commit();
            Session reader = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer outReader = reader.createConsumer(out);
            assertThat(text(outReader.receive(10_000))).isEqualTo("next");
            assertThat(outReader.receiveNoWait()).as("nothing of the rolled-back transaction").isNull();
            assertThat(errors).isEmpty();
        }
    }

    @Test
    void whenNoServerIsLeftTheExceptionListenerHearsWhatWasTried() throws Exception {
        EmbeddedTern a = server();
        int dead = FreePorts.free();
        try (Connection c = connect("tern://127.0.0.1:" + a.port() + ",127.0.0.1:" + dead
                + "?reconnectAttempts=2&reconnectDelay=10&connectTimeout=500&failoverTimeout=1000")) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            a.close();
            await().until(() -> errors.size() == 1);
            // Rounds of 10, 20, 40 ... ms pauses fit several times into the second the failover may take.
            assertThat(errors.get(0).getMessage()).contains("failover from tern://127.0.0.1:" + a.port() + " failed after")
                    .containsPattern("after ([2-9]|[1-9][0-9]+) round\\(s\\)")
                    .contains("127.0.0.1:" + dead);
            assertThat(events).extracting(FailoverEvent::kind)
                    .containsExactly(FailoverEvent.Kind.STARTED, FailoverEvent.Kind.FAILED);
            assertThatThrownBy(() -> s.createProducer(s.createQueue("q")).send(s.createTextMessage("x")))
                    .isInstanceOf(JMSException.class).hasMessageContaining("failover");
        }
    }

    @Test
    void aLameDuckNoticeMovesClientsWhileTheyKeepWhatTheyHoldUnacknowledged() throws Exception {
        EmbeddedTern a = server();
        EmbeddedTern b = server();
        try (Connection c = connect(list(a, b))) {
            Session s = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
            Queue q = s.createQueue("work");
            MessageProducer p = s.createProducer(q);
            for (int i = 0; i < 20; i++) {
                p.send(s.createTextMessage("a-" + i));
            }
            MessageConsumer consumer = s.createConsumer(q);
            Message held = null;
            for (int i = 0; i < 5; i++) {
                held = consumer.receive(10_000);
                assertThat(text(held)).isEqualTo("a-" + i);
            }
            CompletableFuture<Integer> stopping = CompletableFuture.supplyAsync(
                    () -> a.server().shutdownGracefully(() -> "tern://127.0.0.1:" + b.port(), 20_000));
            await().until(() -> completed().size() == 1);
            assertThat(completed().get(0).planned()).isTrue();
            assertThat(completed().get(0).to()).endsWith(":" + b.port());
            assertThat(stopping).isNotDone(); // a waits: the application still holds five of its messages

            p.send(s.createTextMessage("b-0"));
            assertThat(text(consumer.receive(10_000))).isEqualTo("b-0");
            held.acknowledge(); // the five from a go back to a, b-0 to b
            assertThat(stopping.get()).isZero(); // every client left before the grace ran out
            a.restart();
            assertThat(a.broker().messageCount("work")).isEqualTo(15); // 20 sent, 5 acknowledged: the rest stayed on a
            assertThat(errors).isEmpty();
        }
    }

    private static String text(Message m) {
        try {
            return m == null ? null : ((TextMessage) m).getText();
        } catch (JMSException e) {
            throw new IllegalStateException(e);
        }
    }
}
