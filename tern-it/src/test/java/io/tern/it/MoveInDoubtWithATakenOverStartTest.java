package io.tern.it;

import io.tern.client.TernConnectionFactory;
import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.jgroups.Address;
import org.jgroups.protocols.DISCARD;
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
 * whoever took that start over; and so do those with a start taken over while it was cut off, once
 * it is back and has discarded.
 */
@Timeout(120)
class MoveInDoubtWithATakenOverStartTest extends InJvmClusterTest {

    /** The source moves to the puller's link; the taker is the puller's failover node. */
    private record Roles(InJvmCluster.Node puller, InJvmCluster.Node taker, InJvmCluster.Node source, AtomicBoolean acksLost,
                         DropsClusterMessages drops) {
    }

    private Roles start(Map<String, String> stackProps) throws Exception {
        cluster = new InJvmCluster(dir);
        cluster.stackProps = stackProps;
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
        DropsClusterMessages drops = DropsClusterMessages.into(source, 'l', m -> armed.get() && pullerAddress.equals(m.getSrc()));
        return new Roles(puller, taker, source, armed, drops);
    }

    /** m moves to the puller, which stores it (replicated to the taker) and has it acknowledged; the source never hears. */
    private static void moveWithItsAcknowledgementLost(Roles r) throws Exception {
        try (Connection consuming = new TernConnectionFactory(r.puller().url() + "?failover=false").createConnection();
             Connection producing = new TernConnectionFactory(r.source().url() + "?failover=false").createConnection()) {
            consuming.start();
            Session cs = consuming.createSession(false, Session.CLIENT_ACKNOWLEDGE);
            MessageConsumer consumer = cs.createConsumer(cs.createQueue("orders"));
            Session ps = producing.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = ps.createProducer(ps.createQueue("orders"));
            producer.send(ps.createTextMessage("warm-up")); // the link opens and has its credit
            Message warmUp = consumer.receive(30_000);
            assertThat(warmUp).as("the puller's link moves the source's messages").isNotNull();
            warmUp.acknowledge();
            await().atMost(Duration.ofSeconds(30)).until(() -> queue(r.source(), "orders").inFlight() == 0);

            r.acksLost().set(true);
            producer.send(ps.createTextMessage("m"));
            TextMessage m = (TextMessage) consumer.receive(30_000);
            assertThat(m).as("m moves to the puller").isNotNull();
            assertThat(m.getText()).isEqualTo("m");
            m.acknowledge(); // replicated to the taker before it returns
            await().atMost(Duration.ofSeconds(30)).until(() -> r.drops().dropped.get() > 0);
            assertThat(queue(r.source(), "orders").inFlight()).as("m is out with the puller's link, its acknowledgement lost")
                    .isEqualTo(1);
        }
    }

    /** What each node knows of the takeover, for the message of a failed wait. */
    private static String takeoverState(Roles r, InJvmCluster.Node restarted) {
        StringBuilder b = new StringBuilder();
        for (InJvmCluster.Node n : List.of(r.taker(), r.source(), restarted)) {
            b.append(n.name()).append(n == r.taker() ? " (taker)" : n == restarted ? " (restarted)" : " (source)")
                    .append(": state ").append(n.server().broker().availability().state())
                    .append(", records ").append(n.takeover().records())
                    .append(", takeovers ").append(n.takeover().takeovers())
                    .append(", failed waiting ").append(n.takeover().failedTakeoversWaiting())
                    .append(", taking over ").append(n.takeover().takingOver())
                    .append(", holder of the puller ").append(n.takeover().holderOf(restarted.id()))
                    .append(", view members ").append(n.cluster().topology().members().stream().map(m -> m.name()).toList())
                    .append(", view ").append(n.cluster().jgroupsChannel().getView()).append("; ");
        }
        return b.toString();
    }

