package io.tern.broker;

import java.util.concurrent.atomic.LongAdder;

/**
 * What passed through this node since it started, for its metrics: messages (and the bytes they
 * cost in memory) placed in its queues and acknowledged out of them, and client connections that
 * arrived here failing over from another node. Counted on the queues' executors and the event
 * loops, read by any thread.
 */
public final class Traffic {
    private final LongAdder messagesIn = new LongAdder();
    private final LongAdder messagesOut = new LongAdder();
    private final LongAdder bytesIn = new LongAdder();
    private final LongAdder bytesOut = new LongAdder();
    private final LongAdder failoversServed = new LongAdder();

    void placed(long bytes) {
        messagesIn.increment();
        bytesIn.add(bytes);
    }

    void acknowledged(long bytes) {
        messagesOut.increment();
        bytesOut.add(bytes);
    }

    void failoverServed() {
        failoversServed.increment();
    }

    public long messagesIn() {
        return messagesIn.sum();
    }

    public long messagesOut() {
        return messagesOut.sum();
    }

    public long bytesIn() {
        return bytesIn.sum();
    }

    public long bytesOut() {
        return bytesOut.sum();
    }

    public long failoversServed() {
        return failoversServed.sum();
    }
}
