package io.tern.it;

import io.tern.client.TernConnectionFactory;
import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.stack.Protocol;
import org.jgroups.stack.ProtocolStack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A takeover whose batch the taker's failover node never gets (the send of it throws) fails: before,
 * the dead node's messages were then served nowhere until it came back. The takeover undoes what its
 * local store wrote and is tried again until it needs no more tries: its messages are delivered once,
 * and stored once. A node that comes back before a try succeeds serves what it stored itself.
 */
@Timeout(120)
class TakeoverRetriedTest extends InJvmClusterTest {

    /** A layer under the taker's channel that makes its sends of takeover batches ('b') throw while {@code failures} allows. */
    static final class FailingTakeoverBatches extends Protocol {
        final AtomicInteger failures;
        final AtomicInteger thrown = new AtomicInteger();

        FailingTakeoverBatches(int failures) {
            this.failures = new AtomicInteger(failures);
        }

        @Override
        public Object down(org.jgroups.Message msg) {
            byte[] a = msg.getArray();
            if (a != null && msg.getLength() > 1 && a[msg.getOffset() + 1] == 'b' && failures.getAndDecrement() > 0) {
                thrown.incrementAndGet();
                throw new IllegalStateException("fault injected: the takeover's batch is not sent");
            }
            return down_prot.down(msg);
        }
    }

    private InJvmCluster.Node gone;
    private InJvmCluster.Node taker;

    /** Three nodes in sync, and five persistent messages stored on the first. */
    private void startWithFiveMessages() throws Exception {
        cluster = new InJvmCluster(dir);
        cluster.startInSync("a", "b", "c");
        gone = cluster.nodes.get(0);
        taker = cluster.failoverOf(gone);
        sendOrders(gone, 5);
    }

    /** The first node crashes, with the fault set on its taker for its first {@code failures} takeover batches. */
    private FailingTakeoverBatches crashWithFailingTakeover(int failures) {
        FailingTakeoverBatches fault = new FailingTakeoverBatches(failures);
        try {
            taker.cluster().jgroupsChannel().getProtocolStack().insertProtocol(fault, ProtocolStack.Position.BELOW, GMS.class);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        cluster.crash(gone);
        return fault;
    }

    @Test
    void aTakeoverThatFailedIsTriedAgainAndDeliversEachMessageOnce() throws Exception {
        startWithFiveMessages();
        FailingTakeoverBatches fault = crashWithFailingTakeover(1);

        await().atMost(Duration.ofSeconds(60)).until(() -> taker.takeover().records().containsKey(gone.id()));
        assertThat(fault.thrown.get()).as("the first try failed").isEqualTo(1);
        // Recorded once stored, and placed for delivery right after.
        await().atMost(Duration.ofSeconds(30)).until(() -> taker.server().broker().messageCount("orders") == 5);
        assertThat(stored(taker.store(), "orders")).as("the failed try's writes undone: each message stored once").isEqualTo(5);
        List<String> got = drainOrders(taker);
        assertThat(got).containsExactly("m0", "m1", "m2", "m3", "m4", "after");
    }

    @Test
    void aNodeBackBeforeATryOfItsTakeoverSucceededServesWhatItStored() throws Exception {
        startWithFiveMessages();
        FailingTakeoverBatches fault = crashWithFailingTakeover(Integer.MAX_VALUE);
        await().atMost(Duration.ofSeconds(30)).until(() -> fault.thrown.get() >= 2); // the first try and a second one
        assertThat(taker.takeover().records()).doesNotContainKey(gone.id());
        assertThat(taker.takeover().failedTakeoversWaiting()).isEqualTo(1);

        InJvmCluster.Node back = cluster.start(gone.name());
        await().atMost(Duration.ofSeconds(30)).until(() -> back.server().broker().messageCount("orders") == 5);
        await().atMost(Duration.ofSeconds(60)).until(() -> taker.takeover().failedTakeoversWaiting() == 0);
        assertThat(taker.takeover().records()).doesNotContainKey(gone.id());
        assertThat(stored(taker.store(), "orders")).as("nothing of the failed tries left on the taker").isZero();
        assertThat(drainOrders(back)).containsExactly("m0", "m1", "m2", "m3", "m4", "after");
    }

    @Test
    void aClientOfTheDeadNodeWaitsForTheTryAndRecoversItsDeliveries() throws Exception {
        startWithFiveMessages();
        String firstText;
        try (Connection c = new TernConnectionFactory(gone.url()).createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
            MessageConsumer consumer = s.createConsumer(s.createQueue("orders"));
            Message first = consumer.receive(10_000);
            assertThat(first).isNotNull();
            firstText = ((jakarta.jms.TextMessage) first).getText();
            FailingTakeoverBatches fault = crashWithFailingTakeover(1);

            await().atMost(Duration.ofSeconds(60)).until(() -> taker.takeover().records().containsKey(gone.id()));
            assertThat(fault.thrown.get()).as("the first try failed").isEqualTo(1);
            // Recovered on the taker once the second try stored its messages: the acknowledgement counts.
            first.acknowledge();
        }
        List<String> expected = new java.util.ArrayList<>(List.of("m0", "m1", "m2", "m3", "m4", "after"));
        expected.remove(firstText);
        assertThat(drainOrders(taker)).as("the acknowledged " + firstText + " is not delivered again")
                .containsExactlyInAnyOrderElementsOf(expected);
    }
}
