package io.tern.broker;

import io.tern.broker.store.StoreBatch;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The most recent duplicate-detection ids. Ids are kept in numbered buckets; once more than
 * {@code capacity} ids are held, the oldest bucket is forgotten whole (one range delete in the store
 * instead of one delete per id). So at least {@code capacity} recent ids are always remembered.
 *
 * <p>A takeover brings the dead node's ids ({@link #addTakenOver}): the cache makes room for them
 * on top of its capacity, so that they push none of this node's own ids out (its takeover and the
 * moves in doubt it settles look up this node's own moves right after). The extra room shrinks by
 * one with each id added after, so the cache is back to its capacity once as many new ids came.
 *
 * <p>An id is claimed by the commit that stores its send ({@link #claim}); until that commit has
 * finished, a send of the same id (a client's resend after a failover back to this node) is
 * answered with that commit's outcome, not with "stored": if the commit fails, the resend fails too
 * and is sent again, rather than be dropped as a duplicate of a send that was never stored.
 */
final class DuplicateCache {
    private record Bucket(long number, List<String> ids) {
    }

    private final int capacity;
    private final int bucketSize;
    private final Set<String> ids = new HashSet<>();
    private final ArrayDeque<Bucket> buckets = new ArrayDeque<>();
    /** The commits that claimed ids and have not finished yet, by id. */
    private final Map<String, CompletableFuture<?>> claimedBy = new HashMap<>();
    /** Room beyond the capacity, made for a taken-over node's ids; shrinks with each new id. */
    private long extra;

    DuplicateCache(int capacity) {
        this.capacity = capacity;
        this.bucketSize = Math.max(1, Math.min(1000, capacity / 10));
    }

    /** False if the id was seen; else remembers it (and stores it when {@code batch} is not null). */
    synchronized boolean add(String id, StoreBatch batch) {
        if (capacity == 0) {
            return true;
        }
        if (!ids.add(id)) {
            return false;
        }
        if (extra > 0) {
            extra--;
        }
        remember(id, batch);
        return true;
    }

    /**
     * As {@link #add}, for the send of a commit whose outcome is {@code commit}. Returns null if the
     * id is claimed by it now. Else the send is a duplicate, and the result is the commit that
     * claimed the id if that has not finished yet (the send is stored only if that commit succeeds),
     * or a completed future (the id's send is stored).
     */
    synchronized CompletableFuture<?> claim(String id, StoreBatch batch, CompletableFuture<?> commit) {
        if (add(id, batch)) {
            if (capacity > 0) {
                claimedBy.put(id, commit);
            }
            return null;
        }
        CompletableFuture<?> claimant = claimedBy.get(id);
        // A finished claimant still here succeeded: a failed one forgets its ids before it completes.
        return claimant != null && !claimant.isDone() ? claimant : CompletableFuture.completedFuture(null);
    }

    /** The commit that claimed {@code ids} finished, and stored them: their sends are plain duplicates now. */
    synchronized void settled(List<String> ids, CompletableFuture<?> commit) {
        ids.forEach(id -> claimedBy.remove(id, commit));
    }

    /**
     * As {@link #add}, for an id of a node this one takes over: it comes with room of its own, so
     * it pushes out none of the ids held now.
     */
    synchronized boolean addTakenOver(String id, StoreBatch batch) {
        if (capacity == 0) {
            return true;
        }
        if (!ids.add(id)) {
            return false;
        }
        extra++;
        remember(id, batch);
        return true;
    }

    private void remember(String id, StoreBatch batch) {
        Bucket current = buckets.peekLast();
        if (current == null || current.ids().size() >= bucketSize) {
            current = new Bucket(current == null ? 0 : current.number() + 1, new ArrayList<>(bucketSize));
            buckets.addLast(current);
        }
        current.ids().add(id);
        if (batch != null) {
            batch.add(new StoreBatch.AddDuplicateId(current.number(), id));
        }
        while (buckets.size() > 1 && ids.size() - buckets.peekFirst().ids().size() >= capacity + extra) {
            Bucket oldest = buckets.pollFirst();
            oldest.ids().forEach(ids::remove);
            oldest.ids().forEach(claimedBy::remove);
            if (batch != null) {
                batch.add(new StoreBatch.RemoveDuplicateBucket(oldest.number()));
            }
        }
    }

    synchronized boolean contains(String id) {
        return ids.contains(id);
    }

    /**
     * The takeover that added {@code added} ({@link #addTakenOver}) could not store them: they and
     * their room go, so that the takeover, tried again, finds them new again.
     */
    synchronized void forgetTakenOver(List<String> added) {
        added.forEach(this::forget);
        extra = Math.max(0, extra - added.size());
    }

    /** The send that claimed the id was not stored: it may come again. */
    synchronized void forget(String id) {
        claimedBy.remove(id);
        if (ids.remove(id)) {
            for (var it = buckets.descendingIterator(); it.hasNext(); ) {
                if (it.next().ids().remove(id)) {
                    return;
                }
            }
        }
    }

    /**
     * Forgets every id (this node discards what it stored: the node that took it over holds its
     * ids now); the removal of each bucket goes into {@code batch}.
     */
    synchronized void clear(StoreBatch batch) {
        for (Bucket b : buckets) {
            batch.add(new StoreBatch.RemoveDuplicateBucket(b.number()));
        }
        buckets.clear();
        ids.clear();
        claimedBy.clear();
    }

    /** Called in key order (bucket by bucket) while the store is read at start. */
    synchronized void recovered(long bucket, String id) {
        Bucket last = buckets.peekLast();
        if (last == null || last.number() != bucket) {
            last = new Bucket(bucket, new ArrayList<>());
            buckets.addLast(last);
        }
        last.ids().add(id);
        ids.add(id);
    }

    synchronized int size() {
        return ids.size();
    }
}
