package io.tern.it;

import io.tern.client.TernConnectionFactory;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Found by the chaos profile: node T's failover node B had served a client of T while T was silent,
 * and claimed the ids that client sent (the arbiter). T then took over a third node G, whose
 * messages and duplicate ids T stores as its own: one of those ids was one B had claimed, B refused
 * T's batch as a conflict, and the takeover failed. G's messages were served nowhere, and T, named
 * G's failover node, settled G's moves in doubt as if it held G's messages: they were delivered
 * here and, once G came back untaken, there too. A takeover's batch stores another node's ids, which
 * no claim for T's clients concerns.
 */
@Timeout(120)
class TakeoverUnderAClaimTest extends InJvmClusterTest {

    @Test
    void aClaimOfTheTakersFailoverNodeDoesNotStopTheTakeoverOfAnotherNode() throws Exception {
        cluster = new InJvmCluster(dir);
        cluster.startInSync("a", "b", "c");
        InJvmCluster.Node gone = cluster.nodes.get(0);
        InJvmCluster.Node taker = cluster.failoverOf(gone);
        InJvmCluster.Node takersBackup = cluster.failoverOf(taker);
        assertThat(takersBackup).isNotSameAs(gone);
        // A client of the taker resent "dup-x" to the taker's failover node while the taker was silent: claimed there.
        assertThat(takersBackup.store().replicas().knownOrClaimed("dup-x", taker.id())).as("claimed, not known").isFalse();

        // The same send reached the node that goes (another way round the faults): it stores it.
        try (Connection c = new TernConnectionFactory(gone.url() + "?failover=false").createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue("orders"));
            p.setDeliveryMode(DeliveryMode.PERSISTENT);
            TextMessage m = s.createTextMessage("x");
            m.setStringProperty("JMS_TERN_DUPLICATE_ID", "dup-x");
            p.send(m);
        }
        cluster.crash(gone);

        await().atMost(Duration.ofSeconds(30)).until(() -> taker.takeover().records().containsKey(gone.id()));
        assertThat(takersBackup.store().replicas().conflicts()).as("no batch of the taker refused").isZero();
        assertThat(taker.server().broker().messageCount("orders")).as("the gone node's message, taken over").isEqualTo(1);
    }
}
