package io.tern.client.impl;

import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The message ids of one producer: a random prefix drawn once, then a counter. A send used to draw a
 * random UUID of its own, and {@code UUID.randomUUID()} takes SecureRandom's lock: with 64 producers in
 * one JVM that lock was on every send's path. The prefix keeps ids unique across producers, processes
 * and restarts (122 random bits); the counter is atomic because an id used twice would be dropped as a
 * duplicate by the server, even if an application breaks the rule of one thread per producer.
 */
final class MessageIds {
    private final String prefix = "ID:" + UUID.randomUUID() + ":";
    private final AtomicLong next = new AtomicLong();

    String next() {
        return prefix + next.incrementAndGet();
    }
}
