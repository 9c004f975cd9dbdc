package io.tern.broker;

import io.tern.broker.store.TransientStore;
import io.tern.protocol.DestinationName;
import io.tern.protocol.Request;
import io.tern.protocol.Response;
import io.tern.protocol.WireMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A client's connection breaks, and the client comes back on a new connection with the same key.
 * The old connection's close (its transport noticed first) is queued on its executor before the
 * hand-over the new connection asks for: by then the close has given the old connection's deliveries
 * back to their queue. The hand-over must say so, so that an acknowledgement the client lists (sent,
 * never answered, never read by the node) is not counted as stored: the message is in its queue and
 * comes again. Ordered here by holding the old connection's executor in a write.
 */
@Timeout(30)
class HandOverAfterCloseTest {
    private static final DestinationName ORDERS = DestinationName.queue("orders");

    /** A connection of the client with {@code key}: hello, session 1 (client acknowledge) and consumer 7 on orders. */
    private static ServerConnection client(Broker broker, RecordingSink sink, String key) {
        ServerConnection c = sink.connectTo(broker, key);
        c.handle(RecordingSink.request(2, new Request.CreateSession(1, Request.CLIENT_ACKNOWLEDGE)));
        c.handle(RecordingSink.request(3, new Request.CreateConsumer(1, 7, ORDERS, null, false, null, Request.SUB_NONE, 10)));
        assertThat(sink.answer(3)).isEqualTo(Response.OK);
        return c;
    }

    @Test
    void aHandOverQueuedBehindTheCloseCountsNoAcknowledgement() throws Exception {
        try (Broker broker = new Broker(BrokerConfig.builder().build(), new TransientStore(), "node")) {
            broker.start();
            RecordingSink producerSink = new RecordingSink();
            ServerConnection producer = producerSink.connectTo(broker, null);
            producer.handle(RecordingSink.request(2, new Request.CreateSession(1, Request.AUTO_ACKNOWLEDGE)));
            producer.handle(RecordingSink.request(3, new Request.Send(1, new WireMessage("ID:m0", WireMessage.BODY_NONE, ORDERS, null, null,
                    null, true, 4, 0, 0, 0, Map.of(), null))));
            assertThat(producerSink.answer(3)).isEqualTo(Response.OK);

            RecordingSink oldSink = new RecordingSink();
            ServerConnection old = client(broker, oldSink, "key-1");
            await().until(() -> oldSink.deliveries().size() == 1);

            // The old connection's executor is held in a write; its transport closes meanwhile.
            CountDownLatch release = new CountDownLatch(1);
            oldSink.holdNextWrite = release;
            old.handle(RecordingSink.request(4, new Request.CreateSession(2, Request.AUTO_ACKNOWLEDGE)));
            assertThat(oldSink.holding.await(10, TimeUnit.SECONDS)).as("the old connection's executor is held").isTrue();
            oldSink.close(); // queued: the close gives m0 back to the queue when it runs

            // The client is back with the same key: the old connection's hand-over is queued behind its close.
            RecordingSink newSink = new RecordingSink();
            ServerConnection back = broker.connect(newSink);
            newSink.connection = back;
            back.handle(RecordingSink.request(1, new Request.Hello(null, null, "test", "key-1", null, false)));
            release.countDown();
            assertThat(newSink.answer(1)).isInstanceOf(Response.Welcome.class);
            back.handle(RecordingSink.request(2, new Request.CreateSession(1, Request.CLIENT_ACKNOWLEDGE)));
            back.handle(RecordingSink.request(3, new Request.CreateConsumer(1, 7, ORDERS, null, false, null, Request.SUB_NONE, 10)));
            assertThat(newSink.answer(3)).isEqualTo(Response.OK);
            // The client lists m0 as acknowledged: it sent the acknowledgement, which the old connection never read.
            back.handle(RecordingSink.request(5, new Request.RecoverSession(1, List.of(new Request.HeldMessage(7, "ID:m0", Request.Held.ACKED)))));
            assertThat(((Response.Recovered) newSink.answer(5)).deliveryIds())
                    .as("m0 went back to its queue before the hand-over: its acknowledgement is not counted as stored")
                    .containsExactly(0L);
            await().until(() -> newSink.deliveries().size() == 1);
            assertThat(newSink.deliveries().get(0).message().messageId()).as("m0 comes again").isEqualTo("ID:m0");
        }
    }
}
