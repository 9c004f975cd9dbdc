package io.tern.broker;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The memory limit: the bytes of the messages queued on this node are counted as they are placed
 * and released, and a send that finds the limit reached gets its answer only once they fit again
 * (under {@link BrokerConfig.FullPolicy#BLOCK}; under FAIL the connection refuses it, see
 * {@link #full}). Thread-safe; answers waiting for room run on the thread that released it.
 */
final class MemoryGovernor {
    private final long limitBytes;
    private final AtomicLong used = new AtomicLong();
    private final ConcurrentLinkedQueue<Runnable> blocked = new ConcurrentLinkedQueue<>();

    MemoryGovernor(long limitBytes) {
        this.limitBytes = limitBytes;
    }

    /** A message of {@code bytes} is held in memory now. */
    void add(long bytes) {
        used.addAndGet(bytes);
    }

    /** A message of {@code bytes} left memory for good. */
    void released(long bytes) {
        used.addAndGet(-bytes);
        if (!blocked.isEmpty()) {
            wake();
        }
    }

    /** Runs {@code reply} now if queued messages fit the limit, else once they do. */
    void whenAvailable(Runnable reply) {
        if (used.get() <= limitBytes) {
            reply.run();
            return;
        }
        blocked.add(reply);
        wake();
    }

    long limitBytes() {
        return limitBytes;
    }

    boolean full() {
        return used.get() > limitBytes;
    }

    long used() {
        return used.get();
    }

    /** Sends whose answers wait for room. */
    int blocked() {
        return blocked.size();
    }

    private void wake() {
        while (used.get() <= limitBytes) {
            Runnable r = blocked.poll();
            if (r == null) {
                return;
            }
            r.run();
        }
    }
}
