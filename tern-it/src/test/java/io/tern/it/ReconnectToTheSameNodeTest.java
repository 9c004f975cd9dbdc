package io.tern.it;

import io.tern.protocol.Deliver;
import io.tern.protocol.DestinationName;
import io.tern.protocol.Frame;
import io.tern.protocol.ResponseFrame;
import io.tern.protocol.Request;
import io.tern.protocol.Response;
import io.tern.protocol.WireMessage;
import io.tern.server.EmbeddedTern;
import io.tern.testkit.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A client that comes back to the same node with its connection key (its link broke, the node has not
 * noticed yet) asks for its temporary queue again. Whether the node closes the earlier connection before
 * or after that request, the queue is the client's, with the replies that came meanwhile.
 */
@Timeout(60)
class ReconnectToTheSameNodeTest {
    private EmbeddedTern tern;

    @BeforeEach
    void start() {
        tern = EmbeddedTern.start(b -> b.users(Map.of("alice", "secret")));
    }

    @AfterEach
    void stop() {
        tern.close();
    }

    @Test
    void aTemporaryQueueAndItsRepliesStayWithTheClientWhenItReconnects() throws Exception {
        // The earlier connection's close and the new connection's request race; each round may go either way.
        for (int round = 0; round < 20; round++) {
            String key = "same-node-key-" + round;
            try (RawClient earlier = new RawClient(tern.port()).handshake();
                 RawClient later = new RawClient(tern.port()).handshake()) {
                earlier.send(1, 0, new Request.Hello("alice", "secret", "raw", key, null, false));
                assertThat(earlier.answer(1)).isInstanceOf(Response.Welcome.class);
                earlier.send(2, 0, new Request.CreateTemp(DestinationName.Kind.TEMP_QUEUE));
                DestinationName replies = ((Response.TempCreated) earlier.answer(2)).destination();
                earlier.send(3, 0, new Request.CreateSession(1, Request.AUTO_ACKNOWLEDGE));
                earlier.answer(3);
                earlier.send(4, 0, new Request.Send(1, text(replies, "reply " + round)));
                assertThat(earlier.answer(4)).isEqualTo(Response.OK);

                later.send(1, 0, new Request.Hello("alice", "secret", "raw", key, null, false));
                assertThat(later.answer(1)).isInstanceOf(Response.Welcome.class);
                later.send(2, 0, new Request.CreateTemp(DestinationName.Kind.TEMP_QUEUE, replies.name()));
                assertThat(later.answer(2)).as("round %d", round).isEqualTo(new Response.TempCreated(replies));
                later.send(3, 0, new Request.CreateSession(1, Request.AUTO_ACKNOWLEDGE));
                later.answer(3);
                later.send(4, 0, new Request.CreateConsumer(1, 1, replies, null, false, null, Request.SUB_NONE, 10));
                assertThat(new String(later.nextDelivery().message().body(), StandardCharsets.UTF_8)).as("round %d", round).isEqualTo("reply " + round);

                // The earlier connection is gone now (its node closed it); the queue stays the later one's.
                later.send(5, 0, new Request.Send(1, text(replies, "after " + round)));
                assertThat(new String(later.nextDelivery().message().body(), StandardCharsets.UTF_8)).as("round %d", round).isEqualTo("after " + round);
            }
        }
    }

    /**
     * Seen in the chaos profile as acknowledgements that threw after a failover although nothing was
     * lost: a node stalled with a client's acknowledgement unread. The client gave up the silent link
     * (left open) and tried the node again; that attempt's hello waited in the node's backlog while the
     * client went on to the failover node, which sent it back (the node was still in the view). When
     * the node ran again it stored the acknowledgement, and the abandoned attempt's hello made the first
     * connection hand over what it held; then that attempt closed. The client's next connection found
     * no older connection to take over from, so the node answered "not stored" for the acknowledgement
     * it had stored, and {@code acknowledge()} threw ACKNOWLEDGEMENT_LOST.
     */
    @Test
    void anAcknowledgementStoredBeforeAnAbandonedAttemptTookTheConnectionOverCountsWhenTheClientComesBack() throws Exception {
        String key = "stalled-node-key";
        Deliver[] m = ackFirstThenHandOverToAnAbandonedAttempt(key);
        try (RawClient back = comeBack(key)) {
            long[] ids = recover(back, new Request.HeldMessage(7, m[0].message().messageId(), Request.Held.ACKED),
                    new Request.HeldMessage(7, m[1].message().messageId(), Request.Held.HELD));
            assertThat(ids[0]).as("m0's acknowledgement was stored here").isEqualTo(1);
            assertThat(ids[1]).as("m1 is the session's delivery again").isGreaterThan(0);
            back.send(6, 0, new Request.Ack(1, new long[] {ids[1]}));
            assertThat(back.answer(6)).isEqualTo(Response.OK);
        }
        assertThat(tern.broker().messageCount("orders")).as("both acknowledged, nothing comes again").isZero();
    }

