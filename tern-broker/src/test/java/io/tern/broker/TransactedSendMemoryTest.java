package io.tern.broker;

import io.tern.broker.store.TransientStore;
import io.tern.protocol.DestinationName;
import io.tern.protocol.ErrorCode;
import io.tern.protocol.Request;
import io.tern.protocol.RequestFrame;
import io.tern.protocol.Response;
import io.tern.protocol.WireMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The sends of an open transaction are held in the server's memory until the commit: the memory limit
 * counts them (they were not counted, and an open transaction of large messages filled the heap), and
 * a transaction that would pass the limit with more than half of it gets a clear error instead of an
 * OutOfMemoryError or a wait that never ends.
 */
@Timeout(30)
class TransactedSendMemoryTest {
    private static final DestinationName ORDERS = DestinationName.queue("orders");
    private static final long LIMIT = 64 * 1024;
    private static final WireMessage TEN_KB = new WireMessage("ID:x", WireMessage.BODY_BYTES, ORDERS, null, null, null,
            false, 4, 0, 0, 0, Map.of(), new byte[10_000]);
    private final AtomicLong correlation = new AtomicLong(100);

    private Response call(ServerConnection c, RecordingSink sink, Request r) {
        RequestFrame f = new RequestFrame(correlation.incrementAndGet(), 0, r);
        c.handle(f);
        return sink.answer(f.correlationId());
    }

    /** Non-persistent messages (no duplicate detection) of one size: ids of one length. */
    private static WireMessage message(int i) {
        return TEN_KB;
    }

    private ServerConnection transacted(Broker broker, RecordingSink sink) {
        ServerConnection c = broker.connect(sink);
        sink.connection = c;
        call(c, sink, new Request.Hello(null, null, "test"));
        assertThat(call(c, sink, new Request.CreateSession(1, Request.TRANSACTED))).isEqualTo(Response.OK);
        return c;
    }

    @Test
    void anOpenTransactionsSendsAreCountedAndOneThatWouldPassTheLimitGetsAClearError() {
        try (Broker broker = new Broker(BrokerConfig.builder().memoryLimitBytes(LIMIT).build(), new TransientStore(), "node")) {
            broker.start();
            RecordingSink sink = new RecordingSink();
            ServerConnection c = transacted(broker, sink);
            int accepted = 0;
            Response refused = null;
            for (int i = 0; i < 20 && refused == null; i++) {
                Response r = call(c, sink, new Request.Send(1, message(i)));
                if (r == Response.OK) {
                    accepted++;
                    assertThat(broker.memory().used()).as("counted while the transaction is open")
                            .isEqualTo((long) accepted * HeapCost.of(TEN_KB));
                } else {
                    refused = r;
                }
            }
            assertThat(accepted).as("sends up to the limit are taken").isEqualTo((int) (LIMIT / HeapCost.of(TEN_KB)));
            assertThat(refused).isInstanceOfSatisfying(Response.Error.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.RESOURCE_EXHAUSTED);
                assertThat(e.message()).contains("open transaction").contains("memory limit of " + LIMIT);
            });

            assertThat(call(c, sink, new Request.Rollback(1, new long[0]))).isEqualTo(Response.OK);
            assertThat(broker.memory().used()).as("a rollback gives the count back").isZero();
        }
    }

    @Test
    void aCommitHandsTheCountToTheQueueWithoutCountingTwice() {
        try (Broker broker = new Broker(BrokerConfig.builder().memoryLimitBytes(LIMIT).build(), new TransientStore(), "node")) {
            broker.start();
            RecordingSink sink = new RecordingSink();
            ServerConnection c = transacted(broker, sink);
            for (int i = 0; i < 3; i++) {
                assertThat(call(c, sink, new Request.Send(1, message(i)))).isEqualTo(Response.OK);
            }
            assertThat(call(c, sink, new Request.Commit(1))).isEqualTo(Response.OK);
            await().until(() -> broker.messageCount("orders") == 3);
            await().until(() -> broker.memory().used() == 3L * HeapCost.of(TEN_KB));

            // A session that closes with an open transaction gives its count back too.
            for (int i = 3; i < 5; i++) {
                assertThat(call(c, sink, new Request.Send(1, message(i)))).isEqualTo(Response.OK);
            }
            assertThat(call(c, sink, new Request.CloseSession(1, new long[0]))).isEqualTo(Response.OK);
            assertThat(broker.memory().used()).isEqualTo(3L * HeapCost.of(TEN_KB));
        }
    }
}
