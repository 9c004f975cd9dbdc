package io.tern.broker;

import io.tern.broker.store.StoreBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

@Timeout(10)
class DuplicateCacheTest {

    @Test
    void remembersAtLeastTheCapacityAndForgetsWholeBucketsInTheStore() {
        DuplicateCache cache = new DuplicateCache(100); // buckets of 10
        StoreBatch batch = new StoreBatch();
        for (int i = 0; i < 1000; i++) {
            assertThat(cache.add("id-" + i, batch)).isTrue();
        }
        assertThat(cache.size()).isBetween(100, 110);
        for (int i = 900; i < 1000; i++) {
            assertThat(cache.add("id-" + i, null)).as("recent id %d is remembered", i).isFalse();
        }
        assertThat(cache.add("id-0", null)).as("an old id is forgotten").isTrue();
        long adds = batch.ops().stream().filter(op -> op instanceof StoreBatch.AddDuplicateId).count();
        long bucketDeletes = batch.ops().stream().filter(op -> op instanceof StoreBatch.RemoveDuplicateBucket).count();
        assertThat(adds).isEqualTo(1000);
        assertThat(bucketDeletes).isBetween(89L, 90L);
    }

    @Test
    void aForgottenIdMayBeSentAgainAndRecoveredIdsAreRemembered() {
        DuplicateCache cache = new DuplicateCache(100);
        assertThat(cache.add("a", null)).isTrue();
        cache.forget("a");
        assertThat(cache.add("a", null)).isTrue();
        DuplicateCache restarted = new DuplicateCache(100);
        restarted.recovered(7, "x");
        restarted.recovered(8, "y");
        assertThat(restarted.add("x", null)).isFalse();
        assertThat(restarted.add("z", null)).isTrue();
    }

    /**
     * A takeover brought as many ids as the capacity (the fault profile with clustered queues: 200,794
     * ids into a cache of 200,000). They pushed out every id of the taker's own, among them the moves
     * it had just stored, and its takeover put those moves back in their queue: delivered twice.
     */
    @Test
    void idsTakenOverPushOutNoneOfThisNodesOwnAndTheRoomShrinksBackAfter() {
        DuplicateCache cache = new DuplicateCache(100); // buckets of 10
        for (int i = 0; i < 100; i++) {
            cache.add("own-" + i, null);
        }
        for (int i = 0; i < 150; i++) {
            assertThat(cache.addTakenOver("taken-" + i, null)).isTrue();
        }
        for (int i = 0; i < 100; i++) {
            assertThat(cache.contains("own-" + i)).as("own id %d", i).isTrue();
        }
        for (int i = 0; i < 150; i++) {
            assertThat(cache.contains("taken-" + i)).as("taken-over id %d", i).isTrue();
        }
        assertThat(cache.addTakenOver("own-5", null)).as("an id held already is seen").isFalse();

        for (int i = 0; i < 250; i++) {
            cache.add("new-" + i, null);
        }
        assertThat(cache.size()).as("back to its capacity once as many new ids came").isBetween(100, 110);
        for (int i = 150; i < 250; i++) {
            assertThat(cache.contains("new-" + i)).as("recent id %d", i).isTrue();
        }
    }

    @Test
    void idsOfATakeoverThatFailedAreNewAgainAndTheirRoomGoesWithThem() {
        DuplicateCache cache = new DuplicateCache(100); // buckets of 10
        for (int i = 0; i < 100; i++) {
            cache.add("own-" + i, null);
        }
        java.util.List<String> taken = new java.util.ArrayList<>();
        for (int i = 0; i < 50; i++) {
            assertThat(cache.addTakenOver("taken-" + i, null)).isTrue();
            taken.add("taken-" + i);
        }
        cache.forgetTakenOver(taken);
        for (String id : taken) {
            assertThat(cache.contains(id)).as("%s is new again", id).isFalse();
        }
        assertThat(cache.contains("own-0")).as("this node's own ids stay").isTrue();
        assertThat(cache.addTakenOver("taken-0", null)).as("the takeover, tried again, adds it").isTrue();
        // Without the room the failed takeover had, new ids push out the oldest of this node's own at the usual pace.
        for (int i = 0; i < 20; i++) {
            cache.add("new-" + i, null);
        }
        assertThat(cache.contains("own-0")).as("the room made for the failed takeover is gone").isFalse();
    }
}
