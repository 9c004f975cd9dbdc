package io.tern.broker;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * Notices that this JVM was stopped: SIGSTOP, a long garbage-collection pause, a frozen VM or
 * container. A thread ticks every {@link #TICK_MS} on the monotonic clock; a gap between two ticks
 * longer than the threshold means every thread of the node was stopped, and the other members may
 * have found the node gone and taken it over meanwhile. The watch then runs the check it was given
 * (in its own thread, the node {@link NodeState#CHECKING} meanwhile).
 *
 * <p>The requests that queued up in the node's sockets during the pause are read by the transport's
 * threads as soon as the JVM resumes, maybe before the watch's thread has run again: {@link #stale}
 * tells the paths that serve them that the last tick is too old, so they wait for the check too.
 * Readers read the tick before the state; the watch enters the check before it renews the tick and
 * renews it before it leaves the check, so a reader either sees the old tick (and waits for the end
 * of the check, which comes after) or sees the check under way or over.
 */
final class PauseWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PauseWatch.class);
    static final long TICK_MS = 100;

    private final long thresholdNs;
    private final LongSupplier clock;
    private final Hooks hooks;
    private final Thread thread;
    private volatile long lastTickNs;
    private volatile boolean closed;

    /** What the watch does about a pause, in its own thread. */
    interface Hooks {
        /** A pause of {@code gapMs} ended: the node stops serving until {@link #check} is done. */
        void paused(long gapMs);

        /** Checks with the other members what became of this node while it was stopped. */
        void check(long gapMs);

        /** The check is done: the node serves again as it did before the pause (or as the check left it). */
        void checked(long gapMs);
    }

    /**
     * @param thresholdMs a gap longer than this is a pause (half the failure-detection time: a
     *                    shorter pause cannot have made the others suspect this node)
     */
    PauseWatch(String node, long thresholdMs, LongSupplier nanoClock, Hooks hooks) {
        if (thresholdMs <= TICK_MS) {
            throw new IllegalArgumentException("a pause threshold must be longer than the watch's tick of " + TICK_MS
                    + " ms: " + thresholdMs);
        }
        this.thresholdNs = thresholdMs * 1_000_000L;
        this.clock = nanoClock;
        this.hooks = hooks;
        this.lastTickNs = nanoClock.getAsLong();
        this.thread = new Thread(this::run, "tern-pause-watch-" + node);
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** True if the last tick is older than the threshold: the JVM was stopped, and the watch has not run since. */
    boolean stale() {
        return clock.getAsLong() - lastTickNs > thresholdNs;
    }

    private void run() {
        while (!closed) {
            try {
                Thread.sleep(TICK_MS);
            } catch (InterruptedException e) {
                return;
            }
            long now = clock.getAsLong();
            long gapNs = now - lastTickNs;
            if (gapNs <= thresholdNs) {
                lastTickNs = now;
                continue;
            }
            long gapMs = gapNs / 1_000_000L;
            hooks.paused(gapMs);
            lastTickNs = now; // the state holds requests from here
            try {
                hooks.check(gapMs);
            } catch (RuntimeException e) {
                LOG.error("The check after a pause of {} ms failed", gapMs, e);
            } finally {
                lastTickNs = clock.getAsLong(); // before the state lets requests through again
                hooks.checked(gapMs);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
