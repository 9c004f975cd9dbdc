package io.tern.cluster;

import org.jgroups.Address;
import org.jgroups.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Hands the binary messages of other members to their handlers, by the type letter after the
 * protocol version ({@link ClusterCodec}); drops (and logs once per sender and version) a message of
 * another version. A bundle of messages the transport received together is followed by one
 * {@link ClusterNode.PayloadHandler#batchEnd} per handler it reached.
 */
final class PayloadDispatch {
    private static final Logger LOG = LoggerFactory.getLogger(PayloadDispatch.class);

    private final Map<Byte, ClusterNode.PayloadHandler> handlers = new ConcurrentHashMap<>();
    private final AtomicLong foreignMessages = new AtomicLong();
    private final Set<String> warnedVersions = ConcurrentHashMap.newKeySet();
    /** The node id of a sender's address, or null if it is not known (yet). */
    private final Function<Address, String> senderId;

    PayloadDispatch(Function<Address, String> senderId) {
        this.senderId = senderId;
    }

    /** Each character of {@code types} is a message type {@code handler} takes. */
    void add(String types, ClusterNode.PayloadHandler handler) {
        for (char t : types.toCharArray()) {
            if (handlers.putIfAbsent((byte) t, handler) != null) {
                throw new IllegalStateException("message type " + t + " already has a handler");
            }
        }
    }

    /** One message on its own: its handler hears it, then the end of its "bundle". */
    void receive(Message msg) {
        ClusterNode.PayloadHandler h = deliver(msg);
        if (h != null) {
            h.batchEnd(senderId.apply(msg.getSrc()));
        }
    }

    /** The messages of one sender that the transport received together: each handler hears the bundle's end once. */
    void receive(org.jgroups.util.MessageBatch batch) {
        List<ClusterNode.PayloadHandler> touched = new ArrayList<>(2);
        try {
            for (Message msg : batch) {
                ClusterNode.PayloadHandler h = deliver(msg);
                if (h != null && !touched.contains(h)) {
                    touched.add(h);
                }
            }
        } finally {
            String from = senderId.apply(batch.sender());
            for (ClusterNode.PayloadHandler h : touched) {
                h.batchEnd(from);
            }
        }
    }

    /** Messages of another cluster protocol version dropped since this node started. */
    long foreignMessages() {
        return foreignMessages.get();
    }

    /** Hands {@code msg} to the handler of its type; returns that handler, or null if it went to none. */
    private ClusterNode.PayloadHandler deliver(Message msg) {
        if (msg.getArray() == null || msg.getLength() < 2) {
            return null;
        }
        String from = senderId.apply(msg.getSrc());
        int version = msg.getArray()[msg.getOffset()] & 0xff;
        if (version != ClusterCodec.VERSION) {
            long n = foreignMessages.incrementAndGet();
            if (from == null || warnedVersions.add(from + "/" + version)) {
                LOG.warn("Dropping a cluster message of protocol version {} from {} (this node speaks version {}; "
                        + "{} dropped so far): every member of a cluster must run the same Tern version", version,
                        from == null ? msg.getSrc() : from, ClusterCodec.VERSION, n);
            }
            return null;
        }
        ClusterNode.PayloadHandler h = handlers.get(msg.getArray()[msg.getOffset() + 1]);
        if (h == null || from == null) {
            return null;
        }
        h.received(from, msg.getArray(), msg.getOffset() + 1, msg.getLength() - 1);
        return h;
    }
}
