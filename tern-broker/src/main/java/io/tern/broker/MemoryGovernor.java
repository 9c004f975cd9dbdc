package io.tern.broker;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * The memory limit: the bytes of the messages queued on this node are counted as they are placed
 * and released, and so are the copies it holds of other nodes' stored messages (the replicas of the
 * nodes it backs up, {@link io.tern.broker.store.MessageStore#copiesHeldBytes}), which share its heap. Under {@link BrokerConfig.FullPolicy#BLOCK} a send that finds the limit reached
 * waits in line, before anything of it is stored, until the queued messages fit again
 * ({@link #whenRoom}); one that waits past the block timeout fails, not stored, with an answer that
 * says why. Under FAIL the connection refuses it at once ({@link #full}). Thread-safe.
 */
final class MemoryGovernor {
    private final long limitBytes;
    private final AtomicLong used = new AtomicLong();
    /** The heap the copies of other nodes' messages take now. */
    private final java.util.function.LongSupplier copies;
    /** Sends waiting for room, in the order they came; guarded by this. */
    private final ArrayDeque<Waiting> line = new ArrayDeque<>();
    private final AtomicInteger waiting = new AtomicInteger();

    /** The store is past its disk limit ({@link DiskWatch}): sends that would be stored wait too. */
    private volatile boolean diskFull;

    private record Waiting(long bytes, boolean stored, LongConsumer go) {
    }

    MemoryGovernor(long limitBytes) {
        this(limitBytes, () -> 0);
    }

    MemoryGovernor(long limitBytes, java.util.function.LongSupplier copies) {
        this.limitBytes = limitBytes;
        this.copies = copies;
    }

    /** The copies of other nodes' messages take less heap now: sends waiting for room may fit. */
    void copiesShrunk() {
        if (waiting.get() > 0) {
            wake();
        }
    }

    /** The queued messages and the copies of other nodes' messages: what the limit counts. */
    private long counted() {
        return used.get() + copies.getAsLong();
    }

    /** A message of {@code bytes} is held in memory now. */
    void add(long bytes) {
        used.addAndGet(bytes);
    }

    /** A message of {@code bytes} left memory for good (or a reservation of {@link #whenRoom} ends). */
    void released(long bytes) {
        used.addAndGet(-bytes);
        if (waiting.get() > 0) {
            wake();
        }
    }

    boolean diskFull() {
        return diskFull;
    }

    void diskFull(boolean full) {
        diskFull = full;
        if (!full && waiting.get() > 0) {
            wake();
        }
    }

    /**
     * A send of about {@code bytes} ({@code stored}: one the store keeps, which the disk limit holds back
     * too) asks for room: {@code go} runs now, on this thread, with 0 if the
     * queued messages fit the limit (and the store its disk limit) and no send waits before it; else, in line, once they fit, on the
     * thread that made room, with {@code bytes} reserved for it: {@code go} must {@link #released
     * release} them once the send is counted (stored) or given up. A send still in line after
     * {@code timeoutMs} leaves it, and {@code timedOut} runs instead (on {@code timers}).
     */
    void whenRoom(long bytes, boolean stored, long timeoutMs, ScheduledExecutorService timers, LongConsumer go,
                  Runnable timedOut) {
        Waiting w = new Waiting(bytes, stored, go);
        synchronized (this) {
            // The usual case first: nobody waits. Else only sends held by the disk alone may be passed.
            if (fits(w) && (line.isEmpty() || line.stream().noneMatch(ahead -> !ahead.stored() || !diskFull))) {
                w = null;
            } else {
                line.addLast(w);
                waiting.incrementAndGet();
            }
        }
        if (w == null) {
            go.accept(0);
            return;
        }
        Waiting mine = w;
        timers.schedule(() -> {
            boolean left;
            synchronized (this) {
                left = line.remove(mine);
                if (left) {
                    waiting.decrementAndGet();
                }
            }
            if (left) {
                timedOut.run();
            }
        }, timeoutMs, TimeUnit.MILLISECONDS);
        wake();
    }

    private boolean fits(Waiting w) {
        return counted() <= limitBytes && !(w.stored() && diskFull);
    }

    long limitBytes() {
        return limitBytes;
    }

    boolean full() {
        return counted() > limitBytes;
    }

    /**
     * Past the limit by a quarter of it: copies of other nodes' messages that would grow are refused then
     * (their node's commit fails). The quarter leaves them room while this node's own sends are held at
     * the limit, so that a node hovering at its limit does not fail other nodes' sends.
     */
    boolean overfull() {
        return counted() > limitBytes + limitBytes / 4;
    }

    /** What the limit counts: the queued messages and the copies of other nodes' messages. */
    long used() {
        return counted();
    }

    /** The copies of other nodes' messages alone. */
    long copies() {
        return copies.getAsLong();
    }

    /** Sends waiting for room. */
    int blocked() {
        return waiting.get();
    }

    /**
     * Lets through, in order, the sends that fit now, each with its bytes reserved until it is counted.
     * While the disk is past its limit, sends that would be stored stay in line and the others pass them
     * (each connection keeps its own order: {@link SendAdmissions}).
     */
    private void wake() {
        List<Waiting> admitted = new ArrayList<>();
        synchronized (this) {
            var it = line.iterator();
            while (it.hasNext() && counted() <= limitBytes) {
                Waiting w = it.next();
                if (w.stored() && diskFull) {
                    continue;
                }
                it.remove();
                waiting.decrementAndGet();
                used.addAndGet(w.bytes());
                admitted.add(w);
            }
        }
        admitted.forEach(w -> w.go().accept(w.bytes()));
    }
}
