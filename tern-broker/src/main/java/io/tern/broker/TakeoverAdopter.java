package io.tern.broker;

import io.netty.buffer.Unpooled;
import io.tern.broker.store.MessageStore;
import io.tern.broker.store.StoreBatch;
import io.tern.protocol.FrameCodec;
import io.tern.protocol.WireMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;

/**
 * Takes over what another node stored (its replica, held here): its queues and subscriptions,
 * created here if missing; its messages, stored here as new messages of the same queues; its
 * duplicate-detection ids, so that a resend from one of its clients is dropped here. Temporary
 * queues die with their connection and are not taken over. A message that was out with a client
 * session is kept for that session ({@link RecoveryHolds}).
 */
final class TakeoverAdopter {
    private static final Logger LOG = LoggerFactory.getLogger(TakeoverAdopter.class);

    private final Broker broker;
    private final BrokerConfig config;
    private final MessageStore store;
    private final Destinations destinations;
    private final MemoryGovernor memory;
    private final RecoveryHolds holds;
    private final DuplicateCache duplicates;
    private final NodeAvailability availability;
    private final ExecutorService pool;

    TakeoverAdopter(Broker broker, BrokerConfig config, MessageStore store, Destinations destinations, MemoryGovernor memory,
                    RecoveryHolds holds, DuplicateCache duplicates, NodeAvailability availability, ExecutorService pool) {
        this.broker = broker;
        this.config = config;
        this.store = store;
        this.destinations = destinations;
        this.memory = memory;
        this.holds = holds;
        this.duplicates = duplicates;
        this.availability = availability;
        this.pool = pool;
    }

    /**
     * The move keys of the replica's messages that this node's store holds too: a message on its way
     * from this node to the other one when it died (in doubt here, it goes back to its queue) that the
     * other node had stored already. Only what is stored here counts: a key this node merely saw (the
     * message moved on and was removed here) must not stop the takeover of the other node's copy.
     */
    private Map<String, Integer> storedHere(Map<String, ? extends Map<Long, byte[]>> messages) {
        java.util.Set<String> wanted = new java.util.HashSet<>();
        messages.values().forEach(stored -> stored.values().forEach(bytes -> {
            String key = FrameCodec.readMessage(Unpooled.wrappedBuffer(bytes)).moveKey();
            if (key != null) {
                wanted.add(key);
            }
        }));
        Map<String, Integer> here = new HashMap<>();
        if (wanted.isEmpty() || !store.isDurable()) {
            return here;
        }
        try (MessageStore.Snapshot snapshot = store.snapshot()) {
            snapshot.read(new MessageStore.Recovery() {
                @Override
                public void queue(String queue, byte[] definition) {
                }

                @Override
                public void message(String queue, long sequence, byte[] message) {
                    WireMessage m = FrameCodec.readMessage(Unpooled.wrappedBuffer(message));
                    String key = m.moveKey();
                    if (key != null && wanted.contains(key)) {
                        here.put(key, m.moves());
                    }
                }

                @Override
                public void duplicateId(long bucket, String id) {
                }
            });
        }
        return here;
    }

    /**
     * A takeover stored these and could not record itself: they go from the store again, so that a
     * restart does not bring back messages the node they came from may still serve. The node is
     * fenced; if its store fails this too, it says so (the takeover's messages then come back with it).
     */
    private void unstore(List<Placement> inMemory, StoreBatch stored) {
        inMemory.forEach(p -> broker.released(p.entry()));
        if (!store.isDurable()) {
            return;
        }
        StoreBatch undo = new StoreBatch();
        for (StoreBatch.Op op : stored.ops()) {
            if (op instanceof StoreBatch.AddMessage a) {
                undo.add(new StoreBatch.RemoveMessage(a.queue(), a.sequence()));
            }
        }
        if (undo.isEmpty()) {
            return;
        }
        int count = undo.ops().size();
        store.commit(undo).whenComplete((ok, failure) -> {
            if (failure != null) {
                LOG.error("Could not remove the {} message(s) of the takeover that could not be recorded: restarted as it is, "
                        + "this node would serve them too ({})", count, failure.getMessage());
            } else {
                LOG.warn("Removed the {} message(s) of the takeover that could not be recorded", count);
            }
        });
    }

