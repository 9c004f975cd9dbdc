package io.tern.cluster;

import io.tern.broker.BrokerException;
import io.tern.protocol.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The replicated batches of {@link ReplicatingStore} still waiting for their backups, by batch
 * number: confirmed one by one or a range at a time (a backup's acknowledgement) or up to a snapshot's cut (its
 * confirmation), retargeted when the map changes, and failed when a backup they need cannot have
 * them. Thread-safe; a batch's future completes outside any lock of this class.
 */
final class WaitingCommits {
    private static final Logger LOG = LoggerFactory.getLogger(WaitingCommits.class);

    private final ConcurrentSkipListMap<Long, WaitingCommit> waiting = new ConcurrentSkipListMap<>();
    private final AtomicLong failed = new AtomicLong();

    /** Batch {@code seq} waits for each of {@code backups}; the future completes when all confirmed it. */
    CompletableFuture<Void> add(long seq, Set<String> backups) {
        WaitingCommit w = new WaitingCommit(backups);
        waiting.put(seq, w);
        w.done.whenComplete((ok, e) -> waiting.remove(seq));
        return w.done;
    }

    /** {@code backup} acknowledged batch {@code seq}. */
    void confirmed(String backup, long seq) {
        WaitingCommit w = waiting.get(seq);
        if (w != null) {
            w.confirmed(backup);
        }
    }

    /** {@code backup} confirmed batches {@code first} to {@code last}. */
    void confirmed(String backup, long first, long last) {
        waiting.subMap(first, true, last, true).values().forEach(w -> w.confirmed(backup));
    }

    /** {@code backup} confirmed a snapshot cut after batch {@code cut}: it holds every batch up to it. */
    void confirmedUpTo(String backup, long cut) {
        waiting.headMap(cut, true).values().forEach(w -> w.confirmed(backup));
    }

    /** The backups to wait for are now {@code backups} (see {@link WaitingCommit#retarget}). */
    void retarget(Set<String> backups) {
        waiting.values().forEach(w -> w.retarget(backups));
    }

    /** Fails every batch that needs {@code backup} (every batch if null) with {@code code}; logs how many. */
    void fail(String backup, ErrorCode code, String reason) {
        int n = 0;
        for (WaitingCommit w : waiting.values()) {
            if ((backup == null || w.needs(backup)) && w.done.completeExceptionally(new BrokerException(code, reason))) {
                n++;
            }
        }
        if (n > 0) {
            failed.addAndGet(n);
            LOG.warn("{} commit(s) failed: {}", n, reason);
        }
    }

    /** Fails batch {@code seq} alone with {@code code}, if it still waits; logs it. */
    void failOne(long seq, ErrorCode code, String reason) {
        WaitingCommit w = waiting.get(seq);
        if (w != null && w.done.completeExceptionally(new BrokerException(code, reason))) {
            failed.incrementAndGet();
            LOG.warn("Commit of batch {} failed: {}", seq, reason);
        }
    }

    /** Counts a commit refused before it was written (no quorum). */
    void refused() {
        failed.incrementAndGet();
    }

    /** Batches waiting now. */
    int size() {
        return waiting.size();
    }

    /** How long the oldest batch waiting now has waited, in nanoseconds; 0 if none waits. */
    long oldestWaitNanos() {
        java.util.Map.Entry<Long, WaitingCommit> first = waiting.firstEntry();
        return first == null ? 0 : Math.max(0, System.nanoTime() - first.getValue().since);
    }

    /** Commits that failed because they could not be replicated, or were refused without the quorum. */
    long failed() {
        return failed.get();
    }

    @Override
    public String toString() {
        // firstKey() of an empty map throws; the map may empty between the two calls.
        Long first = waiting.isEmpty() ? null : waiting.ceilingKey(Long.MIN_VALUE);
        return "waiting=" + waiting.size() + (first == null ? "" : " from batch " + first);
    }
}
