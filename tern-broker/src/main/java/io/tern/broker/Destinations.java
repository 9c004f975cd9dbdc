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
    /** Temporary topics by name, to their owning connection, or {@link #HOMED_ELSEWHERE}. */
    private final Map<String, Object> temporaryTopics = new ConcurrentHashMap<>();
    /** The owner of a temporary topic another node homes: publications here are accepted, subscriptions refused. */
    private static final Object HOMED_ELSEWHERE = new Object() {
        @Override
        public String toString() {
            return "homed on another node";
        }
    };

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

    /**
     * The queue a cluster link consumes: this node's part of a queue, of a subscription or of a
     * temporary queue, by name (the last two exist here only as parts of the other node's).
     */
    MessageQueue linkPart(String name) {
        MessageQueue q = get(name);
        if (q != null) {
            return q;
        }
        if (name.startsWith("$")) {
            throw new BrokerException(ErrorCode.INVALID_DESTINATION, "no part of " + name + " here");
        }
        return queue(name);
    }

    /** Queue lookup for browsing and admin: null if there is none of that name and kind. */
    MessageQueue existingQueue(DestinationName d) {
        MessageQueue q = queues.get(d.name());
        if (q == null) {
            return null;
        }
        QueueDefinition.Kind k = q.definition().kind();
        boolean sameKind = d.kind() == DestinationName.Kind.TEMP_QUEUE ? k == QueueDefinition.Kind.TEMPORARY
                : d.kind() != DestinationName.Kind.QUEUE || k == QueueDefinition.Kind.QUEUE;
        return sameKind ? q : null;
    }

    // ---- temporary destinations ------------------------------------------------------------

    /**
     * Creates a temporary destination owned by {@code owner}. A client that failed over from another
     * server asks for the name it had there, so that replies addressed to it still arrive.
     */
    DestinationName createTemporary(DestinationName.Kind kind, ServerConnection owner, String requestedName) {
        if (requestedName != null && !ownedBy(requestedName, owner)) {
            // The name travels in JMSReplyTo: whoever reads it must not claim the destination and its replies.
            throw new BrokerException(ErrorCode.INVALID_DESTINATION, "cannot recreate temporary destination '"
                    + requestedName + "': it was made for another client connection");
        }
        String name = requestedName != null ? requestedName
                : Broker.TEMP_PREFIX + owner.id + ":" + ownerTag(owner) + ":" + UUID.randomUUID();
        MessageQueue part = requestedName == null ? null : queues.get(requestedName);
        if (kind == DestinationName.Kind.TEMP_QUEUE && part != null
                && part.definition().kind() == QueueDefinition.Kind.TEMPORARY) {
            // On the queue's executor, as its deletion: a queue is either deleted or taken, never deleted once taken.
            int taken = part.executor().call(() -> {
                if (part.isDeleted()) {
                    return 0;
                }
                if (part.owner == owner) {
                    return 1; // handed over when the client's earlier connection closed
                }
                if (part.owner == null || sameClient(part.owner, owner)) {
                    // Its node's part here, or the queue of this client's earlier connection to this node, which
                    // is closing: the replies that came meanwhile stay for the client.
                    part.owner = owner;
                    return 2;
                }
                return 0;
            }).join();
            if (taken == 2) {
                broker.moves().homed(part.definition());
            }
            if (taken > 0) {
                return new DestinationName(kind, name);
            }
        }
        if (kind == DestinationName.Kind.TEMP_TOPIC && requestedName != null) {
            Object holder = temporaryTopics.get(requestedName);
            if (holder == owner) {
                return new DestinationName(kind, name);
            }
            if ((holder == HOMED_ELSEWHERE || sameClient(holder, owner)) && temporaryTopics.replace(requestedName, holder, owner)) {
                broker.moves().homed(temporaryTopic(name)); // the client came here from the node that homed it
                return new DestinationName(kind, name);
            }
        }
        if (requestedName != null && (!requestedName.startsWith(Broker.TEMP_PREFIX) || requestedName.length() > 200
                || queues.containsKey(requestedName) || temporaryTopics.containsKey(requestedName))) {
            throw new BrokerException(ErrorCode.INVALID_DESTINATION, "cannot recreate temporary destination '"
                    + requestedName + "': it exists or is not a temporary name");
        }
        if (kind == DestinationName.Kind.TEMP_QUEUE) {
            QueueDefinition d = new QueueDefinition(name, QueueDefinition.Kind.TEMPORARY, null, null, false);
            queues.put(name, new MessageQueue(broker, d, executors.apply(name), null, owner));
            broker.moves().homed(d); // replies to it may be sent on any node
        } else {
            temporaryTopics.put(name, owner);
            broker.moves().homed(temporaryTopic(name)); // replies to it may be published on any node
        }
        return new DestinationName(kind, name);
    }

    /**
     * A temporary name's mark of the client connection it was made for: a hash of the connection key the
     * client keeps across failovers (which only it and the servers know), or "-" without one.
     */
    private static String ownerTag(ServerConnection c) {
        String key = c.connectionKey;
        if (key == null) {
            return "-";
        }
        try {
            byte[] h = java.security.MessageDigest.getInstance("SHA-256").digest(key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(h, 0, 12);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every JVM", e);
        }
    }

    /** Whether {@code holder} is an earlier connection of the client of {@code c}: both have its connection key. */
    private static boolean sameClient(Object holder, ServerConnection c) {
        return holder instanceof ServerConnection earlier && earlier != c && c.connectionKey != null
                && c.connectionKey.equals(earlier.connectionKey);
    }

    /**
     * Gives the temporary destination {@code d} of the closing connection {@code from} to {@code heir}, a
     * later connection of the same client to this node: a reply that comes while the client reconnects
     * stays for it. False if {@code from} does not hold it (gone, or taken by the heir already).
     */
    boolean handTemporaryOver(DestinationName d, ServerConnection from, ServerConnection heir) {
        if (!sameClient(from, heir)) {
            return false;
        }
        if (d.kind() == DestinationName.Kind.TEMP_QUEUE) {
            MessageQueue q = queues.get(d.name());
            if (q == null || q.isDeleted() || q.owner != from) {
                return false;
            }
            q.owner = heir;
            return true;
        }
        return temporaryTopics.replace(d.name(), from, heir);
    }

    /** Whether the temporary name {@code name} was made for the client connection of {@code c} (same key). */
    private static boolean ownedBy(String name, ServerConnection c) {
        if (!name.startsWith(Broker.TEMP_PREFIX)) {
            return false;
        }
        String[] parts = name.substring(Broker.TEMP_PREFIX.length()).split(":");
        String tag = ownerTag(c);
        return parts.length == 3 && !tag.equals("-") && parts[1].equals(tag);
    }

    private static QueueDefinition temporaryTopic(String name) {
        return new QueueDefinition(name, QueueDefinition.Kind.TEMPORARY_TOPIC, null, null, false);
    }

    void deleteTemporary(DestinationName d, ServerConnection requester, boolean force) {
        if (d.kind() == DestinationName.Kind.TEMP_QUEUE) {
            MessageQueue q = queues.get(d.name());
            if (q == null) {
                return;
            }
            if (q.definition().kind() != QueueDefinition.Kind.TEMPORARY) {
                throw new BrokerException(ErrorCode.INVALID_DESTINATION, "not a temporary queue: " + d.name());
            }
            // The owner is checked on the queue's executor, where a returning client's connection takes the queue over.
            String refused = q.executor().call(() -> {
                if (q.owner != requester) {
                    return "temporary queue belongs to another connection";
                }
                if (q.localConsumerCount() > 0 && !force) {
                    return "temporary queue has active consumers";
                }
                queues.remove(d.name());
                q.delete();
                return null;
            }).join();
            if (refused != null) {
                throw new BrokerException(refused.contains("another") ? ErrorCode.INVALID_DESTINATION : ErrorCode.ILLEGAL_STATE,
                        refused);
            }
            broker.moves().unhomed(d.name(), true);
        } else {
            Object owner = temporaryTopics.get(d.name());
            if (owner == null) {
                return;
            }
            if (owner != requester) {
                throw new BrokerException(ErrorCode.INVALID_DESTINATION, "temporary topic belongs to another connection");
            }
            boolean subscribed = topicSubscriptions.getOrDefault(d.name(), List.of()).stream()
                    .anyMatch(q -> q.executor().call(q::localConsumerCount).join() > 0);
            if (subscribed && !force) {
                throw new BrokerException(ErrorCode.ILLEGAL_STATE, "temporary topic has active subscribers");
            }
            temporaryTopics.remove(d.name());
            broker.moves().unhomed(d.name(), true);
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
            if (kind == io.tern.protocol.Request.SUB_DURABLE || kind == io.tern.protocol.Request.SUB_SHARED_DURABLE) {
                // A durable subscription outlives its connection; a temporary topic does not (Session javadoc).
                throw new BrokerException(ErrorCode.INVALID_DESTINATION, "a durable subscription needs a topic that is "
                        + "not temporary: " + topic.name());
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
                broker.moves().homed(d); // publications on every node reach it
                yield q;
            }
            // Outside this object's lock: the other nodes create their parts meanwhile (and may wait for this lock).
            case io.tern.protocol.Request.SUB_SHARED -> homed(sharedSubscription(c, topic, selector, name));
            case io.tern.protocol.Request.SUB_DURABLE, io.tern.protocol.Request.SUB_SHARED_DURABLE -> homed(
                    durableSubscription(c, topic, selectorText, noLocal, name, kind == io.tern.protocol.Request.SUB_SHARED_DURABLE));
            default -> throw new BrokerException(ErrorCode.MALFORMED_FRAME, "unknown subscription kind " + kind);
        };
    }

    private MessageQueue homed(MessageQueue q) {
        broker.moves().homed(q.definition());
        return q;
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
        String qname = durableName(c, name, shared);
        if (queues.containsKey(durableName(c, name, !shared))) {
            // One name space for both kinds, per client id (Session javadoc): a JMSException, not a takeover.
            throw new BrokerException(ErrorCode.INVALID_SUBSCRIPTION, "a" + (shared ? "n unshared" : " shared")
                    + " durable subscription named '" + name + "' exists for this client id");
        }
        MessageQueue q = queues.get(qname);
        if (q != null) {
            QueueDefinition d = q.definition();
            int active = q.executor().call(q::localConsumerCount).join();
            if (active > 0 && (!shared || !d.topic().equals(topic.name()) || !java.util.Objects.equals(d.selector(), selector))) {
                throw new BrokerException(ErrorCode.ILLEGAL_STATE, "durable subscription '" + name + "' has an active consumer");
            }
            if (d.topic().equals(topic.name()) && java.util.Objects.equals(d.selector(), selector) && d.noLocal() == noLocal) {
                return q;
            }
            // Changing a subscription deletes the old one with its messages: as unsubscribing does, that needs delete.
            c.authorize(io.tern.broker.security.Permission.DELETE, new DestinationName(DestinationName.Kind.TOPIC, d.topic()));
            dropQueue(q);
            broker.moves().unhomed(qname, true);
        }
        QueueDefinition d = new QueueDefinition(qname, QueueDefinition.Kind.DURABLE_SUBSCRIPTION, topic.name(), selector,
                noLocal);
        return createDurable(d);
    }

    private static String durableName(ServerConnection c, String name, boolean shared) {
        return durablePrefix(c.clientId, shared) + name;
    }

    /** The names of the durable subscriptions of client id {@code clientId} (null: none) begin so. */
    static String durablePrefix(String clientId, boolean shared) {
        return Broker.SUBSCRIPTION_PREFIX + (shared ? "shared-durable:" : "durable:") + nullToEmpty(clientId) + ":";
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    /** Deletes the durable subscription {@code name} of {@code c}'s client once {@code mayDelete} accepts its topic. */
    synchronized void unsubscribe(ServerConnection c, String name, java.util.function.Consumer<String> mayDelete) {
        MessageQueue q = queues.get(durableName(c, name, false));
        if (q == null) {
            q = queues.get(durableName(c, name, true));
        }
        if (q == null) {
            throw new BrokerException(ErrorCode.INVALID_DESTINATION, "no durable subscription named '" + name + "'");
        }
        mayDelete.accept(q.definition().topic());
        int active = q.executor().call(q::localConsumerCount).join();
        if (active > 0) {
            throw new BrokerException(ErrorCode.ILLEGAL_STATE, "durable subscription '" + name + "' has an active consumer");
        }
        dropQueue(q);
        broker.moves().unhomed(q.name(), true);
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

    /**
     * A consumer left (called on the queue's executor); a non-durable subscription without consumers
     * here goes away, unless another node has consumers of it (a shared one): then it stays as that
     * node's part here.
     */
    void consumerClosed(MessageQueue q) {
        if (q.definition().kind() == QueueDefinition.Kind.SUBSCRIPTION && q.localConsumerCount() == 0
                && !broker.moves().homedElsewhere(q.name())) {
            queues.remove(q.name(), q);
            subscriptions(q.definition().topic()).remove(q);
            q.delete();
            broker.moves().unhomed(q.name(), false);
        }
    }

    // ---- parts of other nodes' destinations ----------------------------------------------------

    /**
     * Another node has a destination whose publications or sends this node must keep for it (a
     * subscription, a temporary queue): its part here, with no owner, created if missing (a durable
     * subscription is stored).
     */
    synchronized void mirror(QueueDefinition d) {
        if (d.kind() == QueueDefinition.Kind.TEMPORARY_TOPIC) {
            temporaryTopics.putIfAbsent(d.name(), HOMED_ELSEWHERE);
            return;
        }
        if (queues.containsKey(d.name())) {
            return;
        }
        if (d.kind() == QueueDefinition.Kind.DURABLE_SUBSCRIPTION) {
            createDurable(d);
        } else {
            register(d);
        }
    }

    /**
     * The other node no longer has the destination: its part here goes, unless this node has it for
     * itself (an owner or consumers here) and {@code everywhere} is false (a temporary queue deleted,
     * a durable subscription unsubscribed: gone everywhere).
     */
    void unmirror(String name, boolean everywhere) {
        if (temporaryTopics.remove(name, HOMED_ELSEWHERE)) {
            return;
        }
        MessageQueue q = queues.get(name);
        if (q == null || q.definition().kind() == QueueDefinition.Kind.QUEUE) {
            return;
        }
        if (!everywhere) {
            boolean ownHere = q.owner != null || q.executor().call(q::localConsumerCount).join() > 0;
            if (ownHere || q.definition().kind() == QueueDefinition.Kind.DURABLE_SUBSCRIPTION) {
                return;
            }
        }
        dropQueue(q);
    }

    /** The definitions of the destinations other nodes need a part of: those homed here, and every durable subscription. */
    List<QueueDefinition> shared() {
        List<QueueDefinition> all = new ArrayList<>();
        for (MessageQueue q : queues.values()) {
            QueueDefinition.Kind k = q.definition().kind();
            if (k == QueueDefinition.Kind.DURABLE_SUBSCRIPTION || (k != QueueDefinition.Kind.QUEUE && q.owner != null)
                    || (k == QueueDefinition.Kind.SUBSCRIPTION && q.executor().call(q::localConsumerCount).join() > 0)) {
                all.add(q.definition());
            }
        }
        temporaryTopics.forEach((name, owner) -> {
            if (owner != HOMED_ELSEWHERE) {
                all.add(temporaryTopic(name));
            }
        });
        return all;
    }

    /** The queues a published message goes to: its queue, or the subscriptions of its topic that take it. */
    List<MessageQueue> targets(WireMessage m, ServerConnection origin) {
        DestinationName d = m.destination();
        return switch (d.kind()) {
            case QUEUE -> List.of(queue(d.name()));
            case TEMP_QUEUE -> {
                MessageQueue q = queues.get(d.name());
                if (q == null || q.isDeleted() || q.definition().kind() != QueueDefinition.Kind.TEMPORARY) {
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

    /** Who owns message groups across the cluster; null on a single node or without clustered queues. */
    private volatile GroupDirectory groups;

    void setGroupDirectory(GroupDirectory groups) {
        this.groups = groups;
    }

    GroupDirectory groups() {
        return groups;
    }

    /**
     * The directory learnt that {@code group} of {@code queue} was claimed or released (by this node or
     * another, or its owner left): the queue's part here routes its messages again.
     */
    void groupChanged(String queue, String group, boolean released) {
        MessageQueue q = get(queue);
        if (q != null) {
            q.executor().execute(() -> q.groupChanged(group, released));
        }
    }
}
