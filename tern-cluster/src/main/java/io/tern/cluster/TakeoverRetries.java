package io.tern.cluster;

import io.tern.protocol.NodeInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Takeovers that failed, tried again until they need no more tries. A takeover fails when its store
 * or its backups refuse the batch (a replication send threw, a backup's disk failed, the quorum went
 * for a moment); the dead node's messages are then served nowhere. The replica stays here, and the
 * takeover is tried again after {@value #FIRST_DELAY_MS} ms, then at twice the wait each time, up to
 * {@value #MAX_DELAY_MS} ms, on the takeover's thread, as long as it is still this node's to do
 * ({@link Takeover}: the node is not back, nobody recorded a takeover of it, this node holds its
 * replica and is not fenced).
 */
final class TakeoverRetries {
    private static final Logger LOG = LoggerFactory.getLogger(TakeoverRetries.class);
    static final long FIRST_DELAY_MS = 1000;
    static final long MAX_DELAY_MS = 30_000;

    /**
     * A takeover to try again: the node, the start of it that is gone (empty: any), and the round it
     * failed in, whose copies taken so far it must not take again ({@link RoundCopies}).
     */
    record Failed(NodeInfo gone, String incarnation, RoundCopies copies) {
    }

    /** Takes a node over: true if done (or nothing to take), false if it failed ({@link Takeover}). */
    interface Attempt {
        boolean takeOver(NodeInfo gone, String incarnation, RoundCopies copies, long epoch);
    }

    private final ClusterNode node;
    private final GoneConfirmation confirmation;
    private final Set<String> pending;
    private final ScheduledExecutorService timer;
    private final Executor worker;
    private final Predicate<String> stillOurs;
    private final Attempt attempt;
    private final Runnable reconsider;
    /** The nodes whose failed takeover still needs a try. */
    private final Set<String> waiting = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * @param pending    the nodes being taken over now (shared with the takeover)
     * @param stillOurs  whether the takeover of a node is still this node's to do: nobody recorded one, its
     *                   replica is here, and this node is not stopping or fenced
     * @param reconsider tells the admission desk that who owns what may have changed
     */
    TakeoverRetries(ClusterNode node, GoneConfirmation confirmation, Set<String> pending, ScheduledExecutorService timer,
                    Executor worker, Predicate<String> stillOurs, Attempt attempt, Runnable reconsider) {
        this.node = node;
        this.confirmation = confirmation;
        this.pending = pending;
        this.timer = timer;
        this.worker = worker;
        this.stillOurs = stillOurs;
        this.attempt = attempt;
        this.reconsider = reconsider;
    }

    /** {@code f} failed for the first time (a try of it waits already: that one goes on). */
    void failed(Failed f) {
        if (waiting.add(f.gone().nodeId())) {
            schedule(f, FIRST_DELAY_MS, 1);
        }
    }

    /** How many failed takeovers still need a try. */
    int waiting() {
        return waiting.size();
    }

    /** True while the failed takeover of {@code nodeId} waits for a try. */
    boolean waits(String nodeId) {
        return waiting.contains(nodeId);
    }

    private void schedule(Failed f, long delayMs, int failures) {
        LOG.warn("The takeover of {} is tried again in {} ms (it failed {} time(s))", f.gone().name(), delayMs, failures);
        try {
            timer.schedule(() -> worker.execute(() -> {
                if (!retrySafely(f)) {
                    schedule(f, Math.min(delayMs * 2, MAX_DELAY_MS), failures + 1);
                } else {
                    waiting.remove(f.gone().nodeId());
                }
            }), delayMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.debug("Not trying the takeover of {} again: this node stops", f.gone().name());
        }
    }

    /** {@link #retry}; one that throws (not a failed store: that returns false) is tried again too. */
    private boolean retrySafely(Failed f) {
        try {
            return retry(f);
        } catch (RuntimeException e) {
            LOG.error("A try of the takeover of {} threw: tried again later", f.gone().name(), e);
            return false;
        }
    }

    /**
     * Tries {@code f} again if it is still this node's to do; true once it needs no more tries. Marked
     * under way first, as the takeover of a view change is: a start of the node that comes back meanwhile
     * waits for the outcome before it serves what it stored.
     */
    private boolean retry(Failed f) {
        String id = f.gone().nodeId();
        if (!stillOurs.test(id)) {
            return true;
        }
        if (!pending.add(id)) {
            return false; // a takeover of it is under way already: looked at again later
        }
        try {
            if (node.incarnation(id) != null) {
                LOG.info("{} is back in the view: its failed takeover is not tried again, it serves what it stored", f.gone().name());
                return true;
            }
            if (!confirmation.confirm(List.of(f.gone()), Map.of(id, ""), node.quorumBase())) {
                return node.incarnation(id) != null; // back; or this node lost the quorum: tried again later
            }
            LOG.warn("Trying the takeover of {} again", f.gone().name());
            return attempt.takeOver(f.gone(), f.incarnation(), f.copies(), node.viewId());
        } finally {
            pending.remove(id);
            reconsider.run();
        }
    }
}
