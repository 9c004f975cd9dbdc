package io.tern.it;

import io.tern.client.TernConnectionFactory;
import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.jgroups.Address;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Found by the chaos profile: node S moved m to puller P's link, P stored it (and replicated it to
 * its failover node T), delivered it and had it acknowledged, but S never got P's acknowledgement
 * of the move. P was killed and restarted before it was found gone. T took over P's earlier start
 * (m's id with it), and P's new start discarded what the earlier one stored. S gave m, in doubt
 * since the link closed, to P itself: the node in the view with that id. P's new start stored it
 * again and delivered it a second time. Moves in doubt with an earlier start of a node belong to
 * whoever took that start over.
 */
@Timeout(120)
class MoveInDoubtWithAnEarlierStartTest extends InJvmClusterTest {

    @Test
    void aMoveInDoubtWithANodeRestartedBeforeItWasFoundGoneGoesToTheTakerOfItsEarlierStart() throws Exception {
        cluster = new InJvmCluster(dir);
        cluster.stackProps = Map.of("fd_timeout", "60s"); // the old start is never suspected within the test
        cluster.startInSync("a", "b", "c");
        // The puller is not the coordinator: a new start joins only through a coordinator that answers.
        Address coordinator = cluster.nodes.get(0).cluster().jgroupsChannel().getView().getCoord();
        InJvmCluster.Node puller = cluster.nodes.stream()
                .filter(n -> !n.cluster().jgroupsChannel().getAddress().equals(coordinator)).findFirst().orElseThrow();
        InJvmCluster.Node taker = cluster.failoverOf(puller);
        InJvmCluster.Node source = cluster.nodes.stream().filter(n -> n != puller && n != taker).findFirst().orElseThrow();
        Address pullerAddress = puller.cluster().jgroupsChannel().getAddress();
        // Once armed, what the puller's link tells the source (its acknowledgements of the moves) is lost.
        AtomicBoolean armed = new AtomicBoolean();
        DropsClusterMessages acksLost = DropsClusterMessages.into(source, 'l', m -> armed.get() && pullerAddress.equals(m.getSrc()));

        try (Connection consuming = new TernConnectionFactory(puller.url() + "?failover=false").createConnection();
             Connection producing = new TernConnectionFactory(source.url() + "?failover=false").createConnection()) {
            consuming.start();
            Session cs = consuming.createSession(false, Session.CLIENT_ACKNOWLEDGE);
            MessageConsumer consumer = cs.createConsumer(cs.createQueue("orders"));
            Session ps = producing.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = ps.createProducer(ps.createQueue("orders"));
            producer.send(ps.createTextMessage("warm-up")); // the link opens and has its credit
            Message warmUp = consumer.receive(30_000);
            assertThat(warmUp).as("the puller's link moves the source's messages").isNotNull();
            warmUp.acknowledge();
            await().atMost(Duration.ofSeconds(30)).until(() -> queue(source, "orders").inFlight() == 0);

            armed.set(true);
            producer.send(ps.createTextMessage("m"));
            TextMessage m = (TextMessage) consumer.receive(30_000);
            assertThat(m).as("m moves to the puller").isNotNull();
            assertThat(m.getText()).isEqualTo("m");
            m.acknowledge(); // replicated to the taker before it returns
            await().atMost(Duration.ofSeconds(30)).until(() -> acksLost.dropped.get() > 0);
            assertThat(queue(source, "orders").inFlight()).as("m is out with the puller's link, its acknowledgement lost")
                    .isEqualTo(1);
        }

        // The source settles m only after the new start discarded what the earlier one stored (its ids with it):
        // before that, the new start would drop m as a move its store knows, and hide the fault.
        source.server().broker().availability().doubtOwnership(5_000);
        InJvmCluster.Node restarted = cluster.restartBeforeFoundGone(puller);
        assertThat(restarted.id()).isEqualTo(puller.id());
        await().atMost(Duration.ofSeconds(60)).until(() -> restarted.takeover().lastDiscardedEpoch() >= 0);
        // The source settles m with the taker of the earlier start, which has m's id from its replica.
        await().atMost(Duration.ofSeconds(60)).until(() -> queue(source, "orders").inFlight() == 0);
        for (InJvmCluster.Node n : List.of(source, taker, restarted)) {
            assertThat(n.server().broker().messageCount("orders")).as("messages of orders on %s", n.name()).isZero();
        }
        try (Connection c = new TernConnectionFactory(restarted.url() + "?failover=false").createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            assertThat(s.createConsumer(s.createQueue("orders")).receive(2_000)).as("m, acknowledged once, comes no more")
                    .isNull();
        }
    }
}
