package io.tern.broker;

import io.tern.protocol.Response;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;

/**
 * A queue (or a subscription's queue): ready messages by priority then arrival, messages waiting for
 * their delivery time, and the consumers it feeds. Every method except {@link #executor()} and the
 * constructor must run on the queue's executor.
 *
 * <p>Message groups ({@code JMSXGroupID}): one consumer each, cluster-wide ({@link QueueGroups}).
 *
 * <p>Paging: past the node's paging line a stored message placed here stays in the store only
 * ({@link QueuePages}), and so does every later stored one while any is paged, so that they come back
 * in order, a window at a time, as consumers take what is ready ({@link #pageIn}). Priorities order
 * what is in memory. Messages that are not stored are never paged (the memory limit holds them back).
 */
final class MessageQueue {
    static final String GROUP_ID = "JMSXGroupID";
    static final String GROUP_SEQ = "JMSXGroupSeq";
    private final Broker broker;
    private final QueueDefinition definition;
    /** Its dead-letter and expiry settings, fixed for the node's life. */
    private final QueueSettings settings;
    private final SerialExecutor executor;
    private final SelectorFilter subscriptionFilter;
    /** Ready entries, one ordered map per priority (index 9 is served first). */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private final TreeMap<Long, QueueEntry>[] ready = new TreeMap[10];
    private final PriorityQueue<QueueEntry> scheduled =
            new PriorityQueue<>(Comparator.comparingLong((QueueEntry e) -> e.message.deliveryTime())
                    .thenComparingLong(e -> e.sequence));
    private final List<ServerConsumer> consumers = new ArrayList<>();
    /** Which consumer (here, or another node's link) takes each message group's messages. */
    private final QueueGroups groups;
    private int readyCount;
    /** The bytes of the ready entries (their heap cost): the window {@link #pageIn} fills. */
    private long readyBytes;
    /** Stored messages of this queue kept on disk only (see the class comment). */
    private final QueuePages paged;
    /** Paged messages are read back while fewer than this many are ready, and fewer than PAGE_IN_BYTES. */
    static final int PAGE_IN_BELOW = 500;
    static final long PAGE_IN_BYTES = 4L * 1024 * 1024;
    private int inFlightCount;
    private int nextConsumer;
    private boolean deleted;
    /** This node's consumers could take more than is ready here (see {@link #updateDemand}). */
    private boolean hungry;
    private List<String> demandSelectors = List.of();
    /** Set by {@link #purgeAll}: what to do with an entry in flight at the purge that comes back. */
    private java.util.function.Consumer<QueueEntry> dropOnReturn;
    private long dropUpTo;
    /** Writes what {@link #dispatch} hands out, in order. */
    private final DeliveryWriter writer;
    /**
     * Owner of a temporary queue or non-durable subscription; null otherwise, and for this node's
     * part of another node's (a client that fails over here claims the part of its temporary queue).
     */
    volatile Object owner;

    MessageQueue(Broker broker, QueueDefinition definition, SerialExecutor executor, SelectorFilter filter,
                 Object owner) {
        this.broker = broker;
        this.definition = definition;
        this.settings = broker.config().queueSettings(definition);
        this.executor = executor;
        this.subscriptionFilter = filter;
        this.owner = owner;
        this.paged = new QueuePages(broker, definition.name());
        this.writer = new DeliveryWriter(broker, definition.name(), e -> executor.execute(() -> returned(e, false)));
        this.groups = new QueueGroups(broker, definition.name(), executor, this::dispatch, () -> localConsumerCount() == 0);
        for (int i = 0; i < ready.length; i++) {
            ready[i] = new TreeMap<>();
        }
    }

    QueueSettings settings() {
        return settings;
    }

    QueueDefinition definition() {
        return definition;
    }

    String name() {
        return definition.name();
    }

    SerialExecutor executor() {
        return executor;
    }

    boolean isDurable() {
        return definition.kind().durable;
    }

    /** For a subscription: whether a message published to its topic belongs in it. */
    boolean acceptsPublished(io.tern.protocol.WireMessage m, Object origin) {
        if (definition.noLocal() && origin != null && (origin == owner || publishedByOwnClient(origin))) {
            return false;
        }
        return subscriptionFilter == null || subscriptionFilter.matches(m, 0);
    }

    /**
     * A durable subscription with noLocal takes nothing published by a connection of its own client
     * id (Session javadoc): such a publication is never added, rather than kept and skipped.
     */
    private boolean publishedByOwnClient(Object origin) {
        return definition.kind() == QueueDefinition.Kind.DURABLE_SUBSCRIPTION && origin instanceof ServerConnection c
                && c.clientId != null && name().startsWith(Destinations.durablePrefix(c.clientId, false));
    }

    boolean isDeleted() {
        return deleted;
    }

