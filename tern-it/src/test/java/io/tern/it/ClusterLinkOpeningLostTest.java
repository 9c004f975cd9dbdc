package io.tern.it;

import io.tern.client.TernConnectionFactory;
import jakarta.jms.Connection;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A member ignores the messages of a cluster link it cannot place yet (sent by a member whose view it
 * has not installed: seen right after a node restarts into the cluster). The link's opening was then
 * lost, and the puller, which took the link for open, waited for deliveries for good: a consumer on
 * one node never got what a producer kept sending on another (the 10-cycle fault profile with
 * clustered queues stalled so, with 350,000 messages on the producers' node). A link whose opening
 * is not answered opens again.
 */
@Timeout(120)
class ClusterLinkOpeningLostTest extends InJvmClusterTest {

    @Test
    void aConsumerGetsWhatWasSentOnAnotherNodeThoughTheFirstLinkOpeningThereWasLost() throws Exception {
        cluster = new InJvmCluster(dir);
        List<InJvmCluster.Node> nodes = cluster.startInSync("a", "b");
        InJvmCluster.Node producerNode = nodes.get(0);
        InJvmCluster.Node consumerNode = nodes.get(1);
        java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
        // The first cluster link message that comes up to the producer's node: the link's opening.
        DropsClusterMessages loses = DropsClusterMessages.into(producerNode, 'l', m -> first.getAndSet(false));

        try (Connection producing = new TernConnectionFactory(producerNode.url()).createConnection();
             Connection consuming = new TernConnectionFactory(consumerNode.url()).createConnection()) {
            Session ps = producing.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = ps.createProducer(ps.createQueue("orders"));
            for (int i = 0; i < 10; i++) {
                producer.send(ps.createTextMessage("m" + i));
            }
            consuming.start();
            Session cs = consuming.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = cs.createConsumer(cs.createQueue("orders"));
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                TextMessage m = (TextMessage) consumer.receive(30_000);
                assertThat(m).as("message %d of 10 reached the consumer on the other node", i).isNotNull();
                got.add(m.getText());
            }
            assertThat(got).containsExactly("m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9");
            assertThat(loses.dropped).as("the first opening was lost").hasValue(1);
        }
    }
}
