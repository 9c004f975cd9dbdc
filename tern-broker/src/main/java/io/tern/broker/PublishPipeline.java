package io.tern.broker;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tern.broker.store.MessageStore;
import io.tern.broker.store.StoreBatch;
import io.tern.protocol.ErrorCode;
import io.tern.protocol.FrameCodec;
import io.tern.protocol.WireMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiPredicate;

/**
 * The one path that changes stored messages for clients and for moves between nodes: duplicate
 * detection, the store's batch (sends added, acknowledged deliveries removed), then the queues
 * (visible), then the answer. A commit that fails is undone, so that what the client is told failed
 * does not stay behind to be delivered later; and what a discard must still remove from the store is
 * found here ({@link #discardLeftInStore}).
 */
final class PublishPipeline {
    private static final Logger LOG = LoggerFactory.getLogger(PublishPipeline.class);

    private final Broker broker;
    private final MessageStore store;
    private final DuplicateCache duplicates;
    private final MemoryGovernor memory;
    private final NodeAvailability availability;
    private final AtomicLong duplicatesDropped = new AtomicLong();
    /**
     * Duplicate-detection ids this node holds for others (replicas it may take over), asked with the id
     * and the node the sending connection's sends are arbitrated for ({@link ServerConnection#arbiterFor},
     * may be null); none by default.
     */
    private volatile BiPredicate<String, String> duplicateIdsElsewhere = (id, arbiterFor) -> false;

    PublishPipeline(Broker broker, MessageStore store, DuplicateCache duplicates, MemoryGovernor memory,
                    NodeAvailability availability) {
        this.broker = broker;
        this.store = store;
        this.duplicates = duplicates;
        this.memory = memory;
        this.availability = availability;
    }

    long duplicatesDropped() {
        return duplicatesDropped.get();
    }

    void setDuplicateIdsElsewhere(BiPredicate<String, String> known) {
        duplicateIdsElsewhere = known;
    }

