package io.tern.broker;

import io.netty.buffer.Unpooled;
import io.tern.protocol.FrameCodec;
import io.tern.protocol.WireMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The paged part of one queue: its stored messages kept in the store only ({@link PagedSequences}),
 * counted against the memory limit at eight bytes each, and read back from the store in order, a
 * chunk at a time. Confined to the queue's executor, like the queue.
 */
final class QueuePages {
    private static final Logger LOG = LoggerFactory.getLogger(QueuePages.class);
    /** Messages read back from the store in one go (one multiGet). */
    static final int CHUNK = 64;
    /** ... and about 1 MiB, by the mean size of the messages paged and read back so far (8 until one is known). */
    private final io.tern.broker.store.ReadChunks chunks = new io.tern.broker.store.ReadChunks(CHUNK, 1 << 20, 8);

    private final Broker broker;
    private final String queue;
    private final PagedSequences paged = new PagedSequences();

    QueuePages(Broker broker, String queue) {
        this.broker = broker;
        this.queue = queue;
    }

    int size() {
        return paged.size();
    }

    boolean isEmpty() {
        return paged.isEmpty();
    }

    /** A stored entry stays in the store only: its message leaves memory, its sequence stays here. */
    void page(QueueEntry entry) {
        paged.add(entry.sequence);
        chunks.saw(entry.size);
        broker.pagedOut(entry);
    }

    /** Stored messages a restart left on disk. */
    void addRecovered(PagedSequences recovered) {
        for (long seq : recovered.peek(recovered.size())) {
            paged.add(seq);
        }
        broker.memory().add((long) recovered.size() * PagedSequences.BYTES_EACH);
    }

    /**
     * The next chunk read back, in order, counted in memory now; null if the store could not be read
     * (logged; the chunk stays paged and is tried again). A message gone from the store or that cannot
     * be decoded is logged and skipped.
     */
    List<QueueEntry> readChunk() {
        long[] seqs = paged.peek(chunks.next());
        List<byte[]> stored;
        try {
            stored = broker.readPaged(queue, seqs);
        } catch (RuntimeException e) {
            LOG.error("Reading paged messages of {} back from the store failed (tried again at the next delivery): {}",
                    queue, e.getMessage(), e);
            return null;
        }
        List<QueueEntry> entries = new ArrayList<>(seqs.length);
        for (int i = 0; i < seqs.length; i++) {
            if (stored.get(i) != null) {
                chunks.saw(stored.get(i).length);
            }
            WireMessage m = decode(seqs[i], stored.get(i));
            if (m != null) {
                QueueEntry e = new QueueEntry(seqs[i], m, true, null, 0);
                broker.memory().add(e.size);
                entries.add(e);
            }
        }
        paged.drop(seqs.length);
        broker.memory().released((long) seqs.length * PagedSequences.BYTES_EACH);
        return entries;
    }

    /**
     * For a browser: adds to {@code merged} the paged messages after {@code after} that {@code keep}
     * accepts, reading them in order until the {@code max}th of {@code merged} comes before every paged
     * one not read (so the first {@code max} of {@code merged} are the next ones, in order). Returns
     * true if paged messages remain beyond those read. Reads the store; does not change what is paged.
     */
    boolean browseInto(TreeMap<Long, WireMessage> merged, long after, int max, Predicate<WireMessage> keep) {
        long readUpTo = after;
        while (merged.size() <= max || nthKey(merged, max) > readUpTo) {
            long[] seqs = paged.after(readUpTo, chunks.next());
            if (seqs.length == 0) {
                return false;
            }
            List<byte[]> stored = broker.readPaged(queue, seqs);
            for (int i = 0; i < seqs.length; i++) {
                WireMessage m = decode(seqs[i], stored.get(i));
                if (m != null && keep.test(m)) {
                    merged.put(seqs[i], m);
                }
            }
            readUpTo = seqs[seqs.length - 1];
        }
        return paged.after(readUpTo, 1).length > 0;
    }

    /** Forgets every paged message (the queue is purged or deleted; whoever does it removes them from the store). */
    void clear() {
        broker.memory().released((long) paged.clear() * PagedSequences.BYTES_EACH);
    }

    private WireMessage decode(long seq, byte[] bytes) {
        if (bytes == null) {
            LOG.error("Paged message {} of {} is no longer in the store; skipped", seq, queue);
            return null;
        }
        try {
            return FrameCodec.readMessage(Unpooled.wrappedBuffer(bytes));
        } catch (RuntimeException e) {
            LOG.error("Paged message {} of {} cannot be read back ({}); skipped, it stays in the store", seq, queue, e.toString());
            return null;
        }
    }

    /** The key of the {@code n}th entry (from 0) of {@code map}, which has more than n. */
    private static long nthKey(TreeMap<Long, ?> map, int n) {
        var it = map.keySet().iterator();
        for (int i = 0; i < n; i++) {
            it.next();
        }
        return it.next();
    }
}