    int consumerCount() {
        return consumers.size();
    }

    /** Consumers of this node's clients (not of other nodes' cluster links). */
    int localConsumerCount() {
        return (int) consumers.stream().filter(c -> !c.remote).count();
    }

    int messageCount() {
        return readyCount + inFlightCount + scheduled.size() + paged.size();
    }

    /** Messages of this queue kept in the store only, not in memory. */
    int pagedCount() {
        return paged.size();
    }

    /** This queue for the console; called on its executor. */
    NodeView.QueueView view() {
        return new NodeView.QueueView(name(), definition.kind().name().toLowerCase(java.util.Locale.ROOT),
                definition.topic(), messageCount(), inFlightCount, paged.size(), (int) consumers.stream().filter(c -> !c.remote).count(),
                movedIn.get(), movedOut, messagesIn, messagesOut);
    }

    /** Messages placed here, and acknowledged out of here, since this queue was made on this node; on the executor. */
    private long messagesIn;
    private long messagesOut;

    /** Messages other nodes moved here for this node's consumers (counted by the store, any thread). */
    final java.util.concurrent.atomic.AtomicLong movedIn = new java.util.concurrent.atomic.AtomicLong();
    /** Deliveries to other nodes' links; on the executor. */
    private long movedOut;

    void enqueue(QueueEntry entry) {
        place(entry);
        dispatch();
    }

    /**
     * Enqueues entries stored for this queue; returns how many it dropped instead because a discard
     * purged the queue after they were made ({@link #purgeAll}): a commit that completed while the node
     * learned it was taken over stored them after the purge had passed, and they are the taker's now.
     */
    int enqueueAll(List<QueueEntry> entries) {
        int dropped = 0;
        for (QueueEntry e : entries) {
            if (dropOnReturn != null && e.sequence <= dropUpTo) {
                dropOnReturn.accept(e);
                dropped++;
            } else {
                place(e);
            }
        }
        dispatch();
        return dropped;
    }

    private void place(QueueEntry entry) {
        if (deleted) {
            broker.released(entry);
            return;
        }
        messagesIn++;
        broker.traffic().placed(entry.size);
        if (entry.durable && (!paged.isEmpty() || broker.overPageLine())) {
            paged.page(entry);
            return;
        }
        placeInMemory(entry);
    }

    /** Stored messages a takeover adopted while this node's memory was at its paging line: paged, delivered in turn. */
    void pagedAdopted(PagedSequences adopted) {
        paged.addRecovered(adopted);
        dispatch();
    }

    /** Stored messages of this queue a restart left on disk (its memory was full): they stay paged. */
    void pagedAtStart(PagedSequences recovered) {
        paged.addRecovered(recovered);
    }

    private void placeInMemory(QueueEntry entry) {
        // A message sent without a delivery delay is ready at once, whatever this node's clock says of the
        // sender's (a node whose clock is behind would otherwise hold it back by the difference).
        boolean delayed = entry.message.deliveryTime() > entry.message.timestamp();
        long delayMs = entry.message.deliveryTime() - broker.nowMs();
        if (delayed && delayMs > 0) {
            scheduled.add(entry);
            broker.schedule(this, delayMs);
        } else {
            addReady(entry);
        }
    }

    /** Moves messages whose delivery time has come to the ready set. */
    void promoteScheduled() {
        long now = broker.nowMs();
        while (!scheduled.isEmpty() && scheduled.peek().message.deliveryTime() <= now) {
            addReady(scheduled.poll());
        }
        if (!scheduled.isEmpty()) {
            broker.schedule(this, Math.max(1, scheduled.peek().message.deliveryTime() - now));
        }
        dispatch();
    }

    private void addReady(QueueEntry entry) {
        ready[entry.message.priority()].put(entry.sequence, entry);
        readyCount++;
        readyBytes += entry.size;
    }

    private void removeReady(QueueEntry entry) {
        ready[entry.message.priority()].remove(entry.sequence);
        readyCount--;
        readyBytes -= entry.size;
    }

    /**
     * Reads paged messages back into memory, in order, while consumers are here and the ready window
     * is not full. Past the node's paging line only a queue with nothing ready reads, and one chunk
     * only, so that every queue with consumers makes progress and together they stay near the line.
     * Returns true if it read any.
     */
    private boolean pageIn() {
        if (paged.isEmpty() || consumers.isEmpty() || deleted || windowFull()) {
            return false;
        }
        boolean pastLine = broker.overPageLine();
        if (pastLine && readyCount > 0) {
            return false;
        }
        boolean read = false;
        do {
            List<QueueEntry> chunk = paged.readChunk();
            if (chunk == null) {
                return read;
            }
            chunk.forEach(this::placeInMemory);
            read = true;
        } while (!pastLine && !paged.isEmpty() && !windowFull());
        return read;
    }

