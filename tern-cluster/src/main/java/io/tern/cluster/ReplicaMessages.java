package io.tern.cluster;

import io.tern.broker.store.PageFile;
import io.tern.broker.store.ReadChunks;
import io.tern.broker.store.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NoSuchElementException;
import java.util.TreeMap;

/**
 * The stored messages of one replica, by queue and sequence: their bodies in memory, or paged out to
 * the replica's page file ({@link #pageOut}) when they would take more than their share of the heap,
 * and read back a chunk at a time when the replica is read whole. Guarded by its replica's lock
 * ({@code lock}), which the views returned here also take to read paged bodies back.
 */
final class ReplicaMessages {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaMessages.class);
    /** Stands for the body of a message that is in {@link #pages}, not in memory (compared by identity). */
    private static final byte[] PAGED = new byte[0];
    /** What a paged message still costs the heap: its map entry and its boxed sequence. */
    static final long PAGED_COST = 56;
    /** While a replica loads or applies what waited on disk, its bodies past this many bytes are paged out. */
    static final long LOADING_LINE = 32 << 20;

    private final Object lock;
    /** Where bodies go when the replica pages; null: it never pages. */
    private final PageFile pages;
    private final Map<String, NavigableMap<Long, byte[]>> messages = new LinkedHashMap<>();
    /** The heap {@link #messages} take (see {@link #cost}): written under the lock, read without it. */
    private volatile long heldBytes;
    /** Messages whose bodies are {@link #PAGED}. */
    private long pagedEntries;
    /** Paged bodies are read back 64 at a time at most, about 1 MiB by the mean size of those paged out. */
    private final ReadChunks readChunks = new ReadChunks(64, 1 << 20, 64);

    ReplicaMessages(Object lock, PageFile pages) {
        this.lock = lock;
        this.pages = pages;
    }

    /** The page file (shared with the batches that wait for a snapshot), or null. */
    PageFile pages() {
        return pages;
    }

    /** What one stored message of a replica costs the heap: its encoded bytes, its map entry and its boxed sequence. */
    static long cost(byte[] encoded) {
        return io.tern.broker.HeapCost.array(encoded.length) + PAGED_COST;
    }

    private static long costHere(byte[] body) {
        return body == PAGED ? PAGED_COST : cost(body);
    }

    void put(String queue, long sequence, byte[] body) {
        byte[] before = messages.computeIfAbsent(queue, q -> new TreeMap<>()).put(sequence, body);
        heldBytes += cost(body) - (before == null ? 0 : costHere(before));
        if (before == PAGED) {
            pagedEntries--;
            unpage(queue, List.of(sequence));
        }
    }

    void remove(String queue, long sequence) {
        NavigableMap<Long, byte[]> q = messages.get(queue);
        byte[] gone = q == null ? null : q.remove(sequence);
        if (gone != null) {
            heldBytes -= costHere(gone);
        }
        if (gone == PAGED) {
            pagedEntries--;
            unpage(queue, List.of(sequence));
        }
    }

    void deleteQueue(String queue) {
        NavigableMap<Long, byte[]> gone = messages.remove(queue);
        if (gone == null) {
            return;
        }
        List<Long> paged = new ArrayList<>();
        gone.forEach((seq, body) -> {
            heldBytes -= costHere(body);
            if (body == PAGED) {
                paged.add(seq);
            }
        });
        pagedEntries -= paged.size();
        unpage(queue, paged);
    }

    boolean contains(String queue, long sequence) {
        NavigableMap<Long, byte[]> q = messages.get(queue);
        return q != null && q.containsKey(sequence);
    }

    /** A new snapshot begins: nothing is held, and the page file is written afresh. */
    void clear() {
        messages.clear();
        heldBytes = 0;
        pagedEntries = 0;
        onPages(PageFile::clear);
    }

    /** The replica is no longer needed: its page file is deleted for good. */
    void close() {
        onPages(PageFile::close);
    }

    /** The heap the messages take now, paged ones at {@link #PAGED_COST}. */
    long heldBytes() {
        return heldBytes;
    }

    /** The heap the bodies held in memory take: what {@link #pageOut} can free. */
    long bodyBytes() {
        return heldBytes - pagedEntries * PAGED_COST;
    }

    int count() {
        int n = 0;
        for (NavigableMap<Long, byte[]> q : messages.values()) {
            n += q.size();
        }
        return n;
    }

    long pagedCount() {
        return pages == null ? 0 : pages.count();
    }

    /** While loading, or applying what waited on disk: pages out past {@link #LOADING_LINE}. */
    void pageOutPastLoadingLine() {
        if (pages != null && bodyBytes() > LOADING_LINE) {
            pageOut(LOADING_LINE / 2);
        }
    }

    /**
     * Moves bodies out of the heap into the page file until those held in memory take at most {@code
     * targetBytes} ({@link #bodyBytes}; or none is left in memory), the newest of each queue first: the
     * oldest are the first the primary's consumers take, and their removal then costs nothing here. True
     * if it paged what it had to; false if it cannot page (none configured, or the page file failed:
     * logged, the bodies stay in memory, and this node's memory limit refuses what no longer fits).
     */
    boolean pageOut(long targetBytes) {
        if (pages == null) {
            return false;
        }
        // Against the bodies in memory alone: what paged messages still cost cannot be paged, and counted
        // here it would keep a deep replica over any target, every batch then scanning it all.
        long excess = bodyBytes() - targetBytes;
        if (excess <= 0) {
            return true;
        }
        Map<String, Map<Long, byte[]>> out = new LinkedHashMap<>();
        long freed = 0;
        for (Map.Entry<String, NavigableMap<Long, byte[]>> q : messages.entrySet()) {
            for (Map.Entry<Long, byte[]> m : q.getValue().descendingMap().entrySet()) {
                if (freed >= excess) {
                    break;
                }
                if (m.getValue() != PAGED) {
                    out.computeIfAbsent(q.getKey(), k -> new TreeMap<>()).put(m.getKey(), m.getValue());
                    freed += cost(m.getValue()) - PAGED_COST;
                }
            }
        }
        if (out.isEmpty()) {
            return true;
        }
        try {
            pages.put(out);
        } catch (StoreException e) {
            LOG.error("Could not page out replica messages (they stay in memory): {}", e.getMessage());
            return false;
        }
        out.forEach((q, m) -> {
            NavigableMap<Long, byte[]> held = messages.get(q);
            m.forEach((seq, body) -> {
                held.put(seq, PAGED);
                pagedEntries++;
                readChunks.saw(body.length);
            });
        });
        heldBytes -= freed;
        return true;
    }

    /** Queue to (sequence to body): a copy, every paged body read back. */
    Map<String, Map<Long, byte[]>> copy() {
        Map<String, Map<Long, byte[]>> copy = new LinkedHashMap<>();
        messages.forEach((q, m) -> {
            if (!m.isEmpty()) {
                copy.put(q, Collections.unmodifiableMap(new TreeMap<>(withBodies(q, m))));
            }
        });
        return copy;
    }

    /**
     * Queue to (sequence to body): a view whose iteration reads the paged bodies back a chunk at a
     * time, so that reading a deep replica whole holds no more of it in memory than its reader keeps.
     * It follows the messages: iterate it while nothing changes them (under the replica's lock, or once
     * the replica is taken for a takeover). A body missing from the page file is a {@link StoreException}.
     */
    Map<String, Map<Long, byte[]>> view() {
        Map<String, Map<Long, byte[]>> view = new LinkedHashMap<>();
        messages.forEach((q, m) -> {
            if (!m.isEmpty()) {
                view.put(q, Collections.unmodifiableMap(withBodies(q, m)));
            }
        });
        return view;
    }

    /** Paged messages that left the replica: their bodies leave the page file. */
    private void unpage(String queue, List<Long> sequences) {
        if (!sequences.isEmpty()) {
            onPages(p -> p.remove(queue, sequences)); // a failure leaves garbage nothing points at; the file goes with the replica
        }
    }

    /** Does {@code action} to the page file, if any; a failure is logged (what it held is never read again). */
    private void onPages(java.util.function.Consumer<PageFile> action) {
        if (pages != null) {
            try {
                action.accept(pages);
            } catch (StoreException e) {
                LOG.warn("{}", e.getMessage());
            }
        }
    }

    private Map<Long, byte[]> withBodies(String queue, NavigableMap<Long, byte[]> held) {
        return new java.util.AbstractMap<>() {
            @Override
            public int size() {
                return held.size();
            }

            @Override
            public boolean containsKey(Object key) {
                return held.containsKey(key);
            }

            @Override
            public byte[] get(Object key) {
                byte[] body = held.get(key);
                return body != PAGED ? body : readPaged(queue, new long[] {(Long) key}).get(0);
            }

            @Override
            public java.util.Set<Map.Entry<Long, byte[]>> entrySet() {
                return new java.util.AbstractSet<>() {
                    @Override
                    public int size() {
                        return held.size();
                    }

                    @Override
                    public Iterator<Map.Entry<Long, byte[]>> iterator() {
                        return bodies(queue, held.entrySet().iterator());
                    }
                };
            }
        };
    }

    /** The entries of {@code held}, with the paged bodies read back a chunk at a time. */
    private Iterator<Map.Entry<Long, byte[]>> bodies(String queue, Iterator<Map.Entry<Long, byte[]>> held) {
        return new Iterator<>() {
            private final ArrayDeque<Map.Entry<Long, byte[]>> ready = new ArrayDeque<>();

            @Override
            public boolean hasNext() {
                return !ready.isEmpty() || held.hasNext();
            }

            @Override
            public Map.Entry<Long, byte[]> next() {
                if (ready.isEmpty()) {
                    fill();
                }
                return ready.removeFirst();
            }

            private void fill() {
                List<Map.Entry<Long, byte[]>> chunk = readChunk(queue, held);
                if (chunk.isEmpty()) {
                    throw new NoSuchElementException();
                }
                ready.addAll(chunk);
            }
        };
    }

    /** The queues that hold messages. */
    List<String> queueNames() {
        List<String> names = new ArrayList<>();
        messages.forEach((q, m) -> {
            if (!m.isEmpty()) {
                names.add(q);
            }
        });
        return names;
    }

    /**
     * The next chunk of {@code queue}'s messages after sequence {@code after}, their paged bodies read
     * back (empty past the last): a hand-over streams a deep replica a chunk per take of the lock. Call
     * under the lock.
     */
    List<Map.Entry<Long, byte[]>> chunkAfter(String queue, long after) {
        NavigableMap<Long, byte[]> held = messages.get(queue);
        return held == null ? List.of() : readChunk(queue, held.tailMap(after, false).entrySet().iterator());
    }

    /** The next entries of {@code held} (of {@code queue}), a chunk's worth, with the paged bodies read back. */
    private List<Map.Entry<Long, byte[]>> readChunk(String queue, Iterator<Map.Entry<Long, byte[]>> held) {
        int max;
        synchronized (lock) {
            max = readChunks.next();
        }
        List<Map.Entry<Long, byte[]>> chunk = new ArrayList<>(max);
        while (chunk.size() < max && held.hasNext()) {
            chunk.add(held.next());
        }
        long[] paged = chunk.stream().filter(e -> e.getValue() == PAGED).mapToLong(Map.Entry::getKey).toArray();
        List<byte[]> read = paged.length == 0 ? List.of() : readPaged(queue, paged);
        List<Map.Entry<Long, byte[]>> out = new ArrayList<>(chunk.size());
        int next = 0;
        for (Map.Entry<Long, byte[]> e : chunk) {
            out.add(Map.entry(e.getKey(), e.getValue() == PAGED ? read.get(next++) : e.getValue()));
        }
        return out;
    }

    /** The bodies of paged messages {@code sequences} of {@code queue}, read back from the page file. */
    private List<byte[]> readPaged(String queue, long[] sequences) {
        List<byte[]> bodies;
        synchronized (lock) {
            bodies = pages.get(queue, sequences);
        }
        for (int i = 0; i < sequences.length; i++) {
            if (bodies.get(i) == null) {
                throw new StoreException("the paged message " + sequences[i] + " of " + queue + " is missing from "
                        + pages.dir(), null);
            }
        }
        return bodies;
    }
}
