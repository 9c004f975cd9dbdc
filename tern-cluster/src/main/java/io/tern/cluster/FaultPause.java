package io.tern.cluster;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fault injection for tests: a pause at one point of the code (a takeover between storing and
 * recording itself, a snapshot before it starts), off until a test sets it. Says so in the log.
 */
final class FaultPause {
    private static final Logger LOG = LoggerFactory.getLogger(FaultPause.class);
    private final String what;
    private volatile long ms;

    /** @param what what pauses, for the log: "the takeover of %s stored its messages and pauses" */
    FaultPause(String what) {
        this.what = what;
    }

    void set(long ms) {
        this.ms = ms;
    }

    /** Pauses if set; false if interrupted. */
    boolean pause(Object subject) {
        long wait = ms;
        if (wait <= 0) {
            return true;
        }
        LOG.warn("Fault injection: {} {} ms", String.format(what, subject), wait);
        try {
            Thread.sleep(wait);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
