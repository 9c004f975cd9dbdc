package io.tern.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tern.broker.ClusterPort;
import io.tern.protocol.FrameCodec;
import io.tern.protocol.WireMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Moves in doubt ({@link io.tern.broker.MovesInDoubt}): messages that were on their way to another
 * node's cluster link when it closed, or when this node took over the node that sent them. That node
 * may have stored them or not. They go to whoever holds its messages now ({@link Takeover#holderOf}):
 * <ul>
 *   <li>that node itself, or the node that took it over: it stores them unless it has them already
 *       (by their move key), and says so; then they are removed here;</li>
 *   <li>this node, if it took that node over: those that node had stored are that node's (taken
 *       over from its replica, or consumed there) and leave here; the rest go back to their queue
 *       ({@link io.tern.broker.MovesInDoubt#settleHere});</li>
 *   <li>nobody (no replication): they go back to their queue here.</li>
 * </ul>
 * A holder that leaves before it answers makes them resolved again. A holder that took this node over
 * (this node was paused or cut off, and does not know yet) answers "not stored": they are given
 * again until this node discards, which drops them (the holder has them from this node's replica).
 * And this node gives nothing while it may have been taken over ({@link io.tern.broker.MovesInDoubt#resolvable}).
 *
 * <p>Moves in doubt name the start of the peer whose link they were on ({@link io.tern.broker.MovesInDoubt#start}).
 * If a member took that start over since the link opened, or another start of the peer is in the
 * view (it restarted before it was found gone, and its new start discarded what the earlier one
 * stored if a member took it over), they go to whoever holds what that start stored
 * ({@link TakeoverHistory#holderOf}: its taker, or that one's taker since), which has their ids from
 * the replica; with no takeover known, to the new start, which kept its store unless it discarded.
 * The push names that holder and the epoch it got them at, and its receiver checks that it does hold
 * them: it is that holder and has not discarded since, or it holds that holder's messages. The push
 * also names the link (its number, which the peer gave it): the peer itself refuses the moves of a
 * link it opened before it last discarded, and its refusal names the takeover it discarded for, so
 * that a pusher that never heard of it (it missed the taker's word) learns it, and gives them to the
 * taker next.
 *
 * <pre>
 * 'd' push:i64 peer:utf queues:i32 (queue:utf count:i32 (length:i32 message)*)* earlier:bool
 *     [holder:utf epoch:i64] link:i64                 -- moves in doubt, to the holder (link: the peer's number of it, -1: not known)
 * 'e' push:i64 stored:bool [epoch:i64 taker:utf]       -- the holder stored them (or had them); not: and, if it
 *                                                         discarded them, the takeover it discarded for
 * </pre>
 *
 * Confined to the cluster links' thread ({@code pulling}), but for the messages' decoding.
 */
final class InDoubtMoves implements ClusterNode.PayloadHandler {
    private static final Logger LOG = LoggerFactory.getLogger(InDoubtMoves.class);
    private static final char PUSH = 'd';
    private static final char PUSHED = 'e';

    private final ClusterNode node;
    private final ClusterPort broker;
    /** Who holds a node's messages now (null: not settled yet; empty: nobody, they stay here). */
    private final Function<String, String> holderOf;
    private final LinksThread pulling;
    private final Predicate<String> holdsSettled;
    /** Whether this node took a node over that has not discarded since ({@link Takeover#refuses}, which tells it). */
    private final Predicate<String> speaksFor;
    /** Nodes whose pushes this node refuses now (logged once per spell). */
    private final Set<String> refusing = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /**
     * How often each moves in doubt were refused (a holder not settled yet); warned of once at
     * {@value #REFUSALS_TO_WARN}. Weak keys (MovesInDoubt keeps identity equality): settled moves leave by themselves.
     */
    private final Map<io.tern.broker.MovesInDoubt, Integer> refusals = new java.util.WeakHashMap<>();
    private static final int REFUSALS_TO_WARN = 240;
    /** Moves in doubt given to a holder and not answered yet, by push id. */
    private final Map<Long, Push> pushes = new HashMap<>();
    private long pushIds;

    /** The newest takeover of this node that it discarded its messages for (epoch -1: none). */
    private final java.util.function.Supplier<TakeoverRecords.Record> lastDiscard;
    /** The takeovers this node heard of, by start ({@link TakeoverHistory#holderOf}); refusals add to it. */
    private final TakeoverHistory history;
    /** Whether this node discarded its messages since it opened its link of that number. */
    private final java.util.function.LongPredicate discardedSince;

    /** {@code incarnation}: the start of the holder it was given to (another start of it never answers). */
    private record Push(String holder, String incarnation, io.tern.broker.MovesInDoubt moves) {
    }

    /**
     * @param holdsSettled whether this node holds a node's messages, settled: it is that node, or its
     *                     takeover of it is done; a push of moves in doubt with another node waits for that
     */
    InDoubtMoves(ClusterNode node, ClusterPort broker, Function<String, String> holderOf, Predicate<String> holdsSettled,
                 Predicate<String> speaksFor, java.util.function.Supplier<TakeoverRecords.Record> lastDiscard,
                 TakeoverHistory history,
                 java.util.function.LongPredicate discardedSince, LinksThread pulling) {
        this.discardedSince = discardedSince;
        this.node = node;
        this.lastDiscard = lastDiscard;
        this.history = history;
        this.holdsSettled = holdsSettled;
        this.broker = broker;
        this.holderOf = holderOf;
        this.speaksFor = speaksFor;
        this.pulling = pulling;
        node.addPayloadHandler("" + PUSH + PUSHED, this);
        broker.moves().setInDoubtResolver(moves -> pulling.execute(() -> resolve(moves)));
    }

    /** The other members are now {@code now}: what was given to one that left is resolved again. */
    void membersChanged(Set<String> now) {
        for (Map.Entry<Long, Push> e : new ArrayList<>(pushes.entrySet())) {
            Push p = e.getValue();
            if (!now.contains(p.holder()) || !Objects.equals(node.incarnation(p.holder()), p.incarnation())) {
                pushes.remove(e.getKey());
                resolve(p.moves()); // its holder left (or restarted) before it answered
            }
        }
    }

    @Override
    public void received(String from, byte[] payload, int offset, int length) {
        if (pulling.stopped()) {
            return; // the node stops, its store closes: the sender gives these again to whoever holds this node's messages
        }
        try {
            if (payload[offset] == PUSH) {
                storePushed(from, ClusterCodec.reader(payload, offset, length));
            } else {
                DataInputStream in = ClusterCodec.reader(payload, offset, length);
                in.readByte();
                long id = in.readLong();
                boolean stored = in.readBoolean();
                TakeoverRecords.Record discardedFor = in.available() > 0 ? new TakeoverRecords.Record(in.readLong(), in.readUTF()) : null;
                pulling.execute(() -> pushed(id, stored, discardedFor));
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("Dropping a malformed moves-in-doubt message from {}: {}", from, e.toString());
        }
    }

    /** Gives {@code moves} to whoever holds their peer's messages now, once that is settled; on {@code pulling}. */
    void resolve(io.tern.broker.MovesInDoubt moves) {
        if (moves.obsolete()) {
            LOG.info("{} message(s) in doubt with {} are dropped here: this node was taken over, its taker resolves them",
                    moves.size(), moves.peer());
            moves.returnHere(); // dropped as they come back: the discard dropped their queue's entries
            return;
        }
        TakeoverHistory.Holder startHeld = heldElsewhere(moves);
        boolean earlier = startHeld != null;
        String holder = !moves.resolvable() ? null : holderOf.apply(earlier ? startHeld.node() : moves.peer());
        if (holder == null) {
            // This node may have been taken over (it is not serving), or the peer's takeover is not settled yet.
            pulling.schedule(() -> resolve(moves), QueueLinks.RETRY_MS);
            return;
        }
        if (holder.isEmpty()) {
            LOG.info("{} message(s) on their way to {} when its link closed go back to their queue here (nobody holds "
                    + "its messages)", moves.size(), moves.peer());
            moves.returnHere();
            return;
        }
        if (holder.equals(node.self().nodeId())) {
            if (earlier ? !holds(startHeld) : !holdsSettled.test(moves.peer())) {
                // The map names this node the peer's (or the start's taker's) failover node, but no takeover
                // by this node is recorded: it is under way, or it failed and that node keeps what it stored.
                // Settled here now, it would be delivered here and there (seen after a failed takeover).
                pulling.schedule(() -> resolve(moves), QueueLinks.RETRY_MS);
                return;
            }
            io.tern.broker.MovesInDoubt theirs = moves.settleHere();
            int stored = theirs == null ? 0 : theirs.size();
            LOG.info("{} message(s) on their way to {} when its link closed are settled here (this node took it over): "
                    + "{} it had stored are its now and leave here, {} go back to their queue", moves.size(), moves.peer(),
                    stored, moves.size() - stored);
            if (theirs != null) {
                removeHere(theirs, moves.peer());
            }
            return;
        }
        long id = ++pushIds;
        pushes.put(id, new Push(holder, node.incarnation(holder), moves));
        Map<String, List<WireMessage>> byQueue = moves.byQueue();
        byte[] message = ClusterCodec.encode(PUSH, out -> {
            out.writeLong(id);
            out.writeUTF(moves.peer());
            out.writeInt(byQueue.size());
            for (Map.Entry<String, List<WireMessage>> e : byQueue.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeInt(e.getValue().size());
                for (WireMessage m : e.getValue()) {
                    ByteBuf buf = Unpooled.buffer();
                    FrameCodec.writeMessage(m, buf);
                    out.writeInt(buf.readableBytes());
                    out.write(buf.array(), buf.arrayOffset() + buf.readerIndex(), buf.readableBytes());
                }
            }
            out.writeBoolean(earlier);
            if (earlier) {
                out.writeUTF(startHeld.node());
                out.writeLong(startHeld.epoch());
            }
            out.writeLong(moves.start() == null ? -1 : moves.start().link());
        });
        LOG.info("{} message(s) on their way to {} when its link closed are in doubt: given to {}, which holds {}", moves.size(),
                moves.peer(), holder, earlier ? "what that start of it stored (taken over or restarted since)" : "its messages now");
        if (node.trySend(holder, message) != ClusterNode.Sent.SENT) {
            pushes.remove(id);
            pulling.schedule(() -> resolve(moves), QueueLinks.RETRY_MS);
        }
    }

    /**
     * Who holds what the start of the peer that {@code moves} were with stored, if not that start
     * itself: a node took it over since the link opened (and the start may be back, paused and merged,
     * or gone); or another start of the peer is in the view (it restarted before it was found gone),
     * which holds it unless it discarded. Null: that start itself, or its holder now ({@code holderOf}).
     */
    private TakeoverHistory.Holder heldElsewhere(io.tern.broker.MovesInDoubt moves) {
        if (moves.start() == null) {
            return null;
        }
        TakeoverHistory.Holder held = history.holderOf(moves.peer(), moves.start());
        String now = node.incarnation(moves.peer());
        boolean restarted = now != null && !now.equals(moves.start().incarnation());
        return held.epoch() >= 0 || restarted ? held : null;
    }

    /**
     * Whether this node holds what a start of a peer stored, held by {@code held} ({@link #heldElsewhere}): it is that
     * node and has not discarded since it got them (the peer's later start, which nobody took over,
     * has discarded nothing since it began; a taker, nothing since its takeover's epoch), or it took
     * that node over since (settled).
     */
    private boolean holds(TakeoverHistory.Holder held) {
        if (!held.node().equals(node.self().nodeId())) {
            return holdsSettled.test(held.node());
        }
        boolean kept = held.epoch() < 0 ? broker.discards() == 0 : lastDiscard.get().epoch() < held.epoch();
        return kept && broker.availability().answersForItsMessages();
    }

    /**
     * The holder's answer to a push: stored there, so removed here; or not, so given again. A holder
     * that discarded them names the takeover it discarded for ({@code discardedFor}): this node learns
     * it, if it had missed it, and gives them to the taker next.
     */
    private void pushed(long id, boolean stored, TakeoverRecords.Record discardedFor) {
        Push p = pushes.remove(id);
        if (p == null) {
            return;
        }
        if (!stored && discardedFor != null && !discardedFor.taker().isEmpty()) {
            LOG.info("{} discarded the moves in doubt given to it: it was taken over by {} (epoch {}), which holds them",
                    p.holder(), discardedFor.taker(), discardedFor.epoch());
            history.taken(p.holder(), discardedFor.epoch(), p.incarnation(), discardedFor.taker());
        }
        if (!stored) {
            int times = refusals.merge(p.moves(), 1, Integer::sum);
            if (times == REFUSALS_TO_WARN) {
                LOG.warn("{} message(s) in doubt with {} are still refused by {} after {} tries: they stay out of their "
                        + "queue here until a node holds them", p.moves().size(), p.moves().peer(), p.holder(), times);
            }
            pulling.schedule(() -> resolve(p.moves()), QueueLinks.RETRY_MS);
            return;
        }
        removeHere(p.moves(), p.holder());
    }

    /**
     * {@code holder} has {@code moves} (it stored them, or this node took over the node that did):
     * they leave here. A removal that cannot be stored now (no quorum) is resolved again shortly.
     */
    private void removeHere(io.tern.broker.MovesInDoubt moves, String holder) {
        moves.storedThere().whenComplete((ok, failure) -> {
            if (failure != null) {
                LOG.warn("{} message(s) that {} holds could not be removed here: {}; trying again", moves.size(), holder,
                        failure.toString());
                pulling.schedule(() -> resolve(moves), QueueLinks.RETRY_MS);
            }
        });
    }

    /**
     * Another node gives this one moves in doubt: store them (dropping what is here already), then say
     * so. Not while this node speaks for that node's messages (it took it over, and that node has not
     * discarded yet): it holds them already, from its replica, and may have delivered them; that node
     * is answered "not stored", gives them again, and drops them when it discards.
     */
    private void storePushed(String from, DataInputStream in) throws IOException {
        in.readByte();
        long id = in.readLong();
        String peer = in.readUTF();
        Map<String, List<WireMessage>> byQueue = readMessages(in);
        TakeoverHistory.Holder held = in.available() > 0 && in.readBoolean()
                ? new TakeoverHistory.Holder(in.readUTF(), in.readLong()) : null;
        long link = in.available() >= 8 ? in.readLong() : -1;
        TakeoverRecords.Record discarded = lastDiscard.get();
        if (held == null ? peer.equals(node.self().nodeId()) && link >= 0 && discardedSince.test(link)
                : held.node().equals(node.self().nodeId()) && held.epoch() >= 0 && discarded.epoch() >= held.epoch()) {
            // This node discarded, since it opened their link (or since it got them), what it had stored: their
            // holder is its taker. Said with the refusal, for a sender that never heard of that takeover.
            LOG.debug("Moves in doubt with {} from {}: this node discarded them for the takeover at epoch {}", peer, from,
                    discarded.epoch());
            answerPush(from, id, false, discarded);
            return;
        }
        if (held != null && !holds(held)) {
            // Not (or not yet) the holder of what that start of the peer stored, or this node discarded
            // it since: the sender gives them again, to whoever it finds holds them then.
            LOG.debug("Moves in doubt with a start of {} from {}: this node does not hold what it stored", peer, from);
            answerPush(from, id, false);
            return;
        }
        boolean answers = !peer.equals(node.self().nodeId()) || broker.availability().answersForItsMessages();
        if (held == null && (!holdsSettled.test(peer) || !answers)) {
            // Not yet its holder here (its takeover has not begun or is under way): stored now, a move the
            // takeover brings as already stored there, delivered and acknowledged, would be delivered again.
            LOG.debug("Moves in doubt with {} from {}: not stored yet, this node does not hold {}'s messages yet", peer, from,
                    peer);
            answerPush(from, id, false);
            return;
        }
        if (speaksFor.test(from)) {
            if (refusing.add(from)) {
                LOG.info("Refusing the moves in doubt {} gives this node: this node took {} over and it has not discarded "
                        + "yet (they are this node's from its replica)", from, from);
            }
            answerPush(from, id, false);
            return;
        }
        refusing.remove(from);
        List<java.util.concurrent.CompletableFuture<Void>> stores = new ArrayList<>();
        byQueue.forEach((queue, messages) -> stores.add(broker.moves().storeMoved(queue, messages)));
        java.util.concurrent.CompletableFuture.allOf(stores.toArray(java.util.concurrent.CompletableFuture[]::new))
                .whenComplete((ok, failure) -> {
                    if (failure != null) {
                        LOG.warn("Could not store the moves in doubt {} gave this node: {}", from, failure.toString());
                    }
                    answerPush(from, id, failure == null);
                });
    }

    private static Map<String, List<WireMessage>> readMessages(DataInputStream in) throws IOException {
        int queues = in.readInt();
        Map<String, List<WireMessage>> byQueue = new java.util.LinkedHashMap<>();
        for (int q = 0; q < queues; q++) {
            String queue = in.readUTF();
            int count = in.readInt();
            List<WireMessage> messages = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                byte[] bytes = new byte[in.readInt()];
                in.readFully(bytes);
                messages.add(FrameCodec.readMessage(Unpooled.wrappedBuffer(bytes)));
            }
            byQueue.computeIfAbsent(queue, k -> new ArrayList<>()).addAll(messages);
        }
        return byQueue;
    }

    private void answerPush(String to, long id, boolean stored) {
        answerPush(to, id, stored, null);
    }

    /** {@code discardedFor}: the takeover this node discarded the pushed moves for (null: none). */
    private void answerPush(String to, long id, boolean stored, TakeoverRecords.Record discardedFor) {
        node.trySend(to, ClusterCodec.encode(PUSHED, out -> {
            out.writeLong(id);
            out.writeBoolean(stored);
            if (discardedFor != null) {
                out.writeLong(discardedFor.epoch());
                out.writeUTF(discardedFor.taker());
            }
        }));
    }
}
