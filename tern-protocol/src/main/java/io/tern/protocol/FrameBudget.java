package io.tern.protocol;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;

/**
 * Bytes that large frames still being received may hold, shared by every connection of a server.
 * A {@link FrameDecoder} reserves a large frame's whole length when its header arrives; when the
 * budget is spent, that connection stops reading until frames elsewhere complete (or time out) and
 * its turn comes, so that many clients sending half of a large frame hold a bounded amount of memory,
 * small frames keep flowing, and large ones are served in the order they came. Thread-safe.
 */
public final class FrameBudget {
    /** Frames up to this size are not counted: a connection buffers at most one of them at a time. */
    public static final int SMALL_FRAME = 64 * 1024;

    private record Waiter(long bytes, Runnable granted) {
    }

    private final long capacityBytes;
    private long reservedBytes;
    /** Connections waiting for room, served first come, first served. */
    private final Queue<Waiter> waiting = new ArrayDeque<>();

    public FrameBudget(long capacityBytes) {
        if (capacityBytes < 1) {
            throw new IllegalArgumentException("a frame budget must be >= 1 byte: " + capacityBytes);
        }
        this.capacityBytes = capacityBytes;
    }

    /**
     * Reserves {@code bytes} and returns true; or, if they do not fit now (or others wait already),
     * returns false and runs {@code granted} once they are reserved for the caller, in turn.
     */
    synchronized boolean reserve(long bytes, Runnable granted) {
        if (waiting.isEmpty() && fits(bytes)) {
            reservedBytes += bytes;
            return true;
        }
        waiting.add(new Waiter(bytes, granted));
        return false;
    }

    /**
     * Gives {@code bytes} back and grants waiting reservations that now fit, in the order they came (a
     * frame larger than the whole budget gets it alone). A grant whose callback fails (its event loop
     * is shutting down) is given back too.
     */
    void release(long bytes) {
        List<Runnable> grants = new ArrayList<>();
        List<Long> waitingBytes = new ArrayList<>();
        synchronized (this) {
            reservedBytes -= bytes;
            while (!waiting.isEmpty() && fits(waiting.peek().bytes())) {
                Waiter w = waiting.poll();
                reservedBytes += w.bytes();
                grants.add(w.granted());
                waitingBytes.add(w.bytes());
            }
        }
        for (int i = 0; i < grants.size(); i++) {
            try {
                grants.get(i).run();
            } catch (RuntimeException e) {
                release(waitingBytes.get(i)); // the waiter is gone (RejectedExecutionException at shutdown)
            }
        }
    }

    private boolean fits(long bytes) {
        return reservedBytes + bytes <= capacityBytes || reservedBytes == 0;
    }

    /** Bytes reserved now, for tests and the console. */
    public synchronized long reservedBytes() {
        return reservedBytes;
    }

    /** Connections waiting for room now. */
    public synchronized int waiting() {
        return waiting.size();
    }
}
