package io.tern.it;

import io.tern.client.TernConnectionFactory;
import jakarta.jms.Connection;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.jgroups.Address;
import org.jgroups.protocols.DISCARD;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Found by the chaos profile with clustered queues (a repeat after a pause): node P moved m to its
 * failover node T's link, and T never stored it. P was cut off; T took it over and, from P's
 * replica, gave m to its own consumer, which acknowledged it. P came back before it learnt it was
 * taken over, saw m still in doubt on the closed link, and gave it to T, the holder of T's messages:
 * T stored it again and delivered it a second time. A node taken over speaks for none of its
 * messages until it has discarded: its taker refuses what it hands over meanwhile, and the moves in
 * doubt end with the discard.
 */
@Timeout(120)
class MoveInDoubtAfterTakeoverTest extends InJvmClusterTest {

    @Test
    void aMoveInDoubtThatTheTakerAlreadyDeliveredIsNotDeliveredAgainWhenThePausedNodeComesBack() throws Exception {
        cluster = new InJvmCluster(dir);
        cluster.startInSync("a", "b", "c");
        InJvmCluster.Node paused = cluster.nodes.get(0);
        InJvmCluster.Node taker = cluster.failoverOf(paused);
        Address pausedAddress = paused.cluster().jgroupsChannel().getAddress();
        Set<String> others = cluster.nodes.stream().filter(n -> n != paused).map(InJvmCluster.Node::id).collect(Collectors.toSet());
        // The taker never stores what the paused node's link brings it.
        DropsClusterMessages linkLost = DropsClusterMessages.into(taker, 'm', m -> pausedAddress.equals(m.getSrc()));
        // Once armed, the paused node does not hear that it was taken over ('T'), nor that its replication is refused ('F').
        AtomicBoolean ignorant = new AtomicBoolean();
        DropsClusterMessages toldTakenOver = DropsClusterMessages.into(paused, 'T', m -> ignorant.get());
        DropsClusterMessages toldRefused = DropsClusterMessages.into(paused, 'F', m -> ignorant.get());

        try (Connection consuming = new TernConnectionFactory(taker.url() + "?failover=false").createConnection()) {
            consuming.start();
            Session cs = consuming.createSession(false, Session.CLIENT_ACKNOWLEDGE);
            MessageConsumer consumer = cs.createConsumer(cs.createQueue("orders"));
            try (Connection producing = new TernConnectionFactory(paused.url() + "?failover=false").createConnection()) {
                Session ps = producing.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageProducer producer = ps.createProducer(ps.createQueue("orders"));
                producer.send(ps.createTextMessage("m"));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> linkLost.dropped.get() > 0);
            assertThat(queue(paused, "orders").inFlight()).as("m is out with the taker's link").isEqualTo(1);

            // The paused node is cut off: the others take it over, and the taker's consumer gets m from its replica.
            DISCARD isolation = paused.cluster().jgroupsChannel().getProtocolStack().findProtocol(DISCARD.class);
            isolation.discardAll(true);
            await().atMost(Duration.ofSeconds(30)).until(() -> taker.takeover().records().containsKey(paused.id()));
            TextMessage first = (TextMessage) consumer.receive(30_000);
            assertThat(first).as("the taker delivers m from the paused node's replica").isNotNull();
            assertThat(first.getText()).isEqualTo("m");
            first.acknowledge();
            await().atMost(Duration.ofSeconds(30)).until(() -> paused.cluster().members().size() == 1);

            // It comes back, and does not hear that it was taken over: it serves with the quorum, m still in doubt.
            ignorant.set(true);
            isolation.discardAll(false);
            await().atMost(Duration.ofSeconds(60)).until(() -> paused.cluster().members().size() == 3
                    && others.stream().allMatch(id -> cluster.nodes.stream().filter(n -> n.id().equals(id))
                    .allMatch(n -> n.cluster().members().size() == 3)));
            await().atMost(Duration.ofSeconds(30)).until(() -> toldTakenOver.dropped.get() + toldRefused.dropped.get() > 0);
            assertThat(consumer.receive(3_000)).as("m, acknowledged once, does not come again while the paused node "
                    + "does not know it was taken over").isNull();

            // It hears it at last: it discards, and m is delivered nowhere again.
            ignorant.set(false);
            await().atMost(Duration.ofSeconds(60)).until(() -> paused.takeover().lastDiscardedEpoch() >= 0
                    && !taker.takeover().records().containsKey(paused.id()));
            assertThat(consumer.receive(3_000)).as("m does not come again after the discard").isNull();
        }
        for (InJvmCluster.Node n : cluster.nodes) {
            assertThat(n.server().broker().messageCount("orders")).as("messages of orders on %s", n.name()).isZero();
        }
    }
}
