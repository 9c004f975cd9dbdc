package io.tern.broker;

import io.tern.broker.store.MessageStore;
import io.tern.broker.store.StoreBatch;
import io.tern.protocol.WireMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a message goes that cannot be delivered: after too many delivery attempts to the
 * dead-letter queue, once expired to the expiry queue (and dropped there), each as a new message
 * stored in the same batch that removes the old one, with {@code JMS_TERN_ORIGINAL_QUEUE} set.
 * Called on the executor of the queue the entry came from.
 */
final class DeadLetters {
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetters.class);

    private final Broker broker;
    private final MessageStore store;
    private final Destinations destinations;
    private final MemoryGovernor memory;

    DeadLetters(Broker broker, MessageStore store, Destinations destinations, MemoryGovernor memory) {
        this.broker = broker;
        this.store = store;
        this.destinations = destinations;
        this.memory = memory;
    }

    /** Called on {@code from}'s executor with an entry it no longer holds. */
    void deadLetter(MessageQueue from, QueueEntry entry) {
        LOG.info("Message {} reached {} delivery attempts on {}; moving it to {}", entry.message.messageId(),
                entry.deliveryCount, from.name(), from.settings().deadLetterQueue());
        move(from, entry, from.settings().deadLetterQueue(), entry.message.expiration());
    }

    /** Called on {@code from}'s executor with an expired entry it no longer holds. */
    void expire(MessageQueue from, QueueEntry entry) {
        String expiryQueue = from.settings().expiryQueue();
        if (from.name().equals(expiryQueue)) {
            drop(from, entry);
            return;
        }
        move(from, entry, expiryQueue, 0);
    }

    /** Drops an entry a queue no longer holds, from memory and from the store. */
    void drop(MessageQueue from, QueueEntry entry) {
        broker.released(entry);
        if (entry.durable) {
            store.commit(new StoreBatch().add(new StoreBatch.RemoveMessage(from.name(), entry.sequence)));
        }
    }

    private void move(MessageQueue from, QueueEntry entry, String targetName, long expiration) {
        MessageQueue target = destinations.queue(targetName);
        WireMessage m = entry.message;
        Map<String, Object> props = new LinkedHashMap<>(m.properties());
        props.put("JMS_TERN_ORIGINAL_QUEUE", from.name());
        WireMessage moved = new WireMessage(m.messageId(), m.bodyType(), m.destination(), m.replyTo(), m.correlationId(),
                m.type(), m.persistent(), m.priority(), m.timestamp(), expiration, 0, props, m.body());
        boolean durable = moved.persistent() && store.isDurable();
        QueueEntry copy = new QueueEntry(broker.nextSequence(), moved, durable, null, 0);
        StoreBatch batch = new StoreBatch();
        if (durable) {
            batch.add(new StoreBatch.AddMessage(targetName, copy.sequence, PublishPipeline.encode(moved)));
        }
        if (entry.durable) {
            batch.add(new StoreBatch.RemoveMessage(from.name(), entry.sequence));
        }
        memory.add(copy.size);
        broker.released(entry);
        store.commit(batch).whenComplete((ok, failure) -> {
            if (failure != null) {
                LOG.error("Could not move message {} to {}", m.messageId(), targetName, failure);
                broker.released(copy);
                return;
            }
            target.executor().execute(() -> target.enqueue(copy));
        });
    }
}
