package io.tern.broker;

import io.tern.broker.store.MessageStore;
import io.tern.broker.store.StoreBatch;
import io.tern.broker.store.TransientStore;
import io.tern.protocol.Deliver;
import io.tern.protocol.DestinationName;
import io.tern.protocol.ErrorCode;
import io.tern.protocol.Request;
import io.tern.protocol.Response;
import io.tern.protocol.ResponseFrame;
import io.tern.protocol.WireMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A session's deliveries given back to their queue (a rollback, a recover, a consumer closed by a
 * move) must never reach the client after the answer that tells it to drop what it buffered; and a
 * transaction that received a delivery its session no longer has out (given back by an idle
 * release or a move while the client still showed it) must not commit as if it had consumed it:
 * the message is back in its queue and would be delivered again. The commit rolls back instead.
 */
@Timeout(30)
class TransactionOfReturnedDeliveryTest {
    private static final DestinationName ORDERS = DestinationName.queue("orders");

    /**
     * A client with a transacted session 1 and an automatic session 2 that has sent one message
     * ({@code persistent} or not) to the queue, and a consumer 7 on it in session 1 (prefetch 10).
     */
    private static ServerConnection clientWithConsumer(Broker broker, RecordingSink sink, boolean persistent) {
        ServerConnection c = sink.connectTo(broker, "key-1");
        c.handle(RecordingSink.request(2, new Request.CreateSession(1, Request.TRANSACTED)));
        c.handle(RecordingSink.request(3, new Request.CreateSession(2, Request.AUTO_ACKNOWLEDGE)));
        c.handle(RecordingSink.request(4, new Request.Send(2, new WireMessage("ID:m", WireMessage.BODY_NONE, ORDERS, null, null,
                null, persistent, 4, 0, 0, 0, Map.of(), null))));
        assertThat(sink.answer(4)).isEqualTo(Response.OK);
        c.handle(RecordingSink.request(5, new Request.CreateConsumer(1, 7, ORDERS, null, false, null, (byte) 0, 10)));
        assertThat(sink.answer(5)).isEqualTo(Response.OK);
        return c;
    }

    @Test
    void aCommitThatReceivedAReturnedDeliveryRollsBackAndTheMessageComesAgainOnce() {
        try (Broker broker = new Broker(BrokerConfig.builder().build(), new TransientStore(), "node")) {
            broker.start();
            RecordingSink sink = new RecordingSink();
            ServerConnection c = clientWithConsumer(broker, sink, false);
            await().until(() -> sink.deliveries().size() == 1);
            long first = sink.deliveries().get(0).deliveryId();

            // The client gives the buffered delivery back, yet its application received it in the transaction.
            c.handle(RecordingSink.request(6, new Request.Release(7, new long[] {first})));
            assertThat(sink.answer(6)).isEqualTo(Response.OK);
            c.handle(RecordingSink.request(7, new Request.Ack(1, new long[] {first})));
            c.handle(RecordingSink.request(8, new Request.Commit(1)));

            assertThat(sink.answer(8)).isInstanceOfSatisfying(Response.Error.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.TRANSACTION_ROLLED_BACK));
            // The consumer's credit came back with the next Credit; the message is in the queue, once.
            c.handle(RecordingSink.request(9, new Request.Credit(7, 10)));
            await().until(() -> sink.deliveries().size() == 2);
            Deliver again = sink.deliveries().get(1);
            assertThat(again.message().messageId()).isEqualTo("ID:m");
            assertThat(broker.messageCount("orders")).isEqualTo(1);

            c.handle(RecordingSink.request(10, new Request.Ack(1, new long[] {again.deliveryId()})));
            c.handle(RecordingSink.request(11, new Request.Commit(1)));
            assertThat(sink.answer(11)).as("the next transaction commits").isEqualTo(Response.OK);
            await().until(() -> broker.messageCount("orders") == 0);
        }
    }

    /**
     * With a replicated store a delivery is written only once the backups have its delivery mark. A
     * rollback meanwhile gives it back (unseen, so uncounted): its frame must reach the client before
     * the rollback's answer, which makes the client drop it, or the client would hand it to the
     * application while the queue delivers it again (seen in the 10-cycle fault test as a transacted
     * consumer that committed a message twice).
     */
    @Test
    void aRollbackIsAnsweredOnlyAfterTheDeliveriesItGivesBackAreWritten() {
        CompletableFuture<Void> backupsConfirm = new CompletableFuture<>();
        try (Broker broker = new Broker(BrokerConfig.builder().build(), new MarksWaitFor(backupsConfirm), "node")) {
            broker.start();
            broker.availability().started(); // a replicated node serves once its cluster checked it (ClusteredNode.join)
            RecordingSink sink = new RecordingSink();
            ServerConnection c = clientWithConsumer(broker, sink, true);

            c.handle(RecordingSink.request(6, new Request.Rollback(1, new long[0])));
            // The backups confirm a moment later; nothing here depends on how long the moment is.
            CompletableFuture.runAsync(() -> backupsConfirm.complete(null),
                    CompletableFuture.delayedExecutor(200, java.util.concurrent.TimeUnit.MILLISECONDS));
            assertThat(sink.answer(6)).isEqualTo(Response.OK);

            List<Object> order = sink.frames.stream().filter(f -> f instanceof Deliver
                    || f instanceof ResponseFrame r && r.correlationId() == 6).map(f -> (Object) f.getClass().getSimpleName()).toList();
            assertThat(order).as("the delivery given back is on the wire before the answer").startsWith("Deliver", "ResponseFrame");
            await().atMost(Duration.ofSeconds(10)).until(() -> sink.deliveries().size() == 2);
            assertThat(sink.deliveries().get(1).message().messageId()).as("delivered again after the rollback").isEqualTo("ID:m");
        }
    }

    /** A replicated store as the broker sees it: delivery marks complete when the backups confirm, the rest at once. */
    private static final class MarksWaitFor implements MessageStore {
        private final CompletableFuture<Void> backupsConfirm;

        MarksWaitFor(CompletableFuture<Void> backupsConfirm) {
            this.backupsConfirm = backupsConfirm;
        }

        @Override
        public CompletableFuture<Void> commit(StoreBatch batch) {
            boolean marks = batch.ops().stream().anyMatch(op -> op instanceof StoreBatch.MarkDelivered);
            return marks ? backupsConfirm : CompletableFuture.completedFuture(null);
        }

        @Override
        public boolean tracksDeliveries() {
            return true;
        }

        @Override
        public boolean isDurable() {
            return true;
        }

        @Override
        public void recover(Recovery recovery) {
        }

        @Override
        public void close() {
        }
    }
}