    /**
     * Stores {@code sends}, each in the queues of its route, and removes the acknowledged
     * deliveries, as one batch. A send whose duplicate-detection id was seen is dropped; so is one
     * whose id a replica held here knows, unless {@code moved}: a message moved here from another
     * node is known by its move key and count ({@link WireMessage#moveDedupKey}), and only this node's own ids count
     * (the node it came from may be one this node backs up, whose replica holds that very message).
     */
    CompletableFuture<Void> store(List<WireMessage> sends, List<List<MessageQueue>> routes, List<Delivery> acks,
                                  ServerConnection origin, boolean sync, boolean moved) {
        StoreBatch batch = new StoreBatch();
        List<Placement> placements = new ArrayList<>();
        List<String> claimedIds = new ArrayList<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        // Commits still on their way that claimed ids this batch drops as duplicates: it succeeds only if they do.
        List<CompletableFuture<?>> claimants = new ArrayList<>();
        for (int i = 0; i < sends.size(); i++) {
            WireMessage m = sends.get(i);
            String dup = moved ? m.moveDedupKey() : m.duplicateId();
            if (dup != null) {
                boolean elsewhere = !moved && duplicateIdsElsewhere.test(dup, origin == null ? null : origin.arbiterFor);
                CompletableFuture<?> claimant = elsewhere ? CompletableFuture.completedFuture(null)
                        : duplicates.claim(dup, m.persistent() && store.isDurable() ? batch : null, done);
                if (claimant != null) {
                    duplicatesDropped.incrementAndGet();
                    MoveTrace.event(moved ? "dropped-known-move" : "dropped-duplicate", m.destination().name(), m);
                    if (!claimant.isDone()) {
                        claimants.add(claimant);
                    }
                    continue;
                }
                claimedIds.add(dup);
            }
            String producerId = moved ? m.duplicateId() : null;
            if (producerId != null && duplicates.claim(producerId, m.persistent() && store.isDurable() ? batch : null, done) == null) {
                // A producer that resends it here (it failed over from the node it first sent it to) is told it is stored.
                claimedIds.add(producerId);
            }
            byte[] encoded = null;
            for (MessageQueue q : routes.get(i)) {
                boolean durable = m.persistent() && q.isDurable() && store.isDurable();
                QueueEntry e = new QueueEntry(broker.nextSequence(), m, durable, origin, 0);
                if (durable) {
                    encoded = encoded == null ? encode(m) : encoded;
                    batch.add(new StoreBatch.AddMessage(q.name(), e.sequence, encoded));
                }
                memory.add(e.size);
                placements.add(new Placement(q, e));
                MoveTrace.event(moved ? "stored-move" : "stored", q.name(), m);
            }
        }
        for (Delivery d : acks) {
            if (d.entry().durable) {
                batch.add(new StoreBatch.RemoveMessage(d.queue().name(), d.entry().sequence));
            }
            MoveTrace.event("removing", d.entry().sequence, d.queue().name(), d.entry().message);
        }
        (sync ? store.commit(batch) : store.commitLazily(batch)).whenComplete((ok, failure) -> {
            if (failure != null) {
                placements.forEach(p -> broker.released(p.entry()));
                // Undo first: a send of the same id claimed after the forget is committed after the undo,
                // so the undo's RemoveDuplicateId cannot delete that send's id.
                undo(batch, acks, failure);
                claimedIds.forEach(duplicates::forget);
                done.completeExceptionally(storeFailure(failure));
                return;
            }
            if (moved) {
                placements.forEach(p -> p.queue().movedIn.incrementAndGet());
            }
            apply(placements, acks, done);
        });
        done.thenRun(() -> duplicates.settled(claimedIds, done));
        if (claimants.isEmpty()) {
            return done;
        }
        claimants.add(done);
        CompletableFuture<Void> answer = new CompletableFuture<>();
        CompletableFuture.allOf(claimants.toArray(CompletableFuture[]::new)).whenComplete((ok, failure) -> {
            if (failure == null) {
                answer.complete(null);
            } else {
                answer.completeExceptionally(storeFailure(failure));
            }
        });
        return answer;
    }

    /**
     * A commit failed after the local store may have written it (its backups did not confirm it):
     * the client is told it failed and may send again, so what it stored must not stay behind to be
     * delivered later. Removes the messages it added and puts back the ones it acknowledged (which
     * stay out with their consumer), as one more replicated batch. If that fails too, the node has
     * lost the quorum or was taken over: a node taken over discards its whole store when it learns it.
     */
    /** Orders undos of failed commits with a discard (see {@link #discardLeftInStore}). */
    private final Object undoing = new Object();