    /** The ready window is full (messages waiting for their delivery time do not count: they are not ready). */
    private boolean windowFull() {
        return readyCount >= PAGE_IN_BELOW || readyBytes >= PAGE_IN_BYTES;
    }

    void addConsumer(ServerConsumer consumer) {
        consumers.add(consumer);
        dispatch();
    }

    void removeConsumer(ServerConsumer consumer) {
        consumer.closed = true;
        consumers.remove(consumer);
        groups.consumerClosed(consumer);
        updateDemand();
    }

    /** The cluster's directory says {@code group} was claimed or released: route its messages again. */
    void groupChanged(String group, boolean released) {
        groups.changed(group, released);
        dispatch();
    }

    /** See {@link DeliveryWriter#writesSoFar}; call on this queue's executor. */
    java.util.concurrent.CompletableFuture<Void> writesSoFar() {
        return writer.writesSoFar();
    }

    void grant(ServerConsumer consumer, int messages, int bytes) {
        consumer.grant(messages, bytes);
        dispatch();
    }

    /** The consumer gave back what it buffered: it takes nothing until it grants credit again. */
    void creditWithdrawn(ServerConsumer consumer) {
        consumer.withdraw();
        updateDemand();
    }

    /**
     * Gives ready messages to consumers with credit, round robin, then flushes their connections.
     * Consumers of cluster links (other nodes pulling for theirs, only while those are hungry) take
     * their turn with this node's own, so that consumers of equal speed on different nodes get equal
     * shares; but never a message that moved here already while this node has a consumer of its own
     * (so no message goes back and forth between nodes).
     */
    void dispatch() {
        pageIn();
        if (readyCount == 0 || consumers.isEmpty() || broker.deliveriesHeld()) {
            updateDemand();
            return;
        }
        List<DeliveryWriter.Outgoing> out = new ArrayList<>();
        boolean anyLocal = consumers.stream().anyMatch(c -> !c.remote);
        int before;
        do {
            before = out.size();
            dispatchTo(out, anyLocal);
            // The window emptied into consumers that can take more: read the next one now, not at the next ack.
        } while (out.size() > before && pageIn());
        writer.write(out);
        updateDemand();
    }

    private void dispatchTo(List<DeliveryWriter.Outgoing> out, boolean anyLocal) {
        boolean progressed = true;
        while (progressed && readyCount > 0) {
            progressed = false;
            int n = consumers.size();
            for (int i = 0; i < n && readyCount > 0; i++) {
                ServerConsumer c = consumers.get((nextConsumer + i) % n);
                if (!c.canTake()) {
                    continue;
                }
                QueueEntry entry = nextFor(c, c.remote && anyLocal);
                if (entry != null) {
                    c.took(entry);
                    if (entry.closesGroup) {
                        groups.closed(entry.group, c);
                    } else if (entry.group != null) {
                        groups.taken(entry.group, c);
                    }
                    removeReady(entry);
                    inFlightCount++;
                    if (c.remote) {
                        movedOut++;
                    }
                    out.add(new DeliveryWriter.Outgoing(c.session, entry, c.session.deliver(c, entry)));
                    if (MoveTrace.on()) {
                        MoveTrace.event("delivered seq=" + entry.sequence + " to " + c.session.owner()
                                + (c.remote ? " (link)" : ""), name(), entry.message);
                    }
                    progressed = true;
                }
            }
            nextConsumer = n == 0 ? 0 : (nextConsumer + 1) % n;
        }
    }

    /**
     * Tells the broker when this node's part of the queue starts or stops needing messages from
     * other nodes: its own consumers could take more than it has ready. Cluster links pull then.
     */
    private void updateDemand() {
        int locals = 0;
        long credit = 0;
        boolean all = false;
        java.util.LinkedHashSet<String> selectors = new java.util.LinkedHashSet<>();
        for (ServerConsumer c : consumers) {
            if (c.remote) {
                continue;
            }
            locals++;
            if (c.canTake()) { // one that can take nothing now (its window is full) pulls nothing from other nodes
                credit += c.credit;
            }
            if (c.filter == null) {
                all = true;
            } else {
                selectors.add(c.filter.text());
            }
        }
        boolean nowHungry = locals > 0 && !deleted && credit > readyCount + paged.size();
        List<String> wanted = locals == 0 ? List.of() : all ? java.util.Collections.singletonList(null) : List.copyOf(selectors);
        if (nowHungry != hungry || !wanted.equals(demandSelectors)) {
            hungry = nowHungry;
            demandSelectors = wanted;
            broker.demandChanged(this, wanted, nowHungry);
        }
    }

    /** An entry taken over from another node that a client session had: in flight until it recovers. */
    void holdForRecovery(QueueEntry entry) {
        inFlightCount++;
    }

