package io.tern.cluster;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

@Timeout(10)
class RoundCopiesTest {

    /** A message with message id {@code id} and no duplicate-detection id, moved {@code moves} times; null id: none. */
    private static byte[] message(String id, int moves) {
        return TestMessages.encoded(id, "orders", Map.of(), moves);
    }

    private static Map<String, Map<Long, byte[]>> replica(Object... seqAndMessage) {
        Map<Long, byte[]> q = new TreeMap<>();
        for (int i = 0; i < seqAndMessage.length; i += 2) {
            q.put((Long) seqAndMessage[i], (byte[]) seqAndMessage[i + 1]);
        }
        return Map.of("orders", q);
    }

    @Test
    void oneReplicaKeepsBothCopiesOfAMessageThatCameBackByALaterMove() {
        // Moved away in doubt (count 0 here), and back again two moves on: both copies are the node's.
        RoundCopies.Kept kept = new RoundCopies().keep(replica(1L, message("ID:m", 0), 2L, message("ID:m", 2)));
        assertThat(kept.skipped()).isZero();
        assertThat(kept.messages().get("orders")).containsOnlyKeys(1L, 2L);
    }

    @Test
    void messagesWithoutIdsAreAllKept() {
        RoundCopies copies = new RoundCopies();
        assertThat(copies.keep(replica(1L, message(null, 0), 2L, message(null, 0))).messages().get("orders"))
                .containsOnlyKeys(1L, 2L);
        copies.takenOver(copies.keep(replica(1L, message(null, 0))));
        RoundCopies.Kept second = copies.keep(replica(7L, message(null, 0)));
        assertThat(second.skipped()).isZero();
        assertThat(second.messages().get("orders")).containsOnlyKeys(7L);
    }

    @Test
    void aLaterReplicaOfTheRoundDropsTheCopiesAnEarlierOneGave() {
        // The failover node that died taking the node over stored the node's message as it was.
        RoundCopies copies = new RoundCopies();
        RoundCopies.Kept taker = copies.keep(replica(10L, message("ID:m", 1), 11L, message("ID:own", 0)));
        assertThat(taker.skipped()).isZero();
        copies.takenOver(taker);
        RoundCopies.Kept node = copies.keep(replica(3L, message("ID:m", 1), 4L, message("ID:m", 3), 5L, message("ID:n", 0)));
        assertThat(node.skipped()).isEqualTo(1);
        assertThat(node.messages().get("orders")).as("the same copy once; another copy of m and n kept").containsOnlyKeys(4L, 5L);
    }

    @Test
    void copiesOfAReplicaWhoseTakeoverFailedAreNotTakenAndItsRetryKeepsThemAll() {
        RoundCopies copies = new RoundCopies();
        copies.keep(replica(10L, message("ID:m", 1), 11L, message("ID:own", 0)));
        // Its takeover could not store them: takenOver is never called for it.
        RoundCopies.Kept retried = copies.keep(replica(10L, message("ID:m", 1), 11L, message("ID:own", 0)));
        assertThat(retried.skipped()).isZero();
        assertThat(retried.messages().get("orders")).containsOnlyKeys(10L, 11L);
        copies.takenOver(retried);
        assertThat(copies.keep(replica(3L, message("ID:m", 1))).skipped()).as("once taken over, it counts").isEqualTo(1);
    }
}
