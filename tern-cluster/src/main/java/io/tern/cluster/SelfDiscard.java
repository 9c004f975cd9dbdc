package io.tern.cluster;

import io.tern.broker.ClusterPort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * What a node does about its own takeover: before it serves after joining, it asks the members
 * whether one took it over ('K'/'N'), waiting while a takeover of its previous start is under way;
 * when it learns it was taken over (then, or from a member's 'T' after a pause), it fences itself,
 * closes its client connections, fails its unfinished commits, discards its stored messages, keeps
 * on disk that it did, tells the members ('P') and serves again. Only one discard runs at a time
 * ({@code discarding}), and a takeover is discarded for once.
 */
final class SelfDiscard {
    private static final Logger LOG = LoggerFactory.getLogger(SelfDiscard.class);
    /** How long a node that restarted waits, at most, for a takeover of its previous self that is under way. */
    private static final long PENDING_WAIT_MS = 60_000;
    private static final long PENDING_POLL_MS = 100;

    private final ClusterNode node;
    private final String selfId;
    private final ReplicatingStore store;
    private final ClusterPort broker;
    private final MemberPoll poll;
    /** The newest takeover of this node that it discarded for, kept across restarts (its own id to the record). */
    private final TakeoverRecords discards;
    private final Runnable servingAgain;
    private final BooleanSupplier closed;
    private final LongSupplier clock;
    private final Object discarding = new Object();
    /**
     * The newest takeover of this node that it has discarded its messages for (set once they are
     * gone), how many, and by whom; guarded by discarding.
     */
    private volatile long handledEpoch = -1; // written under discarding; read without it (replication's lock order)
    private int handledDropped;
    private volatile String handledTaker;

    /**
     * @param discards     where the discards are kept across restarts
     * @param servingAgain what the node does when it serves again after a discard while it was serving
     */
    SelfDiscard(ClusterNode node, ReplicatingStore store, ClusterPort broker, MemberPoll poll, TakeoverRecords discards,
                Runnable servingAgain, BooleanSupplier closed, LongSupplier nanoClock) {
        this.node = node;
        this.selfId = node.self().nodeId();
        this.store = store;
        this.broker = broker;
        this.poll = poll;
        this.discards = discards;
        this.servingAgain = servingAgain;
        this.closed = closed;
        this.clock = nanoClock;
        TakeoverRecords.Record discarded = discards.get(selfId);
        if (discarded != null) {
            handledEpoch = discarded.epoch();
            handledTaker = discarded.taker().isEmpty() ? null : discarded.taker();
            lastDiscard = discarded;
        }
    }

    /** The epoch of the newest takeover of this node that it discarded its messages for; -1 if none ever. */
    long lastDiscardedEpoch() {
        return handledEpoch; // not under discarding: a discard holds it while it waits for replication's lock
    }

    /** The newest takeover of this node that it discarded its messages for (epoch -1: none ever). */
    TakeoverRecords.Record lastDiscard() {
        return lastDiscard;
    }

    /** Set with {@link #handledEpoch}: the epoch and the taker of one takeover, read together. */
    private volatile TakeoverRecords.Record lastDiscard = new TakeoverRecords.Record(-1, "");

    /** The node that took this node over when it last discarded; null if none. */
    String taker() {
        return handledTaker;
    }

    /**
     * Before a node that has joined serves clients: asks every other member whether it was taken
     * over; if any says so, discards its stored messages and tells them to forget the record.
     * Members that do not answer within {@code timeoutMs} count as "no".
     *
     * @return the number of stored messages discarded
     */
    int checkBeforeServing(long timeoutMs) {
        TakeoverRecords.Record newest = askWaitingForPending(timeoutMs);
        if (newest.epoch() < 0) {
            synchronized (discarding) { // a member's 'T' may have made this node discard (and the others forget) already
                return handledEpoch >= 0 ? handledDropped : 0;
            }
        }
        return discardIfNew(newest, "restarted");
    }

    /**
     * After this node's JVM was stopped for {@code gapMs} (the node holds its clients' requests
     * meanwhile): asks every other member whether it took this node over while it was stopped, and
     * discards if one did, before the node serves a request that queued up during the pause.
     */
    void checkAfterPause(long gapMs, long timeoutMs) {
        TakeoverRecords.Record newest = askWaitingForPending(timeoutMs);
        if (newest.epoch() >= 0) {
            discardIfNew(newest, "stopped for " + gapMs + " ms");
        } else {
            LOG.info("Stopped for {} ms: no member took this node over meanwhile", gapMs);
        }
    }

    /**
     * {@link #ask}, and while a member answers that a takeover of this node is under way, asks again
     * until it is recorded (at most {@link #PENDING_WAIT_MS}).
     */
    private TakeoverRecords.Record askWaitingForPending(long timeoutMs) {
        long deadlineNs = clock.getAsLong() + PENDING_WAIT_MS * 1_000_000L;
        TakeoverRecords.Record newest = ask(timeoutMs);
        while (newest.epoch() == Takeover.PENDING && clock.getAsLong() - deadlineNs < 0 && !closed.getAsBoolean()) {
            try {
                Thread.sleep(PENDING_POLL_MS); // the taker answers once its takeover is recorded: ask again
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            newest = ask(timeoutMs);
        }
        if (newest.epoch() == Takeover.PENDING) {
            LOG.warn("A member still takes this node's previous self over after {} ms: serving its own disk", PENDING_WAIT_MS);
        }
        return newest;
    }

    /**
     * Asks every other member whether it recorded a takeover of this node; the newest answer (or one
     * that says a takeover is under way, epoch {@link Takeover#PENDING}), epoch -1 if none. Members that do
     * not answer within {@code timeoutMs} count as "no".
     */
    private TakeoverRecords.Record ask(long timeoutMs) {
        java.util.function.Predicate<Map<String, TakeoverRecords.Record>> all = poll.everyOtherMember();
        Map<String, TakeoverRecords.Record> answers = poll.ask(round -> ClusterCodec.encode('K', out -> out.writeLong(round)),
                all, timeoutMs);
        if (!all.test(answers)) {
            LOG.warn("Not every member answered within {} ms whether it took this node over", timeoutMs);
        }
        TakeoverRecords.Record newest = new TakeoverRecords.Record(-1, "");
        for (TakeoverRecords.Record r : answers.values()) {
            if (r.epoch() == Takeover.PENDING) {
                return r;
            }
            if (r.epoch() > newest.epoch()) {
                newest = r;
            }
        }
        return newest;
    }

    /** 'P': this node discarded for the takeover at its last discarded epoch; older records of it are stale. */
    byte[] discardedMessage() {
        long epoch = lastDiscardedEpoch();
        return ClusterCodec.encode('P', out -> out.writeLong(epoch));
    }

    /**
     * This node was taken over at {@code epoch}: unless it already did so for that takeover, it fences
     * itself, closes its client connections, fails its unfinished commits, discards its stored
     * messages, tells the members to forget the record, and serves again.
     *
     * @return the number of stored messages discarded
     */
    int discardIfNew(TakeoverRecords.Record takeover, String how) {
        synchronized (discarding) {
            long epoch = takeover.epoch();
            if (epoch <= handledEpoch) {
                return epoch == handledEpoch ? handledDropped : 0;
            }
            handledTaker = takeover.taker().isEmpty() ? null : takeover.taker();
            handledDropped = discard(takeover, how);
            return handledDropped;
        }
    }

    /**
     * Fences this node, closes its client connections and drops its stored messages; only then is
     * the takeover recorded as discarded for (on disk, and in {@link #lastDiscardedEpoch}) and the
     * members told: a node that dies halfway discards again when it restarts.
     */
    private int discard(TakeoverRecords.Record takeover, String how) {
        long epoch = takeover.epoch();
        String reason = "node " + node.self().name() + " was taken over while it was gone (epoch " + epoch
                + ") and discards what it no longer owns";
        boolean serving = broker.availability().state() != io.tern.broker.NodeState.STARTING;
        broker.availability().fence(reason);
        int dropped;
        boolean kept = false;
        try {
            store.fail(reason);
            broker.closeAllConnections().get(30, java.util.concurrent.TimeUnit.SECONDS);
            dropped = broker.discardStoredMessages();
            try {
                discards.put(selfId, takeover);
                kept = true;
            } catch (java.io.UncheckedIOException e) {
                // Restarted without that record, it would discard again, and with it what it stored since: it
                // stores nothing more, and discards again (nothing) once restarted with a working data directory.
                LOG.error("Could not keep on disk that this node discarded for the takeover at epoch {} ({}): it stays "
                        + "fenced until it is restarted with a working data directory", epoch, e.getMessage());
                broker.availability().fenceUntilRestart("could not keep on disk that it discarded for the takeover at epoch " + epoch
                        + " (" + e.getMessage() + "): serves nothing until it is restarted with a working data directory");
            }
            handledEpoch = epoch;
            lastDiscard = takeover;
            LOG.warn("This node was taken over while it was gone (epoch {}; {}): discarded {} stored message(s) its "
                    + "failover node owns now", epoch, how, dropped);
            node.sendToOthers(discardedMessage());
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("could not close the client connections before discarding", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while discarding", e);
        } finally {
            if (kept) {
                broker.availability().unfence("discarded what it no longer owns");
            }
        }
        if (serving && kept) {
            servingAgain.run(); // merged back while serving: serves again now
        }
        return dropped;
    }

}
