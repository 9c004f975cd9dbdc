package io.tern.it;

import io.tern.client.TernConnectionFactory;
import jakarta.jms.Connection;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The 100-cycle fault profile with clustered queues stalled: a node restarted, the others opened
 * their links to it and gave their credit, and then it discarded what it had been taken over for,
 * which closes every connection, the links too. The pullers took their links for open and, having
 * given all their credit, sent nothing more: 325,216 messages waited on that node while consumers on
 * another waited. A member that closes a link now tells its puller, which opens it again.
 */
@Timeout(120)
class ClusterLinkClosedByMemberTest extends InJvmClusterTest {

    private static void send(InJvmCluster.Node node, String text) throws Exception {
        try (Connection c = new TernConnectionFactory(node.url() + "?failover=false").createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue("orders"));
            p.send(s.createTextMessage(text));
        }
    }

    @Test
    void aConsumerGetsWhatIsSentOnANodeThatClosedItsLinks() throws Exception {
        cluster = new InJvmCluster(dir);
        List<InJvmCluster.Node> nodes = cluster.startInSync("a", "b");
        InJvmCluster.Node consumerNode = nodes.get(0);
        InJvmCluster.Node producerNode = nodes.get(1);
        try (Connection consuming = new TernConnectionFactory(consumerNode.url()).createConnection()) {
            consuming.start();
            Session cs = consuming.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = cs.createConsumer(cs.createQueue("orders"));
            send(producerNode, "before");
            TextMessage first = (TextMessage) consumer.receive(30_000);
            assertThat(first).as("the link moved the first message").isNotNull();
            assertThat(first.getText()).isEqualTo("before");

            // What a discard does: every connection of the producer's node closes, the served links too.
            producerNode.server().broker().closeAllConnections().get();
            send(producerNode, "after");
            TextMessage next = (TextMessage) consumer.receive(30_000);
            assertThat(next).as("the link opened again and moved the message sent after it closed").isNotNull();
            assertThat(next.getText()).isEqualTo("after");
        }
    }
}
