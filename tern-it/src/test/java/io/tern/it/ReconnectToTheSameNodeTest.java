package io.tern.it;

import io.tern.protocol.DestinationName;
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
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

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

    private static WireMessage text(DestinationName to, String body) {
        return new WireMessage("ID:" + java.util.UUID.randomUUID(), WireMessage.BODY_TEXT, to, null, null, null,
                false, 4, 0, 0, 0, Map.of(), body.getBytes(StandardCharsets.UTF_8));
    }
}
