package io.tern.cluster;

import io.tern.broker.store.PageFile;
import io.tern.broker.store.StoreBatch;
import io.tern.broker.store.StoreBatchCodec;
import io.tern.broker.store.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The primary's batches that came while a replica's snapshot streams, applied in order once it has
 * ended. Past {@link #LINE} bytes of messages they go to the replica's page file, out of the heap: a
 * takeover on the primary while its new backup syncs replicates a whole dead node's queues in such
 * batches, which ran a node of 128 MiB heap out of memory. Guarded by the replica's lock.
 */
final class WaitingBatches {
    private static final Logger LOG = LoggerFactory.getLogger(WaitingBatches.class);
    /** Bytes of messages past which the waiting batches go to the page file. */
    static final long LINE = 4 << 20;

    /** Where they go past the line; null: they stay in memory. */
    private final PageFile pages;
    private final List<StoreBatch> inMemory = new ArrayList<>();
    /** The bytes of the messages {@link #inMemory} stores: written under the lock, read without it. */
    private volatile long bytes;
    /** Batches in the page file, all older than those {@link #inMemory}. */
    private long spilled;
    /**
     * The duplicate-detection ids of those, by the last that touched each: the bucket it was added to,
     * or {@link #REMOVED} (removed alone, or with its bucket).
     */
    private final Map<String, Long> spilledIds = new HashMap<>();
    /** Buckets those removed whole: an id the replica held in one is gone unless a later one added it again. */
    private final java.util.Set<Long> spilledBucketRemovals = new java.util.HashSet<>();
    /** An id's state: not held. */
    private static final long REMOVED = Long.MIN_VALUE;
    /** An id's state: held, in a bucket nobody told (no bucket removal matches it). */
    static final long UNKNOWN_BUCKET = Long.MIN_VALUE + 1;
    /**
     * False once the page file refused a spill: the batches stay in memory until the next snapshot
     * (it was tried again, and its error logged, at every batch that came meanwhile).
     */
    private boolean spills = true;

    WaitingBatches(PageFile pages) {
        this.pages = pages;
    }

    void add(StoreBatch batch) {
        inMemory.add(batch);
        bytes += batch.messageBytes();
        if (pages != null && spills && bytes > LINE) {
            spill();
        }
    }

    /** The bytes of messages of the batches waiting in memory. */
    long bytes() {
        return bytes;
    }

    /**
     * Passes every waiting batch to {@code apply}, in order, and forgets them; throws {@link
     * StoreException} if those in the page file cannot be read back (the rest are forgotten too).
     */
    void drain(Consumer<StoreBatch> apply) {
        try {
            if (spilled > 0) {
                pages.drainRecords(encoded -> apply.accept(StoreBatchCodec.decode(encoded, 0, encoded.length)));
            }
            inMemory.forEach(apply);
        } finally {
            clear();
        }
    }

    /** Forgets them (a new snapshot begins; the page file is cleared with the replica's messages). */
    void clear() {
        inMemory.clear();
        bytes = 0;
        spilled = 0;
        spilledIds.clear();
        spilledBucketRemovals.clear();
        spills = true;
    }

    /** True while the batches go to the page file past {@link #LINE}. */
    boolean spills() {
        return pages != null && spills;
    }

    /** True if no batch waits. */
    boolean isEmpty() {
        return inMemory.isEmpty() && spilled == 0;
    }

    /**
     * Whether the id is stored once the waiting batches are applied; {@code appliedBucket} is the
     * bucket the replica holds it in now ({@link #UNKNOWN_BUCKET} if it cannot tell), null if it does
     * not hold it. A bucket removed whole (the primary's oldest ids, past its duplicate-detection
     * capacity) takes the id with it: it was read as held until the snapshot applied, and a resent send
     * with it would have been dropped as a duplicate.
     */
    boolean hasDuplicateId(String id, Long appliedBucket) {
        long state;
        if (spilledIds.containsKey(id)) {
            state = spilledIds.get(id);
        } else if (appliedBucket == null || spilledBucketRemovals.contains(appliedBucket)) {
            state = REMOVED;
        } else {
            state = appliedBucket;
        }
        for (StoreBatch b : inMemory) {
            for (StoreBatch.Op op : b.ops()) {
                state = after(op, id, state);
            }
        }
        return state != REMOVED;
    }

    /** The state of {@code id} after {@code op}, {@code state} before it. */
    private static long after(StoreBatch.Op op, String id, long state) {
        if (op instanceof StoreBatch.AddDuplicateId a && a.id().equals(id)) {
            return a.bucket();
        } else if (op instanceof StoreBatch.RemoveDuplicateId r && r.id().equals(id)) {
            return REMOVED;
        } else if (op instanceof StoreBatch.RemoveDuplicateBucket r && r.bucket() == state) {
            return REMOVED;
        }
        return state;
    }

    /** The batches in memory go to the page file, in order. If it cannot take them, the rest stay. */
    private void spill() {
        int written = 0;
        try {
            for (StoreBatch b : inMemory) {
                pages.putRecord(spilled, StoreBatchCodec.encode(b));
                spilled++;
                written++;
                for (StoreBatch.Op op : b.ops()) {
                    if (op instanceof StoreBatch.AddDuplicateId a) {
                        spilledIds.put(a.id(), a.bucket());
                    } else if (op instanceof StoreBatch.RemoveDuplicateId r) {
                        spilledIds.put(r.id(), REMOVED);
                    } else if (op instanceof StoreBatch.RemoveDuplicateBucket r) {
                        spilledBucketRemovals.add(r.bucket());
                        spilledIds.replaceAll((id, bucket) -> bucket == r.bucket() ? REMOVED : bucket);
                    }
                }
            }
        } catch (StoreException e) {
            spills = false;
            LOG.error("Could not move the batches waiting for the snapshot out of memory: the rest stay there, and so "
                    + "do the batches that come until the next snapshot ({})", e.getMessage());
        }
        inMemory.subList(0, written).clear(); // those written wait on disk, before the rest
        long left = 0;
        for (StoreBatch b : inMemory) {
            left += b.messageBytes();
        }
        bytes = left;
    }
}
