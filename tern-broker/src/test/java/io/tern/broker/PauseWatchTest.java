package io.tern.broker;

import io.tern.broker.store.TransientStore;
import io.tern.protocol.DestinationName;
import io.tern.protocol.Request;
import io.tern.protocol.RequestFrame;
import io.tern.protocol.Response;
import io.tern.protocol.WireMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A node whose JVM was stopped serves nothing its clients sent meanwhile until it has checked whether
 * it was taken over: the requests wait, in order, and are served after the check, or never if the
 * check found the node taken over. The pause is made with a clock of the test's own.
 */
@Timeout(30)
class PauseWatchTest {
    private static final long THRESHOLD_MS = 1_000;

    private final AtomicLong clock = new AtomicLong(System.nanoTime());
    private final CountDownLatch checkMayEnd = new CountDownLatch(1);
    private final List<Long> checkedGaps = new CopyOnWriteArrayList<>();

    private static RequestFrame send(long correlation, String id) {
        return new RequestFrame(correlation, 0, new Request.Send(1, new WireMessage(id, WireMessage.BODY_NONE,
                DestinationName.queue("orders"), null, null, null, true, 4, 0, 0, 0, Map.of(WireMessage.DUPLICATE_ID, id),
                null)));
    }

    private ServerConnection connected(Broker broker, RecordingSink sink) {
        ServerConnection c = broker.connect(sink);
        sink.connection = c;
        c.handle(new RequestFrame(1, 0, new Request.Hello(null, null, "test")));
        c.handle(new RequestFrame(2, 0, new Request.CreateSession(1, Request.AUTO_ACKNOWLEDGE)));
        c.handle(send(3, "ID:before"));
        assertThat(sink.answer(3)).isEqualTo(Response.OK);
        return c;
    }

    private void pause(long ms) {
        clock.addAndGet(ms * 1_000_000L);
    }

    @Test
    void requestsSentDuringAPauseWaitForTheCheckAndAreServedInOrderAfterIt() throws Exception {
        try (Broker broker = new Broker(BrokerConfig.builder().build(), new TransientStore(), "node")) {
            broker.start();
            broker.availability().watchPauses(THRESHOLD_MS, clock::get, gapMs -> {
                checkedGaps.add(gapMs);
                awaitQuietly(checkMayEnd);
            });
            RecordingSink sink = new RecordingSink();
            ServerConnection c = connected(broker, sink);

            pause(5_000);
            // Read by the transport before the watch ran again: they must wait all the same.
            c.handle(send(4, "ID:first"));
            c.handle(send(5, "ID:second"));
            await().until(() -> broker.availability().state() == NodeState.CHECKING);
            c.handle(send(6, "ID:third"));
            assertThat(broker.messageCount("orders")).as("nothing served during the check").isEqualTo(1);
            assertThat(sink.answered()).containsExactly(1L, 2L, 3L);

            checkMayEnd.countDown();
            await().until(() -> sink.answered().size() == 6);
            assertThat(sink.answered()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
            assertThat(broker.messageCount("orders")).isEqualTo(4);
            assertThat(broker.availability().state()).isEqualTo(NodeState.SERVING);
            assertThat(checkedGaps).hasSize(1);
            assertThat(checkedGaps.get(0)).isGreaterThanOrEqualTo(5_000);
        }
    }

    @Test
    void aNodeThatFindsItWasTakenOverDuringThePauseNeverServesWhatWaited() throws Exception {
        try (Broker broker = new Broker(BrokerConfig.builder().build(), new TransientStore(), "node")) {
            broker.start();
            broker.availability().watchPauses(THRESHOLD_MS, clock::get, gapMs -> {
                awaitQuietly(checkMayEnd);
                // What the cluster's check does when a member took this node over (SelfDiscard).
                broker.availability().fence("taken over while it was stopped");
                try {
                    broker.closeAllConnections().get(10, TimeUnit.SECONDS);
                    broker.discardStoredMessages();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                } finally {
                    broker.availability().unfence("discarded");
                }
            });
            RecordingSink sink = new RecordingSink();
            ServerConnection c = connected(broker, sink);

            pause(5_000);
            c.handle(send(4, "ID:late"));
            await().until(() -> broker.availability().state() == NodeState.CHECKING);
            checkMayEnd.countDown();
            await().until(() -> broker.availability().state() == NodeState.SERVING);
            await().until(() -> sink.closed);
            assertThat(sink.answered()).as("the send that waited is never answered: its client resends elsewhere")
                    .containsExactly(1L, 2L, 3L);
            assertThat(broker.messageCount("orders")).isZero();
        }
    }

    @Test
    void aGapShorterThanTheThresholdIsNoPause() {
        try (Broker broker = new Broker(BrokerConfig.builder().build(), new TransientStore(), "node")) {
            broker.start();
            broker.availability().watchPauses(THRESHOLD_MS, clock::get, checkedGaps::add);
            pause(THRESHOLD_MS / 2);
            assertThat(broker.availability().holdsRequests()).isFalse();
            assertThat(broker.availability().delivers()).isTrue();
            pause(THRESHOLD_MS);
            assertThat(broker.availability().holdsRequests()).as("stale tick: the JVM was stopped").isTrue();
            assertThat(broker.availability().delivers()).isFalse();
            await().until(() -> checkedGaps.size() == 1 && broker.availability().state() == NodeState.SERVING);
            assertThat(broker.availability().holdsRequests()).isFalse();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            assertThat(latch.await(20, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
