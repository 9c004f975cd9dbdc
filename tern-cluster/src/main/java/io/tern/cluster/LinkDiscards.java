package io.tern.cluster;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.LongSupplier;

/**
 * Which of this start's cluster links opened before it last discarded its messages (it was taken
 * over): what those links brought and this node stored is gone, and their moves left in doubt at
 * the other end are its taker's to hold ({@link InDoubtMoves}). Keeps, for each count of discards,
 * the first link number opened with it; link numbers rise, and are this start's own.
 */
final class LinkDiscards {
    private final LongSupplier discards;
    private final ConcurrentSkipListMap<Long, Long> byFirstLink = new ConcurrentSkipListMap<>();

    /** {@code discards}: how often this node discarded its messages since it started. */
    LinkDiscards(LongSupplier discards) {
        this.discards = discards;
    }

    /** Link {@code link} opens now (after every lower number); returns the discards so far. Called on one thread. */
    long opened(long link) {
        long now = discards.getAsLong();
        Map.Entry<Long, Long> last = byFirstLink.lastEntry();
        if (last == null || last.getValue() != now) {
            byFirstLink.put(link, now);
        }
        return now;
    }

    /** True if this node discarded its messages since its link {@code link} opened. */
    boolean discardedSince(long link) {
        Map.Entry<Long, Long> atOpen = byFirstLink.floorEntry(link);
        return atOpen != null && discards.getAsLong() > atOpen.getValue();
    }
}
