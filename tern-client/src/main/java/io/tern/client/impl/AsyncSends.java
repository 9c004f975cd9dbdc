package io.tern.client.impl;

import jakarta.jms.JMSException;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The asynchronous sends of one session that have not completed yet, counted per producer:
 * closing a producer or the session, and committing or rolling back, wait until the sends before
 * them are answered and their completion listeners have returned (specification 7.3.8).
 */
final class AsyncSends {
    private final Map<Object, Integer> pending = new HashMap<>(); // guarded by this
    private int total; // guarded by this

    synchronized void started(Object producer) {
        pending.merge(producer, 1, Integer::sum);
        total++;
    }

    /** The send's answer came and its completion listener, if any, returned. */
    synchronized void done(Object producer) {
        pending.computeIfPresent(producer, (k, n) -> n == 1 ? null : n - 1);
        total--;
        notifyAll();
    }

    /** Waits until the sends of {@code producer} (null: of the whole session) are done, at most {@code timeoutMs}. */
    synchronized void await(Object producer, long timeoutMs) throws JMSException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (producer == null ? total > 0 : pending.containsKey(producer)) {
            long leftMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (leftMs <= 0) {
                throw new JMSException((producer == null ? total : pending.get(producer))
                        + " asynchronous send(s) got no answer in " + timeoutMs + " ms");
            }
            try {
                wait(leftMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new JMSException("interrupted while waiting for asynchronous sends to complete");
            }
        }
    }
}