    /** The source settled m, and no node holds it: it was delivered and acknowledged once. */
    private static void settledOnce(Roles r, InJvmCluster.Node puller) throws Exception {
        await().atMost(Duration.ofSeconds(60)).until(() -> queue(r.source(), "orders").inFlight() == 0);
        for (InJvmCluster.Node n : List.of(r.source(), r.taker(), puller)) {
            assertThat(n.server().broker().messageCount("orders")).as("messages of orders on %s", n.name()).isZero();
        }
        try (Connection c = new TernConnectionFactory(puller.url() + "?failover=false").createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            assertThat(s.createConsumer(s.createQueue("orders")).receive(2_000)).as("m, acknowledged once, comes no more")
                    .isNull();
        }
    }

    @Test
    void aMoveInDoubtWithANodeRestartedBeforeItWasFoundGoneGoesToTheTakerOfItsEarlierStart() throws Exception {
        Roles r = start(Map.of("fd_timeout", "60s")); // the old start is never suspected within the test
        moveWithItsAcknowledgementLost(r);
        // The source settles m only after the new start discarded what the earlier one stored (its ids with it):
        // before that, the new start would drop m as a move its store knows, and hide the fault.
        r.source().server().broker().availability().doubtOwnership(5_000);
        InJvmCluster.Node restarted = cluster.restartBeforeFoundGone(r.puller());
        assertThat(restarted.id()).isEqualTo(r.puller().id());
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(restarted.takeover().lastDiscardedEpoch())
                .as(() -> "the restarted node discarded for the takeover of its earlier start; " + takeoverState(r, restarted))
                .isGreaterThanOrEqualTo(0));
        // The source settles m with the taker of the earlier start, which has m's id from its replica.
        settledOnce(r, restarted);
    }

    /**
     * The puller is cut off, taken over by the taker, back in the view, and has discarded; the source
     * settles nothing meanwhile (until the test lets it: {@code doubtOwnership(0)}).
     */
    private static void cutOffTakenOverAndBack(Roles r) {
        r.source().server().broker().availability().doubtOwnership(60_000);
        DISCARD isolation = r.puller().cluster().jgroupsChannel().getProtocolStack().findProtocol(DISCARD.class);
        isolation.discardAll(true);
        await().atMost(Duration.ofSeconds(30)).until(() -> r.taker().takeover().records().containsKey(r.puller().id()));
        isolation.discardAll(false);
        await().atMost(Duration.ofSeconds(60)).until(() -> r.puller().takeover().lastDiscardedEpoch() >= 0);
    }

    @Test
    void aMoveInDoubtWithANodeTakenOverWhileCutOffGoesToItsTakerAlsoOnceItIsBack() throws Exception {
        Roles r = start(Map.of());
        moveWithItsAcknowledgementLost(r);
        // The source settles m only once the puller is back and has discarded (and the takeover's record is forgotten).
        cutOffTakenOverAndBack(r);
        await().atMost(Duration.ofSeconds(60)).until(() -> !r.source().takeover().records().containsKey(r.puller().id()));
        r.source().server().broker().availability().doubtOwnership(0);
        // Its start is the one in the view again, but it discarded m's id: the taker has it from its replica.
        settledOnce(r, r.puller());
    }

    @Test
    void aMoveInDoubtGoesToTheTakerEvenIfTheSourceNeverHeardOfTheTakeover() throws Exception {
        Roles r = start(Map.of());
        // The source misses the taker's word that it took the puller over ('O'): only the puller's refusal can tell it.
        DropsClusterMessages missed = DropsClusterMessages.into(r.source(), 'O', m -> true);
        moveWithItsAcknowledgementLost(r);
        cutOffTakenOverAndBack(r);
        assertThat(missed.dropped.get()).as("the source missed the taker's word").isPositive();
        // The puller is back in the source's view: to the source, it holds its own messages again.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(r.source().takeover().holderOf(r.puller().id()))
                .as(() -> "the source takes the puller for the holder of its messages again; " + takeoverState(r, r.puller()))
                .isEqualTo(r.puller().id()));
        r.source().server().broker().availability().doubtOwnership(0);
        // The puller, which discarded m's id, refuses m and names its taker; the taker has m from its replica.
        settledOnce(r, r.puller());
    }
}
