package io.tern.cluster;

import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The one thread a node's cluster links ({@link QueueLinks}, {@link InDoubtMoves}) work on, and
 * their stop. Once {@link #stop stopped}, work given to it is dropped, not run and not thrown
 * back: the node stops, its store is closing, and what was on its way stays in doubt at its
 * sender, resolved with this node's taker or at its restart. Dropping (a discard policy) rather
 * than checking a flag before each hand-off leaves no window between the check and the hand-off.
 */
final class LinksThread implements Executor {

    private final ScheduledThreadPoolExecutor thread;
    private volatile boolean stopped;

    LinksThread(String name) {
        thread = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.DiscardPolicy());
        thread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    /** Runs {@code task} on this thread soon, unless the links stopped. */
    @Override
    public void execute(Runnable task) {
        thread.execute(task);
    }

    /** Runs {@code task} on this thread in {@code millis} ms, unless the links stopped by then. */
    void schedule(Runnable task, long millis) {
        thread.schedule(task, millis, TimeUnit.MILLISECONDS);
    }

    /** Whether {@link #stop} was called: nothing more is stored or sent through the links. */
    boolean stopped() {
        return stopped;
    }

    /** Drops what is queued and waits up to a second for what runs now. */
    void stop() {
        stopped = true;
        thread.shutdownNow();
        try {
            thread.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
