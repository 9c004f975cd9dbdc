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
    /** The duplicate-detection ids of those: added (true) or removed (false) by the last that touched each. */
    private final Map<String, Boolean> spilledIds = new HashMap<>();
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
        spills = true;
    }

    /** True while the batches go to the page file past {@link #LINE}. */
    boolean spills() {
        return pages != null && spills;
    }

    /** Whether the id is stored once the waiting batches are applied, {@code applied} saying whether it is now. */
    boolean hasDuplicateId(String id, boolean applied) {
        boolean has = spilledIds.getOrDefault(id, applied);
        for (StoreBatch b : inMemory) {
            for (StoreBatch.Op op : b.ops()) {
                if (op instanceof StoreBatch.AddDuplicateId a && a.id().equals(id)) {
                    has = true;
                } else if (op instanceof StoreBatch.RemoveDuplicateId r && r.id().equals(id)) {
                    has = false;
                }
            }
        }
        return has;
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
                        spilledIds.put(a.id(), true);
                    } else if (op instanceof StoreBatch.RemoveDuplicateId r) {
                        spilledIds.put(r.id(), false);
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
