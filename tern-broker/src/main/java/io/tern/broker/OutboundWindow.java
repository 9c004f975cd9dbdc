package io.tern.broker;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of deliveries given to one connection that have not left for its socket yet. A consumer's
 * credit counts messages: a prefetch of 1000 messages of 256 KiB once put 250 MiB into the outgoing
 * buffers of a client that read slowly (or not at all), more direct memory than the server had, and
 * every connection of the node shares it. Queues give a connection more only while this window has
 * room, so one connection holds at most {@link #LIMIT} plus one message unwritten; the rest of the
 * queue stays ready for other consumers. When the window drains to half, the connection's queues are
 * woken to dispatch again.
 */
final class OutboundWindow {
    /** Bytes a connection may have unwritten before its consumers get no more (system property to tune). */
    static final long LIMIT = Long.getLong("tern.outboundWindowBytes", 1024 * 1024);

    private final long limit;
    private final AtomicLong unwritten = new AtomicLong();
    /** A queue found the window full: it must be woken when it drains. */
    private final AtomicBoolean waited = new AtomicBoolean();
    private final Runnable wake;

    /** {@code wake} runs (on the thread that wrote) when the window drained after a queue found it full. */
    OutboundWindow(long limit, Runnable wake) {
        this.limit = limit;
        this.wake = wake;
    }

    /**
     * True if a delivery may be given now; if not, the caller is woken once the window has drained.
     * The check is repeated after the mark, so a write that drained it in between is not missed.
     */
    boolean roomOrWake() {
        if (unwritten.get() < limit) {
            return true;
        }
        waited.set(true);
        return unwritten.get() < limit;
    }

    /** A delivery of {@code bytes} was given to the connection. */
    void taken(long bytes) {
        unwritten.addAndGet(bytes);
    }

    /** A delivery of {@code bytes} left for the socket (or will never be written). */
    void written(long bytes) {
        long now = unwritten.addAndGet(-bytes);
        if (now <= limit / 2 && waited.compareAndSet(true, false)) {
            wake.run();
        }
    }

    long unwritten() {
        return unwritten.get();
    }
}
