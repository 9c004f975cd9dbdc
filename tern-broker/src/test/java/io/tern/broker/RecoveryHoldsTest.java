package io.tern.broker;

import io.tern.broker.store.TransientStore;
import io.tern.protocol.DestinationName;
import io.tern.protocol.WireMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@Timeout(30)
class RecoveryHoldsTest {
    private static final long TIMEOUT_MS = 2000;

    private static Placement placement(Broker broker, MessageQueue q, String id) {
        WireMessage m = new WireMessage(id, WireMessage.BODY_NONE, DestinationName.queue(q.name()), null, null, null,
                true, 4, 0, 0, 0, Map.of(), null);
        return new Placement(q, new QueueEntry(broker.nextSequence(), m, false, null, 1));
    }

    /**
     * Each keep for a session has its own recovery timeout. The timer of a session's first keep gave back
     * a later keep's messages too, however little of its own timeout had passed.
     */
    @Test
    void eachKeepForASessionWaitsItsOwnRecoveryTimeout() throws Exception {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try (Broker broker = new Broker(BrokerConfig.builder().build(), new TransientStore(), "node")) {
            broker.start();
            MessageQueue q = broker.destinations().queue("orders");
            RecoveryHolds holds = new RecoveryHolds(broker, scheduler, TIMEOUT_MS);
            holds.hold(Map.of("session-1", List.of(placement(broker, q, "ID:first")))).join();
            Thread.sleep(TIMEOUT_MS / 2); // the second keep comes half a timeout later; nothing to poll for
            holds.hold(Map.of("session-1", List.of(placement(broker, q, "ID:second")))).join();
            assertThat(holds.count()).isEqualTo(2);
            // The first keep's timeout gives back only its own message; the second waits out its own.
            await().atMost(Duration.ofMillis(TIMEOUT_MS * 2)).pollInterval(Duration.ofMillis(10)).until(() -> holds.count() != 2);
            assertThat(holds.count()).as("kept after the first keep's timeout").isEqualTo(1);
            await().atMost(Duration.ofMillis(TIMEOUT_MS * 2)).until(() -> holds.count() == 0);
            await().until(() -> q.executor().call(q::view).join().inFlight() == 0); // both back in the queue
        } finally {
            scheduler.shutdownNow();
        }
    }
}