    private QueueEntry nextFor(ServerConsumer consumer, boolean notMovedBefore) {
        long now = broker.nowMs();
        for (int p = 9; p >= 0; p--) {
            if (ready[p].isEmpty()) {
                continue;
            }
            var it = ready[p].values().iterator();
            while (it.hasNext()) {
                QueueEntry e = it.next();
                if (e.message.isExpired(now)) {
                    it.remove();
                    readyCount--;
                    readyBytes -= e.size;
                    broker.deadLetters().expire(this, e);
                    continue;
                }
                if (!consumer.accepts(e)) {
                    continue; // before the group's verdict: a consumer whose selector refuses the message claims no group
                }
                QueueGroups.Verdict group = e.group == null ? QueueGroups.Verdict.TAKE
                        : groups.verdict(e.group, consumer, notMovedBefore);
                // Not another consumer's group (or one this node must claim first); a message routed to its group's
                // owner goes there even if it moved before.
                if (group != QueueGroups.Verdict.NOT_THIS
                        && !(notMovedBefore && e.message.moves() > 0 && group != QueueGroups.Verdict.ROUTED)) {
                    return e;
                }
            }
        }
        return null;
    }

    /**
     * Removes every ready and scheduled entry and returns them; entries in flight now are dropped
     * when they come back, instead of being queued again (they are the caller's to remove from the
     * store: {@code droppedOnReturn}).
     */
    List<QueueEntry> purgeAll(java.util.function.Consumer<QueueEntry> droppedOnReturn, long upToSequence) {
        this.dropOnReturn = droppedOnReturn;
        this.dropUpTo = upToSequence;
        return purge();
    }

    private List<QueueEntry> purge() {
        List<QueueEntry> all = new java.util.ArrayList<>();
        for (TreeMap<Long, QueueEntry> level : ready) {
            all.addAll(level.values());
            level.clear();
        }
        all.addAll(scheduled);
        scheduled.clear();
        readyCount = 0;
        readyBytes = 0;
        paged.clear(); // whoever purges removes them from the store (a deletion: the queue's range; a discard: what is left)
        return all;
    }

    /** The session acknowledged the entry: it leaves the queue for good. */
    void acknowledged(QueueEntry entry) {
        inFlightCount--;
        messagesOut++;
        broker.traffic().acknowledged(entry.size);
        broker.released(entry);
    }

    /** A delivery came back unacknowledged; {@code counted} when the application may have seen it. */
    void returned(QueueEntry entry, boolean counted) {
        inFlightCount--;
        MoveTrace.event("returned", entry.sequence, name(), entry.message);
        if (dropOnReturn != null && entry.sequence <= dropUpTo) {
            dropOnReturn.accept(entry);
            return;
        }
        if (entry.durable && broker.tracksDeliveries()) {
            broker.markReturned(this, entry);
        }
        if (deleted) {
            broker.released(entry);
            return;
        }
        if (counted) {
            entry.deliveryCount++;
            if (entry.deliveryCount >= settings.maxDeliveries()) {
                broker.deadLetters().deadLetter(this, entry);
                return;
            }
        }
        addReady(entry);
        dispatch();
    }

    /**
     * Up to {@code max} ready messages after {@code afterSequence}, in arrival order, paged ones
     * included (read from the store, not kept in memory).
     */
    Response.BrowseBatch browse(SelectorFilter filter, long afterSequence, int max) {
        TreeMap<Long, io.tern.protocol.WireMessage> merged = new TreeMap<>();
        long now = broker.nowMs();
        for (TreeMap<Long, QueueEntry> level : ready) {
            for (Map.Entry<Long, QueueEntry> e : level.tailMap(afterSequence, false).entrySet()) {
                QueueEntry entry = e.getValue();
                if (!entry.message.isExpired(now) && (filter == null || filter.matches(entry.message, entry.deliveryCount))) {
                    merged.put(e.getKey(), entry.message);
                }
            }
        }
        boolean pagedMore = paged.browseInto(merged, afterSequence, max, m -> !m.isExpired(now)
                && (m.deliveryTime() <= m.timestamp() || m.deliveryTime() <= now) && (filter == null || filter.matches(m, 0)));
        List<Response.Browsed> batch = merged.entrySet().stream().limit(max)
                .map(e -> new Response.Browsed(e.getKey(), e.getValue())).toList();
        return new Response.BrowseBatch(batch, merged.size() > batch.size() || pagedMore);
    }

    /** Drops every message (unsubscribe, temporary queue deleted) and returns what was stored. */
    List<QueueEntry> delete() {
        deleted = true;
        List<QueueEntry> dropped = purge();
        dropped.forEach(broker::released);
        return dropped;
    }
}
