package io.tern.it;

import io.tern.client.FailoverEvent;
import io.tern.client.TernConnectionFactory;
import io.tern.protocol.Frame;
import io.tern.protocol.Request;
import io.tern.protocol.Response;
import io.tern.protocol.ResponseFrame;
import io.tern.testkit.RawClient;
import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Session recovery (issue 5, points 3 and 4): a client holds unacknowledged messages when its node
 * crashes; the failover node, which took them over, keeps them for that client's session, so the
 * application acknowledges or commits them there and nobody else gets them. A node that does not
 * own the dead node's messages redirects the client; the owner holds its hello until the takeover
 * is complete.
 */
@Timeout(120)
class SessionRecoveryTest {
    @TempDir
    Path dir;

    private InJvmCluster cluster;

    @BeforeEach
    void create() {
        cluster = new InJvmCluster(dir);
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    private static String text(Message m) throws JMSException {
        return ((TextMessage) m).getText();
    }

    private final List<FailoverEvent> events = new CopyOnWriteArrayList<>();

    /** A factory for a client of {@code node} that retries it once, briefly, then fails over. */
    private TernConnectionFactory clientOf(InJvmCluster.Node node) {
        TernConnectionFactory cf = new TernConnectionFactory(node.url() + "?reconnectAttempts=1&reconnectDelay=20");
        cf.setFailoverListener(events::add);
        return cf;
    }

    private static List<String> send(Session s, String queue, String prefix, int n) throws JMSException {
        MessageProducer p = s.createProducer(s.createQueue(queue));
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            p.send(s.createTextMessage(prefix + i));
            texts.add(prefix + i);
        }
        return texts;
    }

    @Test
    void clientAcknowledgedMessagesHeldAtTheCrashAreAcknowledgedOnTheFailoverNodeAndGoToNobodyElse() throws Exception {
        List<InJvmCluster.Node> all = cluster.startInSync("a", "b", "c");
        InJvmCluster.Node a = all.get(0);
        InJvmCluster.Node f = cluster.failoverOf(a);
        try (Connection c = clientOf(a).createConnection();
             Connection rival = new TernConnectionFactory(f.url() + "?failover=false").createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
            send(s, "orders", "order-", 100);
            MessageConsumer consumer = s.createConsumer(s.createQueue("orders"));
            List<String> held = new ArrayList<>();
            Message last = null;
            for (int i = 0; i < 30; i++) {
                last = consumer.receive(10_000);
                held.add(text(last));
            }
            assertThat(held.get(29)).isEqualTo("order-29");
            // A competing consumer on the failover node, ready before the crash.
            rival.start();
            Session rs = rival.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer rivalConsumer = rs.createConsumer(rs.createQueue("orders"));

            cluster.crash(a);
            await().until(() -> events.stream().anyMatch(e -> e.kind() == FailoverEvent.Kind.COMPLETED));

            // The 30 the application holds: acknowledged on the failover node, no ACKNOWLEDGEMENT_LOST.
            Set<String> got = new HashSet<>(held);
            List<String> rivalGot = new ArrayList<>();
            last.acknowledge();
            // Everything else is delivered once, to one of the two consumers, and none of the 30 again.
            await().atMost(java.time.Duration.ofSeconds(30)).until(() -> {
                Message m;
                while ((m = consumer.receive(50)) != null) {
                    assertThat(got.add(text(m))).as("%s delivered twice", text(m)).isTrue();
                    m.acknowledge();
                }
                while ((m = rivalConsumer.receive(50)) != null) {
                    rivalGot.add(text(m));
                }
                return got.size() + rivalGot.size() >= 100;
            });
            assertThat(rivalGot).doesNotContainAnyElementsOf(held);
            Set<String> union = new HashSet<>(got);
            rivalGot.forEach(t -> assertThat(union.add(t)).as("%s delivered twice", t).isTrue());
            assertThat(union).hasSize(100);
            assertThat(f.server().broker().heldForRecoveryCount()).isZero();
            assertThat(f.server().broker().messageCount("orders")).isZero();
        }
    }

