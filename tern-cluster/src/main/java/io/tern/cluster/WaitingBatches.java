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
    /** The duplicate-detection ids of those, by the last op that touched each (numbered by {@link #ops}). */
    private final Map<String, IdState> spilledIds = new HashMap<>();
    /** Buckets those removed whole, and the number of the op that removed each last. */
    private final Map<Long, Long> spilledBucketRemovals = new HashMap<>();
    /** Ops of the spilled batches so far, which number them. */
    private long ops;
    /** An id's bucket: not held. */
    private static final long REMOVED = Long.MIN_VALUE;
    /**
     * After the page file refused a spill, the next is tried once another {@link #LINE} of batches came
     * (it was tried, and its error logged, at every batch; giving up until the next snapshot would
     * leave a long snapshot's batches in memory after one brief failure).
     */
    private long retryPast;
    /** Spills the page file refused since this node started. */
    private long spillFailures;

    /** The bucket an op put an id in ({@link #REMOVED}: it removed it), and the op's number. */
    private record IdState(long bucket, long at) {
    }

    WaitingBatches(PageFile pages) {
        this.pages = pages;
    }

    void add(StoreBatch batch) {
        inMemory.add(batch);
        bytes += batch.messageBytes();
        if (pages != null && bytes > Math.max(LINE, retryPast)) {
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
        ops = 0;
        retryPast = 0;
    }

    /** Spills the page file refused. */
    long spillFailures() {
        return spillFailures;
    }

    /** True if no batch waits. */
    boolean isEmpty() {
        return inMemory.isEmpty() && spilled == 0;
    }

    /**
     * Whether the id is stored once the waiting batches are applied; {@code appliedBucket} is the
     * bucket the replica holds it in now, null if it does
     * not hold it. A bucket removed whole (the primary's oldest ids, past its duplicate-detection
     * capacity) takes the id with it: it was read as held until the snapshot applied, and a resent send
     * with it would have been dropped as a duplicate.
     */
    boolean hasDuplicateId(String id, Long appliedBucket) {
        IdState spilledAs = spilledIds.get(id);
        long state;
        if (spilledAs != null) {
            Long removedAt = spilledBucketRemovals.get(spilledAs.bucket());
            state = removedAt != null && removedAt > spilledAs.at() ? REMOVED : spilledAs.bucket();
        } else if (appliedBucket == null || spilledBucketRemovals.containsKey(appliedBucket)) {
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
                    ops++;
                    if (op instanceof StoreBatch.AddDuplicateId a) {
                        spilledIds.put(a.id(), new IdState(a.bucket(), ops));
                    } else if (op instanceof StoreBatch.RemoveDuplicateId r) {
                        spilledIds.put(r.id(), new IdState(REMOVED, ops));
                    } else if (op instanceof StoreBatch.RemoveDuplicateBucket r) {
                        spilledBucketRemovals.put(r.bucket(), ops);
                    }
                }
            }
        } catch (StoreException e) {
            spillFailures++;
            LOG.error("Could not move the batches waiting for the snapshot out of memory: the rest stay there, and the "
                    + "page file is tried again after another {} MiB of them ({})", LINE >> 20, e.getMessage());
        }
        inMemory.subList(0, written).clear(); // those written wait on disk, before the rest
        long left = 0;
        for (StoreBatch b : inMemory) {
            left += b.messageBytes();
        }
        bytes = left;
        retryPast = inMemory.isEmpty() ? 0 : left + LINE;
    }
}
