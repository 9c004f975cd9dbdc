package io.tern.client.impl;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The one timer thread of the client's idle-consumer checks (see {@link TernMessageConsumer}): a
 * check is a few field reads, so one daemon thread serves every consumer of the JVM.
 */
final class IdleChecks {
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "tern-idle-consumers");
        t.setDaemon(true);
        return t;
    });

    private IdleChecks() {
    }

    static void schedule(Runnable check, long delayNs) {
        TIMER.schedule(check, Math.max(1, delayNs), TimeUnit.NANOSECONDS);
    }
}
