package io.tern.broker;

import io.tern.broker.store.TransientStore;
import io.tern.protocol.DestinationName;
import io.tern.protocol.WireMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Clustered queues: a node S moved a message to node D; D stored it and died before S heard so (the
 * move is in doubt at S). S gives the message to the node T that holds D's messages; if T gets it
 * before it has taken D over, D's replica holds the same move, and T must not take it a second time.
 * Seen in the 10-cycle profile with clustered queues: two consumers on T got the message once each.
 */
@Timeout(30)
class TakeoverOfMovesTest {

    private static WireMessage message(String id) {
        return new WireMessage(id, WireMessage.BODY_NONE, DestinationName.queue("orders"), null, null, null, true, 4, 0, 0, 0,
                Map.of(), null);
    }

    /** Takes over a dead node's replica that holds {@code atDead} (as it stored it) and the ids it knew. */
    private static int takeOver(Broker taker, WireMessage atDead) {
        byte[] definition = taker.destinations().queue("orders").definition().encode();
        return taker.adopt(Map.of("orders", definition), Map.of("orders", Map.of(7L, PublishPipeline.encode(atDead))),
                List.of(atDead.moveDedupKey()), Map.of()).join();
    }

    @Test
    void aMoveInDoubtGivenToTheTakerBeforeItsTakeoverIsNotTakenAgainFromTheReplica() {
        try (Broker taker = new Broker(BrokerConfig.builder().build(), new TransientStore(), "t")) {
            taker.start();
            WireMessage atSource = message("ID:in-doubt");
            taker.moves().storeMoved("orders", List.of(atSource)).join(); // S's move in doubt, given to T
            await().until(() -> taker.messageCount("orders") == 1);

            int taken = takeOver(taker, atSource.moved()); // D had stored the same move
            assertThat(taken).as("the replica's copy is the one T has already").isZero();
            assertThat(taker.messageCount("orders")).isEqualTo(1);
        }
    }

    @Test
    void aMessageTheTakerNeverHadIsTakenOver() {
        try (Broker taker = new Broker(BrokerConfig.builder().build(), new TransientStore(), "t")) {
            taker.start();
            int taken = takeOver(taker, message("ID:only-at-dead").moved());
            assertThat(taken).isEqualTo(1);
            await().until(() -> taker.messageCount("orders") == 1);
        }
    }
}