    /** Completes once undone (or with nothing to undo); fails if the undo was not written, or was skipped (fenced). */
    CompletableFuture<Void> undo(StoreBatch failed, List<Delivery> acks, Throwable cause) {
        StoreBatch undo = new StoreBatch();
        for (StoreBatch.Op op : failed.ops()) {
            if (op instanceof StoreBatch.AddMessage a) {
                undo.add(new StoreBatch.RemoveMessage(a.queue(), a.sequence()));
            } else if (op instanceof StoreBatch.AddDuplicateId d) {
                // Left in a backup's replica, the id would say the message was stored here: a taker would
                // drop the client's resend of it, or count a move of it as stored here and remove its source.
                undo.add(new StoreBatch.RemoveDuplicateId(d.bucket(), d.id()));
            }
        }
        for (Delivery d : acks) {
            if (d.entry().durable) {
                undo.add(new StoreBatch.AddMessage(d.queue().name(), d.entry().sequence, encode(d.entry().message)));
            }
        }
        if (undo.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        synchronized (undoing) {
            if (availability.state() == NodeState.FENCED) {
                // It discards its store (it was taken over): an undo written now could come after the discard.
                LOG.warn("A commit failed ({}) while this node discards its store: not undone", storeFailure(cause).getMessage());
                return CompletableFuture.failedFuture(new IllegalStateException("not undone: this node is fenced"));
            }
            LOG.warn("A commit failed ({}): undoing its {} stored change(s)", storeFailure(cause).getMessage(), undo.ops().size());
            return store.commit(undo).whenComplete((ok, failure) -> {
                if (failure != null) {
                    LOG.warn("Could not undo a failed commit ({}); a node that was taken over discards its store anyway",
                            storeFailure(failure).getMessage());
                }
            });
        }
    }

    /**
     * What a failed commit tells the client: the store's own verdict if it gave one (a node fenced
     * for a discard says NOT_IN_QUORUM, so the client sends elsewhere), else STORE_FAILURE.
     */
    static BrokerException storeFailure(Throwable failure) {
        Throwable t = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        return t instanceof BrokerException b ? b : new BrokerException(ErrorCode.STORE_FAILURE, t.getMessage());
    }

    /** Applies a stored publish: one task per queue touched, each enqueuing and acknowledging in order. */
    void apply(List<Placement> placements, List<Delivery> acks, CompletableFuture<Void> done) {
        Map<MessageQueue, List<QueueEntry>> enqueues = new LinkedHashMap<>();
        for (Placement p : placements) {
            enqueues.computeIfAbsent(p.queue(), q -> new ArrayList<>()).add(p.entry());
        }
        Map<MessageQueue, List<QueueEntry>> acked = new LinkedHashMap<>();
        for (Delivery d : acks) {
            acked.computeIfAbsent(d.queue(), q -> new ArrayList<>()).add(d.entry());
        }
        java.util.Set<MessageQueue> touched = new java.util.LinkedHashSet<>(enqueues.keySet());
        touched.addAll(acked.keySet());
        if (touched.isEmpty()) {
            done.complete(null);
            return;
        }
        AtomicInteger remaining = new AtomicInteger(touched.size());
        AtomicInteger dropped = new AtomicInteger();
        for (MessageQueue q : touched) {
            List<QueueEntry> in = enqueues.getOrDefault(q, List.of());
            List<QueueEntry> out = acked.getOrDefault(q, List.of());
            q.executor().execute(() -> {
                out.forEach(q::acknowledged);
                dropped.addAndGet(q.enqueueAll(in));
                if (remaining.decrementAndGet() != 0) {
                    return;
                }
                if (dropped.get() == 0) {
                    done.complete(null);
                } else {
                    LOG.warn("{} message(s) stored while this node discarded what it was taken over for are dropped; "
                            + "their sender is told to send them again", dropped.get());
                    done.completeExceptionally(new BrokerException(ErrorCode.NOT_IN_QUORUM, "node " + broker.config().name()
                            + " was taken over and discards what it held: send again through another node"));
                }
            });
        }
    }

    static byte[] encode(WireMessage m) {
        ByteBuf buf = Unpooled.buffer(m.estimatedSize());
        try {
            FrameCodec.writeMessage(m, buf);
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            return bytes;
        } finally {
            buf.release();
        }
    }

    /** Removes what the store still holds besides the queues' entries (a commit that failed and could not be undone). */
    int discardLeftInStore() {
        // An undo of a failed commit may still be on its way to the disk (the failure that made this node
        // discard failed it a moment ago): the snapshot must see it. The node is fenced now, so no undo
        // starts after this.
        CompletableFuture<Void> undone;
        synchronized (undoing) {
            undone = store.written();
        }
        undone.join();
        StoreBatch batch = new StoreBatch();
        try (MessageStore.Snapshot s = store.snapshot()) {
            s.read(MessageStore.Recovery.asOps(op -> {
                if (op instanceof StoreBatch.AddMessage a) {
                    batch.add(new StoreBatch.RemoveMessage(a.queue(), a.sequence()));
                }
            }));
        }
        if (!batch.isEmpty()) {
            LOG.warn("Discarding {} stored message(s) no queue held in memory (paged, or left by commits that failed)",
                    batch.ops().size());
            store.commit(batch).join();
        }
        return batch.ops().size();
    }
}