    /** A takeover stores its messages in batches of about this many bytes, each replicated before the next. */
    static final int CHUNK_BYTES = 256 << 10; // see SnapshotStream.CHUNK_BYTES: no humongous objects in a full heap

    /**
     * The messages of a takeover, stored a chunk at a time ({@value #CHUNK_BYTES} bytes), so that a deep
     * replica (one that pages its bodies, read back as it is iterated) is never in this node's memory
     * whole: once a chunk is stored, its messages that go to no session stay in memory only while the
     * queues are below the paging line ({@link Broker#overPageLine}), and are otherwise kept as sequences
     * to read back from the store. What was stored is remembered without bodies, to undo.
     */
    private final class Chunks {
        private StoreBatch chunk;
        private long bytes;
        /** What earlier chunks stored, bodies left out: what an undo removes. */
        final StoreBatch stored = new StoreBatch();
        /** Messages of the current chunk that go to no session: placed in memory or paged once it is stored. */
        private final List<Placement> pending = new ArrayList<>();
        final List<Placement> placements = new ArrayList<>();
        final Map<MessageQueue, PagedSequences> paged = new java.util.LinkedHashMap<>();
        private boolean paging;

        Chunks(StoreBatch first) {
            this.chunk = first;
        }

        StoreBatch current() {
            return chunk;
        }

        void add(String queue, long sequence, byte[] body) {
            if (store.isDurable()) {
                chunk.add(new StoreBatch.AddMessage(queue, sequence, body));
                bytes += body.length;
            }
        }

        void placeLater(Placement p) {
            pending.add(p);
        }

        /** Stores the current chunk if it is full; throws (a {@link java.util.concurrent.CompletionException}) if that fails. */
        void storeIfFull() {
            if (bytes < CHUNK_BYTES) {
                return;
            }
            store.commit(chunk).join();
            for (StoreBatch.Op op : chunk.ops()) {
                stored.add(op instanceof StoreBatch.AddMessage a ? new StoreBatch.AddMessage(a.queue(), a.sequence(), NO_BODY) : op);
            }
            chunk = new StoreBatch().takingOver();
            bytes = 0;
            settle();
        }

        /**
         * The pending messages of a stored chunk: in memory below the paging line, else paged; once one
         * chunk is paged, the later ones are too (placed in memory, they would be delivered before it).
         */
        void settle() {
            paging |= store.isDurable() && broker.overPageLine();
            boolean page = paging;
            for (Placement p : pending) {
                if (page) {
                    broker.released(p.entry());
                    paged.computeIfAbsent(p.queue(), q -> new PagedSequences()).add(p.entry().sequence); // counted once placed
                } else {
                    placements.add(p);
                }
            }
            pending.clear();
        }

        /** Everything stored, the last chunk included: what an undo removes. */
        StoreBatch all() {
            StoreBatch all = new StoreBatch();
            stored.ops().forEach(all::add);
            chunk.ops().forEach(all::add);
            return all;
        }
    }

    private static final byte[] NO_BODY = new byte[0];

    /**
     * A takeover failed after its messages were made entries ({@code all}, in memory): their memory is
     * released; the local store or some backups may hold what it stored, which, left there, would come
     * back with a restart beside the copies of the takeover tried again. Undone first, then its ids are
     * new again. If the undo is not written, it must not be tried again ({@link ClusterPort.NotUndone}):
     * the store would hold its messages twice. Completes exceptionally, always.
     */
    private CompletableFuture<Integer> failed(Chunks chunks, List<Placement> all, List<String> added, Throwable failure) {
        all.forEach(p -> broker.released(p.entry()));
        CompletableFuture<Integer> failedFuture = new CompletableFuture<>();
        broker.undo(chunks.all(), failure).whenComplete((undone, undoFailure) -> {
            if (undoFailure != null) {
                failedFuture.completeExceptionally(new ClusterPort.NotUndone(PublishPipeline.storeFailure(failure).getMessage()));
                return;
            }
            duplicates.forgetTakenOver(added);
            failedFuture.completeExceptionally(PublishPipeline.storeFailure(failure));
        });
        return failedFuture;
    }