    @Test
    void aTransactionOpenAtTheCrashCommitsOnTheFailoverNode() throws Exception {
        transactionOpenAtTheCrash(false);
    }

    @Test
    void aCommitCalledWhileTheFailoverIsUnderWayWaitsForItAndCommitsOnTheFailoverNode() throws Exception {
        transactionOpenAtTheCrash(true);
    }

    /**
     * Receives 10 and sends 10 in a transaction, crashes the node, and commits: after the failover,
     * or ({@code duringFailover}) as soon as it has begun, while the failover node still waits for
     * the dead node to leave its view.
     */
    private void transactionOpenAtTheCrash(boolean duringFailover) throws Exception {
        List<InJvmCluster.Node> all = cluster.startInSync("a", "b", "c");
        InJvmCluster.Node a = all.get(0);
        InJvmCluster.Node f = cluster.failoverOf(a);
        try (Connection c = clientOf(a).createConnection()) {
            c.start();
            Session setup = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            send(setup, "in", "in-", 20);
            Session tx = c.createSession(true, Session.SESSION_TRANSACTED);
            MessageConsumer in = tx.createConsumer(tx.createQueue("in"));
            MessageProducer out = tx.createProducer(tx.createQueue("out"));
            for (int i = 0; i < 10; i++) {
                Message m = in.receive(10_000);
                out.send(tx.createTextMessage("out-" + text(m)));
            }

            cluster.crash(a);
            if (duringFailover) {
                await().until(() -> events.stream().anyMatch(e -> e.kind() == FailoverEvent.Kind.STARTED));
                assertThat(events).as("the failover is still under way when commit() is called")
                        .noneMatch(e -> e.kind() == FailoverEvent.Kind.COMPLETED);
            } else {
                await().until(() -> events.stream().anyMatch(e -> e.kind() == FailoverEvent.Kind.COMPLETED));
            }
            tx.commit(); // the 10 received and the 10 sent, all or nothing, on the failover node

            assertThat(f.server().broker().messageCount("out")).isEqualTo(10);
            assertThat(f.server().broker().messageCount("in")).as("the other 10, and none of the committed").isEqualTo(10);
            Set<String> rest = new HashSet<>();
            Message m;
            while (rest.size() < 10 && (m = in.receive(10_000)) != null) {
                rest.add(text(m));
            }
            tx.commit();
            Set<String> expected = new HashSet<>();
            for (int i = 10; i < 20; i++) {
                expected.add("in-" + i);
            }
            assertThat(rest).isEqualTo(expected);
        }
    }

    @Test
    void aNodeThatDoesNotOwnTheDeadNodeRedirectsAndTheOwnerHoldsTheHelloUntilItsTakeoverIsDone() throws Exception {
        List<InJvmCluster.Node> all = cluster.startInSync("a", "b", "c");
        InJvmCluster.Node a = all.get(0);
        InJvmCluster.Node f = cluster.failoverOf(a);
        InJvmCluster.Node other = all.stream().filter(n -> n != a && n != f).findFirst().orElseThrow();

        // While a is alive, the owner holds a hello that comes from a.
        try (RawClient early = new RawClient(URI.create(f.url()).getPort()).handshake()) {
            early.send(1, 0, new Request.Hello(null, null, "raw", "key-early", a.id(), false));
            cluster.crash(a);
            Frame answer = early.readFrame();
            assertThat(((ResponseFrame) answer).response()).isInstanceOf(Response.Welcome.class);
            assertThat(f.takeover().records()).as("answered only after the takeover").containsKey(a.id());
        }
        // Another node sends a's clients to the owner.
        try (RawClient raw = new RawClient(URI.create(other.url()).getPort()).handshake()) {
            raw.send(1, 0, new Request.Hello(null, null, "raw", "key-1", a.id(), false));
            Response r = ((ResponseFrame) raw.readFrame()).response();
            assertThat(r).isInstanceOfSatisfying(Response.Redirect.class, d -> assertThat(d.uri()).isEqualTo(f.url()));
        }
    }
}
