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
}