    /**
     * What the earlier hand-over says stops counting once a later connection of the client gave what it
     * held back to the queue: an acknowledgement listed after that may not have been stored.
     */
    @Test
    void aLaterConnectionThatGaveItsDeliveriesBackEndsWhatTheHandOverSaid() throws Exception {
        String key = "gave-back-key";
        Deliver[] m = ackFirstThenHandOverToAnAbandonedAttempt(key);
        try (RawClient back = comeBack(key)) {
            long[] ids = recover(back, new Request.HeldMessage(7, m[1].message().messageId(), Request.Held.HELD));
            assertThat(ids[0]).as("m1 is the session's delivery again").isGreaterThan(0);
        } // closed with m1 unacknowledged: it goes back to the queue
        await().atMost(Duration.ofSeconds(10)).until(() -> tern.broker().connectionCount() == 0);
        // An attempt the client gives up with its socket open: it holds nothing, so its hand-over says nothing either.
        try (RawClient attempt = new RawClient(tern.port()).handshake()) {
            attempt.send(1, 0, new Request.Hello("alice", "secret", "raw", key, null, false));
            assertThat(attempt.answer(1)).isInstanceOf(Response.Welcome.class);
            try (RawClient again = comeBack(key)) {
                long[] ids = recover(again, new Request.HeldMessage(7, m[1].message().messageId(), Request.Held.ACKED));
                assertThat(ids[0]).as("m1 went back to the queue: its acknowledgement is not counted as stored").isZero();
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> tern.broker().connectionCount() == 0);
        try (RawClient again = comeBack(key)) {
            long[] ids = recover(again, new Request.HeldMessage(7, m[1].message().messageId(), Request.Held.ACKED));
            assertThat(ids[0]).as("m1 went back to the queue: its acknowledgement is not counted as stored").isZero();
        }
        assertThat(tern.broker().messageCount("orders")).as("m1 is in the queue again").isEqualTo(1);
    }

    /**
     * Sends m0 and m1 to orders; a client connection with {@code key} receives both and has m0's
     * acknowledgement stored (an answer the client never hears); then a hello of the same key on an
     * attempt that closes at once makes that connection hand m1 over. Returns m0 and m1.
     */
    private Deliver[] ackFirstThenHandOverToAnAbandonedAttempt(String key) throws Exception {
        DestinationName orders = DestinationName.queue("orders");
        try (RawClient producer = new RawClient(tern.port()).handshake();
             RawClient first = new RawClient(tern.port()).handshake()) {
            producer.send(1, 0, new Request.Hello("alice", "secret", "raw"));
            producer.answer(1);
            producer.send(2, 0, new Request.CreateSession(1, Request.AUTO_ACKNOWLEDGE));
            producer.answer(2);
            for (int i = 0; i < 2; i++) {
                producer.send(3 + i, 0, new Request.Send(1, persistent(orders, "m" + i)));
                assertThat(producer.answer(3 + i)).isEqualTo(Response.OK);
            }
            first.send(1, 0, new Request.Hello("alice", "secret", "raw", key, null, false));
            assertThat(first.answer(1)).isInstanceOf(Response.Welcome.class);
            first.send(2, 0, new Request.CreateSession(1, Request.CLIENT_ACKNOWLEDGE));
            first.answer(2);
            first.send(3, 0, new Request.CreateConsumer(1, 7, orders, null, false, null, Request.SUB_NONE, 10));
            List<Deliver> both = answerAndDeliveries(first, 3, 2); // a delivery may come before the answer
            Deliver m0 = both.get(0);
            Deliver m1 = both.get(1);
            first.send(4, 0, new Request.Ack(1, new long[] {m0.deliveryId()}));
            assertThat(first.answer(4)).isEqualTo(Response.OK);
            try (RawClient abandoned = new RawClient(tern.port()).handshake()) {
                abandoned.send(1, 0, new Request.Hello("alice", "secret", "raw", key, null, false));
                assertThat(abandoned.answer(1)).isInstanceOf(Response.Welcome.class);
            }
            assertThat(first.isClosedByServer()).as("the first connection handed over and closed").isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> tern.broker().connectionCount() == 1);
            return new Deliver[] {m0, m1};
        }
    }

    /** Reads until the answer to request {@code id} and {@code n} deliveries have come, in whatever order. */
    private static List<Deliver> answerAndDeliveries(RawClient c, long id, int n) throws Exception {
        List<Deliver> got = new java.util.ArrayList<>();
        boolean answered = false;
        while (!answered || got.size() < n) {
            Frame f = c.readFrame();
            assertThat(f).as("the server closed the connection").isNotNull();
            if (f instanceof Deliver d) {
                got.add(d);
            } else if (f instanceof ResponseFrame r && r.correlationId() == id) {
                answered = true;
            }
        }
        return got;
    }

    /** A new connection of the client with {@code key}, its session 1 and consumer 7 on orders made again. */
    private RawClient comeBack(String key) throws Exception {
        RawClient back = new RawClient(tern.port()).handshake();
        back.send(1, 0, new Request.Hello("alice", "secret", "raw", key, null, false));
        assertThat(back.answer(1)).isInstanceOf(Response.Welcome.class);
        back.send(2, 0, new Request.CreateSession(1, Request.CLIENT_ACKNOWLEDGE));
        back.answer(2);
        back.send(3, 0, new Request.CreateConsumer(1, 7, DestinationName.queue("orders"), null, false, null, Request.SUB_NONE, 10));
        back.answer(3);
        return back;
    }

    /** Session 1's recovery on {@code c}: the new delivery ids, or 1 (acknowledgement stored) or 0. */
    private static long[] recover(RawClient c, Request.HeldMessage... listed) throws Exception {
        c.send(5, 0, new Request.RecoverSession(1, List.of(listed)));
        return ((Response.Recovered) c.answer(5)).deliveryIds();
    }

    private static WireMessage text(DestinationName to, String body) {
        return message(to, body, false);
    }

    private static WireMessage persistent(DestinationName to, String body) {
        return message(to, body, true);
    }

    private static WireMessage message(DestinationName to, String body, boolean persistent) {
        return new WireMessage("ID:" + java.util.UUID.randomUUID(), WireMessage.BODY_TEXT, to, null, null, null,
                persistent, 4, 0, 0, 0, Map.of(), body.getBytes(StandardCharsets.UTF_8));
    }
}
