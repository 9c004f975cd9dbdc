package io.tern.it;

import io.tern.client.TernConnectionFactory;
import jakarta.jms.Connection;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.jgroups.Address;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Found by the hundred-cycle chaos profile (seed 85330102507266, one acknowledged send lost): a node
 * moved m to another node's link and never heard that it was stored there, so it kept its copy, in
 * doubt; m then came back to it by a later move. Its replica held m twice, with the same message id:
 * the copy in doubt and the one that came back. Its failover node, taking it over, kept one copy per
 * message id (meant for a failover node that died taking a node over, whose replica repeats the
 * node's) and so dropped the copy that had come back; the copy in doubt was then settled as stored
 * on the other node, which had moved it on long since. Nothing was left of m.
 */
@Timeout(120)
class MoveReturnedBeforeTakeoverTest extends InJvmClusterTest {

    @Test
    void aMessageThatCameBackWhileItsFirstMoveWasInDoubtIsTakenOverOnce() throws Exception {
        cluster = new InJvmCluster(dir);
        List<InJvmCluster.Node> nodes = cluster.startInSync("a", "b", "c");
        InJvmCluster.Node home = nodes.get(0);
        InJvmCluster.Node taker = cluster.failoverOf(home);
        InJvmCluster.Node other = nodes.stream().filter(n -> n != home && n != taker).findFirst().orElseThrow();
        Address otherAddress = other.cluster().jgroupsChannel().getAddress();
        AtomicBoolean armed = new AtomicBoolean();
        // Once armed, the link requests of the other node never reach home: among them its acknowledgement of m.
        DropsClusterMessages loses = DropsClusterMessages.into(home, 'l', m -> armed.get() && otherAddress.equals(m.getSrc()));

        try (Connection producing = new TernConnectionFactory(home.url() + "?failover=false").createConnection();
             Connection away = new TernConnectionFactory(other.url() + "?failover=false").createConnection()) {
            Session ps = producing.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = ps.createProducer(ps.createQueue("orders"));
            away.start();
            Session as = away.createSession(false, Session.CLIENT_ACKNOWLEDGE);
            MessageConsumer awayConsumer = as.createConsumer(as.createQueue("orders"));
            producer.send(ps.createTextMessage("warm-up"));
            TextMessage first = (TextMessage) awayConsumer.receive(30_000);
            assertThat(first).as("the link moved the first message").isNotNull();
            first.acknowledge();
            await().atMost(Duration.ofSeconds(10)).until(() -> queue(home, "orders").messages() == 0);

            armed.set(true);
            producer.send(ps.createTextMessage("m"));
            TextMessage moved = (TextMessage) awayConsumer.receive(30_000);
            assertThat(moved).as("m moved to the other node").isNotNull();
            assertThat(moved.getText()).isEqualTo("m");
            as.close(); // not acknowledged: m is ready on the other node again
            await().atMost(Duration.ofSeconds(10)).until(() -> queue(other, "orders").messages() == 1
                    && queue(other, "orders").inFlight() == 0);
            assertThat(loses.dropped.get()).as("the other node's acknowledgement of m was lost").isPositive();
            assertThat(queue(home, "orders").inFlight()).as("home still has m out with the other node's link").isEqualTo(1);

            // m comes back: a consumer on home pulls it from the other node, and leaves it unacknowledged.
            producing.start();
            Session back = producing.createSession(false, Session.CLIENT_ACKNOWLEDGE);
            MessageConsumer homeConsumer = back.createConsumer(back.createQueue("orders"));
            TextMessage returned = (TextMessage) homeConsumer.receive(30_000);
            assertThat(returned).as("m moved back to home").isNotNull();
            assertThat(returned.getText()).isEqualTo("m");
            back.close();
            await().atMost(Duration.ofSeconds(10)).until(() -> queue(other, "orders").messages() == 0
                    && queue(home, "orders").messages() == 2 && queue(home, "orders").inFlight() == 1);
        }

        cluster.crash(home);
        await().atMost(Duration.ofSeconds(60)).until(() -> taker.id().equals(taker.takeover().holderOf(home.id()))
                && queue(taker, "orders").inFlight() == 0);
        assertThat(drainOrders(taker)).as("m, sent once and never acknowledged, is delivered once").containsExactly("m", "after");
        for (InJvmCluster.Node n : cluster.nodes) {
            assertThat(n.server().broker().messageCount("orders")).as("messages of orders left on %s", n.name()).isZero();
        }
    }
}