    /** The node of a cluster link's session owner ({@code link:<node>:<connection>/<session>}). */
    private static String linkPeer(String owner) {
        String rest = owner.substring(ServerConnection.LINK_KEY_PREFIX.length());
        int colon = rest.lastIndexOf(':');
        return colon < 0 ? rest : rest.substring(0, colon);
    }

    /**
     * Takes over a replica's contents, running {@code onStored} once the messages are stored (and
     * replicated) and before any of them is delivered: a takeover records itself there, so that no
     * member can see this node's consumers take a message it does not yet know was taken over.
     */
    CompletableFuture<Integer> adopt(Map<String, byte[]> definitions, Map<String, ? extends Map<Long, byte[]>> messages,
                                            java.util.Collection<String> duplicateIds,
                                            Map<String, ? extends Map<Long, String>> owners, Runnable onStored) {
        for (byte[] encoded : definitions.values()) {
            QueueDefinition d = QueueDefinition.decode(encoded);
            if (d.kind() != QueueDefinition.Kind.TEMPORARY) {
                destinations.createDurable(d);
            }
        }
        StoreBatch batch = new StoreBatch().takingOver();
        // The replica's ids this node knew already: among them the move keys of messages another node gave
        // this one as moves in doubt (on their way to the dead node when its link closed) before this takeover.
        java.util.Set<String> knownHere = new java.util.HashSet<>();
        List<String> added = new ArrayList<>();
        for (String id : duplicateIds) {
            if (duplicates.addTakenOver(id, store.isDurable() ? batch : null)) {
                added.add(id);
            } else {
                knownHere.add(id);
            }
        }
        Chunks chunks = new Chunks(batch);
        Map<String, List<Placement>> held = new HashMap<>();
        Map<String, List<Placement>> moving = new HashMap<>(); // on their way to another node's link, by node
        int[] skipped = {0};
        try {
            Map<String, Integer> here = storedHere(messages); // moved between the two nodes, and still stored here
            messages.forEach((name, stored) -> {
                MessageQueue q = destinations.get(name);
                if (q == null) {
                    LOG.warn("Not taking over {} messages of queue {}: its definition was not replicated", stored.size(), name);
                    return;
                }
                Map<Long, String> out = owners.containsKey(name) ? owners.get(name) : Map.of();
                stored.forEach((seq, bytes) -> {
                    WireMessage m = FrameCodec.readMessage(Unpooled.wrappedBuffer(bytes));
                    Integer ours = m.moveKey() == null ? null : here.get(m.moveKey());
                    // The dead node's copy of a move from this node (one move on from the copy here): the dead
                    // node's copy is taken over, and the copy here, on its way there when the link closed, leaves
                    // when that move in doubt is settled here (MovesInDoubt#settleHere). The copy here may also be
                    // on its way out already: the dead node's acknowledgement on the link came before its death.
                    boolean movedFromHere = ours != null && m.moves() == ours + 1;
                    if (m.moveKey() != null && ((ours != null && !movedFromHere) || duplicates.contains(m.moved().moveDedupKey())
                            || knownHere.contains(m.moveDedupKey()))) {
                        // Moved between the two nodes: this node still stores its own copy (the dead node's came
                        // back from here), or it took this very copy as a move (and may have delivered it since). Or a
                        // third node moved it to the dead one, and, that move being in doubt when the link closed,
                        // gave the same move to this node: once only.
                        skipped[0]++;
                        MoveTrace.event("takeover-skipped", name, m);
                        return;
                    }
                    MoveTrace.event("takeover-adopted", name, m);
                    QueueEntry e = new QueueEntry(broker.nextSequence(), m, store.isDurable(), null, 0);
                    chunks.add(q.name(), e.sequence, bytes);
                    memory.add(e.size);
                    String owner = out.get(seq);
                    if (owner == null) {
                        chunks.placeLater(new Placement(q, e));
                    } else if (owner.startsWith(ServerConnection.LINK_KEY_PREFIX)) {
                        moving.computeIfAbsent(linkPeer(owner), o -> new ArrayList<>()).add(new Placement(q, e));
                        if (e.durable && store.tracksDeliveries()) {
                            chunks.current().add(new StoreBatch.MarkDelivered(q.name(), e.sequence, owner));
                        }
                    } else {
                        held.computeIfAbsent(owner, o -> new ArrayList<>()).add(new Placement(q, e));
                        if (e.durable && store.tracksDeliveries()) {
                            chunks.current().add(new StoreBatch.MarkDelivered(q.name(), e.sequence, owner));
                        }
                    }
                    chunks.storeIfFull();
                });
            });
        } catch (RuntimeException e) {
            // A chunk could not be stored, or the replica could not be read: what was stored goes again.
            Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
            chunks.settle();
            List<Placement> all = new ArrayList<>(chunks.placements);
            held.values().forEach(all::addAll);
            moving.values().forEach(all::addAll);
            return failed(chunks, all, added, cause);
        }
        chunks.settle(); // the last chunk's: placed as the memory allows now (it is stored below, before any is delivered)
        List<Placement> placements = chunks.placements;
        CompletableFuture<Void> done = new CompletableFuture<>();
        List<Placement> all = new ArrayList<>(placements);
        held.values().forEach(all::addAll);
        moving.values().forEach(all::addAll);
        store.commit(chunks.current()).whenCompleteAsync((ok, failure) -> {
            if (failure != null) {
                failed(chunks, all, added, failure).whenComplete((v, e) -> done.completeExceptionally(e));
            } else {
                try {
                    onStored.run();
                } catch (RuntimeException e) {
                    // Delivering what a takeover could not record would let the old owner bring it back too.
                    availability.fenceUntilRestart("a takeover could not be recorded (" + e.getMessage() + "): this node serves "
                            + "nothing until it is restarted with a working data directory");
                    LOG.error("The takeover's own step after storing failed: none of its messages is delivered, and this "
                            + "node is fenced", e);
                    unstore(all, chunks.all());
                    done.completeExceptionally(e);
                    return;
                }
                moving.forEach((peer, ps) -> {
                    List<Delivery> out = new ArrayList<>();
                    for (Placement p : ps) {
                        p.queue().executor().execute(() -> p.queue().holdForRecovery(p.entry()));
                        out.add(new Delivery(0, p.queue(), p.entry(), null));
                    }
                    broker.moves().inDoubt(peer, null, out); // whichever start of the peer holds its messages now
                });
                holds.hold(held).thenRun(() -> {
                    broker.apply(placements, List.of(), done);
                    // Paged: read back from the store when their turn comes, after what each queue holds in memory.
                    chunks.paged.forEach((q, seqs) -> q.executor().execute(() -> q.pagedAdopted(seqs)));
                });
            }
        }, pool);
        int heldCount = held.values().stream().mapToInt(List::size).sum()
                + moving.values().stream().mapToInt(List::size).sum();
        int pagedCount = chunks.paged.values().stream().mapToInt(PagedSequences::size).sum();
        if (skipped[0] > 0) {
            LOG.info("Not taking over {} message(s) this node has already: they had moved between the two nodes, or another node "
                    + "gave them to this one as moves in doubt", skipped[0]);
        }
        return done.thenApply(v -> {
            if (heldCount > 0) {
                LOG.info("Keeping {} taken-over message(s) for the {} client session(s) that had them, for up to {} ms",
                        heldCount, held.size(), config.recoveryTimeoutMs());
            }
            if (pagedCount > 0) {
                LOG.info("{} taken-over message(s) stay in the store, paged: this node's memory is at its paging line",
                        pagedCount);
            }
            return placements.size() + heldCount + pagedCount;
        });
    }
}
