package io.tern.broker;

import io.tern.broker.store.MessageStore;
import io.tern.broker.store.StoreBatch;
import io.tern.protocol.DestinationName;
import io.tern.protocol.ErrorCode;
import io.tern.protocol.WireMessage;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * The destinations of one node: its queues by name (durable queues, temporary queues and the
 * queues of subscriptions), the subscriptions of each topic, the temporary topics and who owns
 * them, and where a published message goes ({@link #targets}). Durable queues are stored as they
 * are created; the store's definitions are registered again at start.
 */
final class Destinations {
    private final Broker broker;
    private final MessageStore store;
    private final Function<String, SerialExecutor> executors;
    private final Map<String, MessageQueue> queues = new ConcurrentHashMap<>();
    private final Map<String, List<MessageQueue>> topicSubscriptions = new ConcurrentHashMap<>();
    private final Map<String, Object> temporaryTopics = new ConcurrentHashMap<>();

    /** @param executors a serial executor for the queue of the name */
    Destinations(Broker broker, MessageStore store, Function<String, SerialExecutor> executors) {
        this.broker = broker;
        this.store = store;
        this.executors = executors;
    }

    /** The queue of the name; null if there is none. */
    MessageQueue get(String name) {
        return queues.get(name);
    }

    /** Every queue here now. */
    Collection<MessageQueue> all() {
        return queues.values();
    }

    /** Makes the queue of a definition read from the store (or taken over) live here. */
    MessageQueue register(QueueDefinition d) {
        SelectorFilter filter = null;
        if (d.selector() != null) {
            try {
                filter = SelectorFilter.parse(d.selector());
            } catch (SelectorFilter.InvalidSelectorException e) {
                throw new IllegalStateException("stored subscription " + d.name() + " has a bad selector", e);
            }
        }
        MessageQueue q = new MessageQueue(broker, d, executors.apply(d.name()), filter, null);
        queues.put(d.name(), q);
        if (d.topic() != null) {
            subscriptions(d.topic()).add(q);
        }
        return q;
    }

    private List<MessageQueue> subscriptions(String topic) {
        return topicSubscriptions.computeIfAbsent(topic, t -> new CopyOnWriteArrayList<>());
    }

    /** The named queue, created (and stored) on first use. */
    MessageQueue queue(String name) {
        MessageQueue q = queues.get(name);
        if (q != null) {
            return q;
        }
        if (name.startsWith("$") || name.indexOf('\0') >= 0) {
            throw new BrokerException(ErrorCode.INVALID_DESTINATION, "queue names must not start with '$' or hold NUL: " + name);
        }
        return createDurable(QueueDefinition.queue(name));
    }

    /** The durable queue of a definition, created and stored if it is not here yet. */
    synchronized MessageQueue createDurable(QueueDefinition d) {
        MessageQueue existing = queues.get(d.name());
        if (existing != null) {
            return existing;
        }
        store.commit(new StoreBatch().add(new StoreBatch.PutQueue(d.name(), d.encode()))).join();
        return register(d);
    }

    /** Queue lookup for browsing and admin: null if there is none. */
    MessageQueue existingQueue(DestinationName d) {
        return queues.get(d.name());
    }

    // ---- temporary destinations ------------------------------------------------------------

    /**
     * Creates a temporary destination owned by {@code owner}. A client that failed over from another
     * server asks for the name it had there, so that replies addressed to it still arrive.
     */
    DestinationName createTemporary(DestinationName.Kind kind, ServerConnection owner, String requestedName) {
        String name = requestedName != null ? requestedName : Broker.TEMP_PREFIX + owner.id + ":" + UUID.randomUUID();
        if (requestedName != null && (!requestedName.startsWith(Broker.TEMP_PREFIX) || requestedName.length() > 200
                || queues.containsKey(requestedName) || temporaryTopics.containsKey(requestedName))) {
            throw new BrokerException(ErrorCode.INVALID_DESTINATION, "cannot recreate temporary destination '"
                    + requestedName + "': it exists or is not a temporary name");
        }
        if (kind == DestinationName.Kind.TEMP_QUEUE) {
            QueueDefinition d = new QueueDefinition(name, QueueDefinition.Kind.TEMPORARY, null, null, false);
            queues.put(name, new MessageQueue(broker, d, executors.apply(name), null, owner));
        } else {
            temporaryTopics.put(name, owner);
        }
        return new DestinationName(kind, name);
    }

    void deleteTemporary(DestinationName d, ServerConnection requester, boolean force) {
        if (d.kind() == DestinationName.Kind.TEMP_QUEUE) {
            MessageQueue q = queues.get(d.name());
            if (q == null) {
                return;
            }
            if (q.owner != requester) {
                throw new BrokerException(ErrorCode.INVALID_DESTINATION, "temporary queue belongs to another connection");
            }
            boolean deleted = q.executor().call(() -> {
                if (q.consumerCount() > 0 && !force) {
                    return false;
                }
                queues.remove(d.name());
                q.delete();
                return true;
            }).join();
            if (!deleted) {
                throw new BrokerException(ErrorCode.ILLEGAL_STATE, "temporary queue has active consumers");
            }
        } else {
            List<MessageQueue> subs = topicSubscriptions.getOrDefault(d.name(), List.of());
            if (!subs.isEmpty() && !force) {
                throw new BrokerException(ErrorCode.ILLEGAL_STATE, "temporary topic has active subscribers");
            }
            temporaryTopics.remove(d.name());
        }
    }

    // ---- subscriptions ----------------------------------------------------------------------

    /** The queue a consumer of {@code destination} reads, creating subscriptions as the request says. */
    MessageQueue consumerQueue(ServerConnection c, DestinationName destination, SelectorFilter selector,
                               boolean noLocal, String subscriptionName, byte kind) {
        return switch (destination.kind()) {
            case QUEUE -> queue(destination.name());
            case TEMP_QUEUE -> {
                MessageQueue q = queues.get(destination.name());
                if (q == null || q.isDeleted()) {
                    throw new BrokerException(ErrorCode.INVALID_DESTINATION, "temporary queue does not exist: " + destination.name());
                }
                if (q.owner != c) {
                    throw new BrokerException(ErrorCode.INVALID_DESTINATION, "temporary queues are consumed only by their connection");
                }
                yield q;
            }
            case TOPIC, TEMP_TOPIC -> subscription(c, destination, selector, noLocal, subscriptionName, kind);
        };
    }

    private MessageQueue subscription(ServerConnection c, DestinationName topic, SelectorFilter selector, boolean noLocal,
                                      String name, byte kind) {
        if (topic.kind() == DestinationName.Kind.TEMP_TOPIC) {
            Object owner = temporaryTopics.get(topic.name());
            if (owner == null) {
                throw new BrokerException(ErrorCode.INVALID_DESTINATION, "temporary topic does not exist: " + topic.name());
            }
            if (owner != c) {
                throw new BrokerException(ErrorCode.INVALID_DESTINATION, "temporary topics are consumed only by their connection");
            }
        }
        String selectorText = selector == null ? null : selector.text();
        return switch (kind) {
            case io.tern.protocol.Request.SUB_NONE -> {
                String qname = Broker.SUBSCRIPTION_PREFIX + "nd:" + UUID.randomUUID();
                QueueDefinition d = new QueueDefinition(qname, QueueDefinition.Kind.SUBSCRIPTION, topic.name(), selectorText, noLocal);
                MessageQueue q = new MessageQueue(broker, d, executors.apply(qname), selector, c);
                queues.put(qname, q);
                subscriptions(topic.name()).add(q);
                yield q;
            }
            case io.tern.protocol.Request.SUB_SHARED -> sharedSubscription(c, topic, selector, name);
            case io.tern.protocol.Request.SUB_DURABLE, io.tern.protocol.Request.SUB_SHARED_DURABLE ->
                    durableSubscription(c, topic, selectorText, noLocal, name, kind == io.tern.protocol.Request.SUB_SHARED_DURABLE);
            default -> throw new BrokerException(ErrorCode.MALFORMED_FRAME, "unknown subscription kind " + kind);
        };
    }

    private synchronized MessageQueue sharedSubscription(ServerConnection c, DestinationName topic, SelectorFilter selector,
                                                         String name) {
        String qname = Broker.SUBSCRIPTION_PREFIX + "shared:" + nullToEmpty(c.clientId) + ":" + name;
        MessageQueue q = queues.get(qname);
        String selectorText = selector == null ? null : selector.text();
        if (q != null && !q.isDeleted()) {
            if (!q.definition().topic().equals(topic.name()) || !java.util.Objects.equals(q.definition().selector(), selectorText)) {
                throw new BrokerException(ErrorCode.INVALID_SUBSCRIPTION, "shared subscription '" + name
                        + "' exists with another topic or selector");
            }
            return q;
        }
        QueueDefinition d = new QueueDefinition(qname, QueueDefinition.Kind.SUBSCRIPTION, topic.name(), selectorText, false);
        q = new MessageQueue(broker, d, executors.apply(qname), selector, null);
        queues.put(qname, q);
        subscriptions(topic.name()).add(q);
        return q;
    }

    private synchronized MessageQueue durableSubscription(ServerConnection c, DestinationName topic, String selector,
                                                          boolean noLocal, String name, boolean shared) {
        if (!shared && c.clientId == null) {
            throw new BrokerException(ErrorCode.ILLEGAL_STATE, "a durable subscription needs a client id");
        }
        String qname = durableName(c, name);
        MessageQueue q = queues.get(qname);
        if (q != null) {
            QueueDefinition d = q.definition();
            int active = q.executor().call(q::consumerCount).join();
            if (active > 0 && (!shared || !d.topic().equals(topic.name()) || !java.util.Objects.equals(d.selector(), selector))) {
                throw new BrokerException(ErrorCode.ILLEGAL_STATE, "durable subscription '" + name + "' has an active consumer");
            }
            if (d.topic().equals(topic.name()) && java.util.Objects.equals(d.selector(), selector) && d.noLocal() == noLocal) {
                return q;
            }
            dropQueue(q);
        }
        QueueDefinition d = new QueueDefinition(qname, QueueDefinition.Kind.DURABLE_SUBSCRIPTION, topic.name(), selector,
                noLocal);
        return createDurable(d);
    }

    private static String durableName(ServerConnection c, String name) {
        return Broker.SUBSCRIPTION_PREFIX + "durable:" + nullToEmpty(c.clientId) + ":" + name;
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    synchronized void unsubscribe(ServerConnection c, String name) {
        MessageQueue q = queues.get(durableName(c, name));
        if (q == null) {
            throw new BrokerException(ErrorCode.INVALID_DESTINATION, "no durable subscription named '" + name + "'");
        }
        int active = q.executor().call(q::consumerCount).join();
        if (active > 0) {
            throw new BrokerException(ErrorCode.ILLEGAL_STATE, "durable subscription '" + name + "' has an active consumer");
        }
        dropQueue(q);
    }

    /** Removes a queue with its messages, from memory and from the store. */
    void dropQueue(MessageQueue q) {
        queues.remove(q.name(), q);
        if (q.definition().topic() != null) {
            subscriptions(q.definition().topic()).remove(q);
        }
        q.executor().submit(q::delete).join();
        if (q.isDurable()) {
            store.commit(new StoreBatch().add(new StoreBatch.DeleteQueue(q.name()))).join();
        }
    }

    /** A consumer left; a non-durable subscription without consumers goes away. */
    void consumerClosed(MessageQueue q) {
        if (q.definition().kind() == QueueDefinition.Kind.SUBSCRIPTION && q.consumerCount() == 0) {
            queues.remove(q.name(), q);
            subscriptions(q.definition().topic()).remove(q);
            q.delete();
        }
    }

    /** The queues a published message goes to: its queue, or the subscriptions of its topic that take it. */
    List<MessageQueue> targets(WireMessage m, ServerConnection origin) {
        DestinationName d = m.destination();
        return switch (d.kind()) {
            case QUEUE -> List.of(queue(d.name()));
            case TEMP_QUEUE -> {
                MessageQueue q = queues.get(d.name());
                if (q == null || q.isDeleted()) {
                    throw new BrokerException(ErrorCode.INVALID_DESTINATION, "temporary queue was deleted: " + d.name());
                }
                yield List.of(q);
            }
            case TOPIC, TEMP_TOPIC -> {
                if (d.kind() == DestinationName.Kind.TEMP_TOPIC && !temporaryTopics.containsKey(d.name())) {
                    throw new BrokerException(ErrorCode.INVALID_DESTINATION, "temporary topic was deleted: " + d.name());
                }
                List<MessageQueue> matching = new ArrayList<>();
                for (MessageQueue sub : topicSubscriptions.getOrDefault(d.name(), List.of())) {
                    if (sub.acceptsPublished(m, origin)) {
                        matching.add(sub);
                    }
                }
                yield matching;
            }
        };
    }
}
