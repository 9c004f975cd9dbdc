package io.tern.broker.security;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Slows down password guessing from one address: after {@value #FREE_FAILURES} failed logins in a row
 * from it, the address is refused without a check for 1 s, doubling with each further failure up to
 * {@value #MAX_LOCK_MS} ms. A successful login clears its count; a count left alone for
 * {@value #FORGET_MS} ms is forgotten. Thread-safe; time comes from the clock given.
 */
public final class LoginThrottle {
    static final int FREE_FAILURES = 5;
    static final long MAX_LOCK_MS = 60_000;
    static final long FORGET_MS = 10 * 60_000;
    /** Addresses tracked at most: past it the oldest entries are forgotten, so a spray of addresses costs bounded memory. */
    static final int MAX_ADDRESSES = 100_000;

    private record Failures(int count, long lastMs) {
    }

    private final Map<String, Failures> failures = new ConcurrentHashMap<>();
    private final LongSupplier nowMs;

    public LoginThrottle(LongSupplier nowMs) {
        this.nowMs = nowMs;
    }

    /** How much longer {@code address} is refused without a check; 0 if it may try. */
    public long lockedForMs(String address) {
        Failures f = failures.get(address);
        if (f == null || f.count() < FREE_FAILURES) {
            return 0;
        }
        long lock = Math.min(MAX_LOCK_MS, 1000L << Math.min(20, f.count() - FREE_FAILURES));
        return Math.max(0, f.lastMs() + lock - nowMs.getAsLong());
    }

    /** Counts a failed login from {@code address}; returns its failures in a row. */
    public int failed(String address) {
        long now = nowMs.getAsLong();
        if (failures.size() >= MAX_ADDRESSES) {
            failures.entrySet().removeIf(e -> now - e.getValue().lastMs() > FORGET_MS);
            if (failures.size() >= MAX_ADDRESSES) {
                failures.clear();
            }
        }
        return failures.compute(address, (a, f) -> f == null || now - f.lastMs() > FORGET_MS
                ? new Failures(1, now) : new Failures(f.count() + 1, now)).count();
    }

    public void succeeded(String address) {
        failures.remove(address);
    }
}
