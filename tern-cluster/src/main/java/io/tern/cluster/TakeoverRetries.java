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

    /** What a try asks the cluster: whether the node is back, whether the majority confirms it gone, and the view. */
    interface Membership {
        boolean isMember(String nodeId);

        /** The majority confirms {@code gone} gone (see {@link GoneConfirmation#confirm}); false without the quorum. */
        boolean confirmGone(NodeInfo gone);

        long viewId();

        static Membership of(ClusterNode node, GoneConfirmation confirmation) {
            return new Membership() {
                @Override
                public boolean isMember(String nodeId) {
                    return node.incarnation(nodeId) != null;
                }

                @Override
                public boolean confirmGone(NodeInfo gone) {
                    return confirmation.confirm(List.of(gone), Map.of(gone.nodeId(), ""), node.quorumBase());
                }

                @Override
                public long viewId() {
                    return node.viewId();
                }
            };
        }
    }

    /** Takes a node over: true if done (or nothing to take), false if it failed ({@link Takeover}). */
    interface Attempt {
        boolean takeOver(NodeInfo gone, String incarnation, RoundCopies copies, long epoch);
    }

    private final Membership members;
    private final Set<String> pending;
    private final ScheduledExecutorService timer;
    private final Executor worker;
    private final Predicate<String> stillOurs;
    private final Attempt attempt;
    private final Runnable reconsider;
    /**
     * The nodes whose failed takeover still needs a try, each with its latest failure: a node that came
     * back and failed again while a try waited is tried with the start and round of its newer failure.
     */
    private final Map<String, Failed> waiting = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * @param pending    the nodes being taken over now (shared with the takeover)
     * @param stillOurs  whether the takeover of a node is still this node's to do: nobody recorded one, its
     *                   replica is here, and this node is not stopping or fenced
     * @param reconsider tells the admission desk that who owns what may have changed
     */
    TakeoverRetries(Membership members, Set<String> pending, ScheduledExecutorService timer,
                    Executor worker, Predicate<String> stillOurs, Attempt attempt, Runnable reconsider) {
        this.members = members;
        this.pending = pending;
        this.timer = timer;
        this.worker = worker;
        this.stillOurs = stillOurs;
        this.attempt = attempt;
        this.reconsider = reconsider;
    }

    /** {@code f} failed; if a try of the same node waits already, that try takes {@code f} instead. */
    void failed(Failed f) {
        if (waiting.put(f.gone().nodeId(), f) == null) {
            schedule(f.gone(), FIRST_DELAY_MS, 1);
        }
    }

    /** How many failed takeovers still need a try. */
    int waiting() {
        return waiting.size();
    }

    /** True while the failed takeover of {@code nodeId} waits for a try. */
    boolean waits(String nodeId) {
        return waiting.containsKey(nodeId);
    }

    private void schedule(NodeInfo gone, long delayMs, int failures) {
        LOG.warn("The takeover of {} is tried again in {} ms (it failed {} time(s))", gone.name(), delayMs, failures);
        try {
            timer.schedule(() -> worker.execute(() -> {
                Failed latest = waiting.get(gone.nodeId());
                if (latest == null) {
                    return;
                }
                if (!retrySafely(latest) || !waiting.remove(gone.nodeId(), latest)) {
                    // It failed again, or a newer failure came while it was tried: that one is tried next.
                    schedule(gone, Math.min(delayMs * 2, MAX_DELAY_MS), failures + 1);
                }
            }), delayMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.debug("Not trying the takeover of {} again: this node stops", gone.name());
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
            if (members.isMember(id)) {
                LOG.info("{} is back in the view: its failed takeover is not tried again, it serves what it stored", f.gone().name());
                return true;
            }
            if (!members.confirmGone(f.gone())) {
                return members.isMember(id); // back; or this node lost the quorum: tried again later
            }
            LOG.warn("Trying the takeover of {} again", f.gone().name());
            return attempt.takeOver(f.gone(), f.incarnation(), f.copies(), members.viewId());
        } finally {
            pending.remove(id);
            reconsider.run();
        }
    }
}
