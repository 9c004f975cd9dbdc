package io.tern.broker;

import io.tern.protocol.Deliver;
import io.tern.protocol.Request;
import io.tern.protocol.WireMessage;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A client session. {@code unacked} is filled by queue executors and drained by the connection's
 * executor, hence concurrent; the transaction lists are touched only by the connection's executor.
 */
final class ServerSession {
    final int id;
    final int ackMode;
    final ServerConnection connection;
    final Map<Long, Delivery> unacked = new ConcurrentHashMap<>();
    final List<ServerConsumer> consumers = new CopyOnWriteArrayList<>();
    final List<WireMessage> txSends = new ArrayList<>();
    final List<Delivery> txAcks = new ArrayList<>();
    private final AtomicLong deliveryIds = new AtomicLong();

    ServerSession(int id, int ackMode, ServerConnection connection) {
        this.id = id;
        this.ackMode = ackMode;
        this.connection = connection;
    }

    boolean transacted() {
        return ackMode == Request.TRANSACTED;
    }

    /**
     * Names this session for its whole life, across failovers: the client's connection key and the
     * session id. Null for a client that gave no key (it cannot recover deliveries elsewhere).
     */
    String owner() {
        String key = connection.connectionKey;
        return key == null ? null : key + "/" + id;
    }

    /** Called on the queue's executor: records the delivery; the caller writes the frame. */
    Deliver deliver(ServerConsumer consumer, QueueEntry entry) {
        long deliveryId = deliveryIds.incrementAndGet();
        unacked.put(deliveryId, new Delivery(deliveryId, consumer.queue, entry, consumer));
        return new Deliver(consumer.id, deliveryId, entry.deliveryCount + 1, entry.message);
    }

    /** Makes an entry taken over from another node a delivery of this session again (session recovery). */
    long recovered(ServerConsumer consumer, QueueEntry entry) {
        long deliveryId = deliveryIds.incrementAndGet();
        unacked.put(deliveryId, new Delivery(deliveryId, consumer.queue, entry, consumer));
        return deliveryId;
    }
}
