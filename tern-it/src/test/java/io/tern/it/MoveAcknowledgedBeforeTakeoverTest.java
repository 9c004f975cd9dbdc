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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Found by the fault profile with clustered queues: a node took over the node its messages were
 * moving to, and put back in its queue the messages that node had stored, delivered and seen
 * acknowledged, whose acknowledgement on the link had not come back before its death. Consumers
 * got them a second time. The taker knows from the dead node's replica (its duplicate ids name
 * each move it stored): those copies are the dead node's, and leave here.
 */
@Timeout(120)
class MoveAcknowledgedBeforeTakeoverTest extends InJvmClusterTest {

    /**
     * Moves m0..m9 from the producer's node to a consumer on the node it is the failover node of, with
     * the link's acknowledgements lost; the consumer acknowledges them or not (then they are back in
     * its node's queue); then that node crashes and the producer's node takes it over.
     */
    private InJvmCluster.Node moveTenThenCrash(boolean acknowledge) throws Exception {
        cluster = new InJvmCluster(dir);
        InJvmCluster.Node consumerNode = cluster.startInSync("a", "b", "c").get(0);
        InJvmCluster.Node producerNode = cluster.failoverOf(consumerNode); // it holds the replica and takes over
        Address consumerAddress = consumerNode.cluster().jgroupsChannel().getAddress();
        AtomicBoolean armed = new AtomicBoolean();
        // Once armed: the link requests of the consumer's node, among them its acknowledgements of the moves.
        DropsClusterMessages loses = DropsClusterMessages.into(producerNode, 'l',
                m -> armed.get() && consumerAddress.equals(m.getSrc()));

        List<String> got = new ArrayList<>();
        try (Connection producing = new TernConnectionFactory(producerNode.url()).createConnection();
             Connection consuming = new TernConnectionFactory(consumerNode.url()).createConnection()) {
            Session ps = producing.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = ps.createProducer(ps.createQueue("orders"));
            consuming.start();
            Session cs = consuming.createSession(false, Session.CLIENT_ACKNOWLEDGE);
            MessageConsumer consumer = cs.createConsumer(cs.createQueue("orders"));
            producer.send(ps.createTextMessage("warm-up"));
            Message first = consumer.receive(30_000);
            assertThat(first).as("the link moved the first message").isNotNull();
            first.acknowledge();
            await().atMost(Duration.ofSeconds(10)).until(() -> queue(producerNode, "orders").messages() == 0);

            armed.set(true);
            for (int i = 0; i < 10; i++) {
                producer.send(ps.createTextMessage("m" + i));
            }
            for (int i = 0; i < 10; i++) {
                TextMessage m = (TextMessage) consumer.receive(30_000);
                assertThat(m).as("message %d of 10 moved to the consumer's node", i).isNotNull();
                got.add(m.getText());
                if (acknowledge) {
                    m.acknowledge();
                }
            }
        }
        assertThat(got).containsExactly("m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9");
        assertThat(loses.dropped.get()).as("the link's acknowledgements were lost").isPositive();
        // The link's acknowledgements are lost from the arming on (a few may still come by another way).
        assertThat(queue(producerNode, "orders").inFlight()).as("moves unconfirmed on the producer's node").isPositive();
        if (!acknowledge) {
            await().atMost(Duration.ofSeconds(10)).until(() -> queue(consumerNode, "orders").messages() == 10);
        }

        cluster.crash(consumerNode);
        await().atMost(Duration.ofSeconds(60)).until(() -> producerNode.id().equals(producerNode.takeover().holderOf(consumerNode.id()))
                && queue(producerNode, "orders").inFlight() == 0);
        return producerNode;
    }

    @Test
    void messagesTheDeadNodeStoredAndDeliveredAreNotDeliveredAgainByItsTaker() throws Exception {
        InJvmCluster.Node taker = moveTenThenCrash(true);
        assertThat(queue(taker, "orders").messages())
                .as("what the dead node stored and saw acknowledged is not back in the queue").isZero();
        assertThat(drainOrders(taker)).as("no earlier message comes again").containsExactly("after");
    }

    @Test
    void messagesTheDeadNodeStoredAndHadNotDeliveredAreTakenOverOnce() throws Exception {
        InJvmCluster.Node taker = moveTenThenCrash(false);
        assertThat(queue(taker, "orders").messages()).as("one copy of each: the dead node's").isEqualTo(10);
        List<String> got = drainOrders(taker);
        assertThat(got.subList(0, got.size() - 1)).containsExactlyInAnyOrder("m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7",
                "m8", "m9");
    }
}
