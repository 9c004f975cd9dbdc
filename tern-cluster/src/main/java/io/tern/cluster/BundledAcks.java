package io.tern.cluster;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A backup's acknowledgements of the batches it kept at once, held per primary until the bundle
 * they came in is read ({@link #flush}) and then sent as one message: a plain 'A' for one batch, an
 * 'a' (first..last) for a run of them. Under load a bundle holds several batches: one
 * acknowledgement each was as many messages back as came in. Thread-safe.
 */
final class BundledAcks {
    /** Per primary, {first, last} of the batches kept since its bundle began. */
    private final Map<String, long[]> held = new HashMap<>(); // guarded by itself
    private final AtomicLong sent = new AtomicLong();

    /** Batch {@code seq} of {@code from} is kept: acknowledged at the next flush, with the batches before it. */
    void kept(ClusterNode node, String from, long seq) {
        long[] earlier;
        synchronized (held) {
            long[] range = held.get(from);
            if (range != null && seq == range[1] + 1) {
                range[1] = seq;
                return;
            }
            earlier = held.put(from, new long[] {seq, seq}); // not the next: the range so far goes now
        }
        if (earlier != null) {
            send(node, from, earlier);
        }
    }

    /** Sends what is held for {@code from}: at the end of its bundle, and before any other answer to it. */
    void flush(ClusterNode node, String from) {
        long[] range;
        synchronized (held) {
            range = held.remove(from);
        }
        if (range != null) {
            send(node, from, range);
        }
    }

    /** Acknowledgements sent since this node started, each of a batch or a run of them. */
    long sent() {
        return sent.get();
    }

    private void send(ClusterNode node, String from, long[] range) {
        sent.incrementAndGet();
        node.send(from, (range[0] == range[1] ? new ReplicationMessage.Ack(range[1])
                : new ReplicationMessage.AckRange(range[0], range[1])).encode());
    }
}
