package io.tern.broker;

import io.tern.protocol.Deliver;
import io.tern.protocol.ErrorCode;
import io.tern.protocol.Request;
import io.tern.protocol.WireMessage;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
    private static final Logger LOG = LoggerFactory.getLogger(ServerSession.class);

    /**
     * What a commit applies: the transaction's acknowledgements and sends, and the bytes of its sends
     * still counted by the memory limit (the committer releases them once the sends are queued).
     */
    record Transaction(List<Delivery> acks, List<WireMessage> sends, long sendBytes) {
    }

    final int id;
    final int ackMode;
    final ServerConnection connection;
    final Map<Long, Delivery> unacked = new ConcurrentHashMap<>();
    final List<ServerConsumer> consumers = new CopyOnWriteArrayList<>();
    /** The open transaction's sends, held here until its commit; counted by the memory limit meanwhile. */
    private final List<WireMessage> txSends = new ArrayList<>();
    private long txSendBytes;
    private final MemoryGovernor memory;
    final List<Delivery> txAcks = new ArrayList<>();
    /**
     * The open transaction acknowledged a delivery this session no longer has out (it went back to its
     * queue): committing would leave that message to be delivered again, so the commit rolls back.
     * Touched only by the connection's executor.
     */
    private boolean rollbackOnly;
    private final AtomicLong deliveryIds = new AtomicLong();

    ServerSession(int id, int ackMode, ServerConnection connection, MemoryGovernor memory) {
        this.id = id;
        this.ackMode = ackMode;
        this.connection = connection;
        this.memory = memory;
    }

    /**
     * The open transaction sends {@code m}: held until the commit, and counted by the memory limit
     * like a queued message (an open transaction of large messages filled the heap before). Throws
     * RESOURCE_EXHAUSTED if the send would pass the limit while the transaction holds more than half
     * of it: no consumer can make room for a transaction's own sends, so waiting would never end.
     */
    void sent(WireMessage m) {
        long bytes = HeapCost.of(m);
        mayHold(bytes);
        txSends.add(m);
        txSendBytes += bytes;
        memory.add(bytes);
    }

    /** Throws what {@link #sent} throws for a send of {@code bytes}: checked before it waits for room too. */
    void mayHold(long bytes) {
        if (memory.used() + bytes > memory.limitBytes() && txSendBytes + bytes > memory.limitBytes() / 2) {
            throw new BrokerException(ErrorCode.RESOURCE_EXHAUSTED, "the open transaction would hold "
                    + (txSendBytes + bytes) + " bytes of sends, more than half of the server's memory limit of "
                    + memory.limitBytes() + " bytes, which it would pass: commit the transaction (or roll it back) "
                    + "before it sends more");
        }
    }

    /** Drops the open transaction's sends and their count. */
    void dropSends() {
        txSends.clear();
        memory.released(txSendBytes);
        txSendBytes = 0;
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

    /**
     * The client acknowledges these deliveries (a transaction's receipts, applied at its commit): returns
     * those still out with the session. One that is not went back to its queue and may come again; the
     * open transaction then rolls back at its commit. Called on the connection's executor.
     */
    List<Delivery> acknowledged(long[] deliveryIds) {
        List<Delivery> acked = new ArrayList<>(deliveryIds.length);
        for (long deliveryId : deliveryIds) {
            Delivery d = unacked.remove(deliveryId);
            if (d != null) {
                acked.add(d);
            } else if (transacted()) {
                LOG.warn("Connection {}, session {}: the transaction received delivery {}, which is no longer out "
                        + "with the session; its commit will roll back", connection.id(), id, deliveryId);
                rollbackOnly = true;
            } else if (ackMode == Request.CLIENT_ACKNOWLEDGE) {
                LOG.warn("Connection {}, session {}: acknowledgement of delivery {}, which is no longer out with the "
                        + "session (it went back to its queue and may come again)", connection.id(), id, deliveryId);
            }
        }
        if (transacted()) {
            txAcks.addAll(acked);
        }
        return acked;
    }

    /**
     * Ends the open transaction for its commit and returns what to apply; throws TRANSACTION_ROLLED_BACK
     * (its receipts go back, counted) if it received a delivery that had gone back to its queue.
     */
    Transaction commitNow() {
        Transaction t = new Transaction(new ArrayList<>(txAcks), new ArrayList<>(txSends), txSendBytes);
        txAcks.clear();
        txSends.clear();
        txSendBytes = 0;
        if (rollbackOnly) {
            rollbackOnly = false;
            memory.released(t.sendBytes());
            giveBack(t.acks());
            throw new BrokerException(ErrorCode.TRANSACTION_ROLLED_BACK, "transaction rolled back: it received a "
                    + "message that went back to its queue meanwhile (given back by a move or an idle release)");
        }
        return t;
    }

    /** Set once a transaction of this session rolled back on its own (a failed commit): its receipts went back to their queues. */
    private volatile boolean gaveBackReceipts;

    boolean gaveBackReceipts() {
        return gaveBackReceipts;
    }

    /** A transaction's receipts go back to their queues, counted as a delivery: it rolled back. */
    void giveBack(List<Delivery> receipts) {
        gaveBackReceipts = true;
        receipts.forEach(d -> d.giveBack(true));
    }

    /**
     * Its client came back on another connection: every delivery out with the session (the open
     * transaction's too) is kept for the session's recovery there ({@link RecoveryHolds#keepFor}).
     */
    void keepForRecovery(RecoveryHolds holds) {
        Map<MessageQueue, List<QueueEntry>> byQueue = new java.util.LinkedHashMap<>();
        takeOutstanding(true).forEach(d -> byQueue.computeIfAbsent(d.queue(), q -> new ArrayList<>()).add(d.entry()));
        byQueue.forEach((q, entries) -> holds.keepFor(owner(), q, entries));
    }

    /**
     * Takes every delivery out with the session away from it: the open transaction's receipts (if
     * {@code withReceipts}) and the unacknowledged ones. Called on the connection's executor.
     */
    List<Delivery> takeOutstanding(boolean withReceipts) {
        List<Delivery> out = new ArrayList<>();
        if (withReceipts) {
            out.addAll(txAcks);
            txAcks.clear();
        }
        for (Long deliveryId : List.copyOf(unacked.keySet())) {
            Delivery d = unacked.remove(deliveryId);
            if (d != null) {
                out.add(d);
            }
        }
        return out;
    }

    /** Adds a delivery mark for every stored message out with this session (none without an owner). */
    void outstandingDeliveries(List<? super io.tern.broker.store.StoreBatch.MarkDelivered> into) {
        String owner = owner();
        if (owner == null) {
            return;
        }
        for (Delivery d : unacked.values()) {
            if (d.entry().durable) {
                into.add(new io.tern.broker.store.StoreBatch.MarkDelivered(d.queue().name(), d.entry().sequence, owner));
            }
        }
    }

    /** The transaction is rolled back: its sends are dropped (its receipts go back with the session's deliveries). */
    void rolledBack() {
        dropSends();
        rollbackOnly = false;
    }
}
