package io.tern.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tern.broker.Broker;
import io.tern.broker.PeerStart;
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
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.LongSupplier;
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
 * <p>Moves in doubt with a start of the peer that is no longer in the view, another start of it
 * being there ({@link io.tern.broker.MovesInDoubt#start}: it restarted before it was found gone),
 * were that earlier start's to store. Its new start discarded what it stored if a member took it
 * over: the holder is then the holder of that taker ({@link TakeoverHistory#takerOf}), which has their
 * ids from the earlier start's replica; else the new start, which kept its store. The push says so
 * ({@code earlier}), and its receiver checks that it does hold what that start stored.
 *
 * <pre>
 * 'd' push:i64 peer:utf queues:i32 (queue:utf count:i32 (length:i32 message)*)* earlier:bool
 *     [incarnation:utf openedInView:i64]               -- moves in doubt, to the holder
 * 'e' push:i64 stored:bool                              -- the holder stored them (or had them)
 * </pre>
 *
 * Confined to the cluster links' thread ({@code pulling}), but for the messages' decoding.
 */
final class InDoubtMoves implements ClusterNode.PayloadHandler {
    private static final Logger LOG = LoggerFactory.getLogger(InDoubtMoves.class);
    private static final char PUSH = 'd';
    private static final char PUSHED = 'e';

    private final ClusterNode node;
    private final Broker broker;
    /** Who holds a node's messages now (null: not settled yet; empty: nobody, they stay here). */
    private final Function<String, String> holderOf;
    private final LinksThread pulling;
    private final Predicate<String> holdsSettled;
    /** Whether this node took a node over that has not discarded since ({@link Takeover#refuses}, which tells it). */
    private final Predicate<String> speaksFor;
    /** Nodes whose pushes this node refuses now (logged once per spell). */
    private final Set<String> refusing = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Moves in doubt given to a holder and not answered yet, by push id. */
    private final Map<Long, Push> pushes = new HashMap<>();
    private long pushIds;

    /** Who took over a start of a member (null: none known here); see {@link TakeoverHistory#takerOf}. */
    private final BiFunction<String, PeerStart, String> takerOf;
    /** The epoch of the newest takeover of this node that it discarded its messages for (-1: none). */
    private final LongSupplier lastDiscarded;

    /** {@code incarnation}: the start of the holder it was given to (another start of it never answers). */
    private record Push(String holder, String incarnation, io.tern.broker.MovesInDoubt moves) {
    }

    /**
     * @param holdsSettled whether this node holds a node's messages, settled: it is that node, or its
     *                     takeover of it is done; a push of moves in doubt with another node waits for that
     */
    InDoubtMoves(ClusterNode node, Broker broker, Function<String, String> holderOf, Predicate<String> holdsSettled,
                 Predicate<String> speaksFor, BiFunction<String, PeerStart, String> takerOf, LongSupplier lastDiscarded,
                 LinksThread pulling) {
        this.node = node;
        this.takerOf = takerOf;
        this.lastDiscarded = lastDiscarded;
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
                pulling.execute(() -> pushed(id, stored));
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
        boolean earlier = earlierStart(moves);
        String holder = !moves.resolvable() ? null : holderOf.apply(earlier ? holderOfStart(moves) : moves.peer());
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
            if (!earlier && !holdsSettled.test(moves.peer())) {
                // The map names this node the peer's failover node, but no takeover of it by this node is
                // recorded: it is under way, or it failed and the peer keeps what it stored. Settled here
                // now, what the peer stored would be delivered here and there (seen after a failed takeover).
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
                out.writeUTF(moves.start().incarnation());
                out.writeLong(moves.start().openedInView());
            }
        });
        LOG.info("{} message(s) on their way to {} when its link closed are in doubt: given to {}, which holds {}", moves.size(),
                moves.peer(), holder, earlier ? "what that start of it stored (it restarted since)" : "its messages now");
        if (node.trySend(holder, message) != ClusterNode.Sent.SENT) {
            pushes.remove(id);
            pulling.schedule(() -> resolve(moves), QueueLinks.RETRY_MS);
        }
    }

    /** True if {@code moves} were with a start of their peer that is gone, another start of it being in the view. */
    private boolean earlierStart(io.tern.broker.MovesInDoubt moves) {
        String now = node.incarnation(moves.peer());
        return moves.start() != null && now != null && !now.equals(moves.start().incarnation());
    }

    /** The node whose holder holds what that earlier start stored: its taker, or the peer itself if none took it over. */
    private String holderOfStart(io.tern.broker.MovesInDoubt moves) {
        String taker = takerOf.apply(moves.peer(), moves.start());
        return taker != null ? taker : moves.peer();
    }

    /**
     * Whether this node holds what {@code start} of {@code peer} stored: it is that peer's later start
     * and has not discarded since that start's link opened (nobody took it over), or it holds the
     * messages of that start's taker, settled.
     */
    private boolean holdsStart(String peer, PeerStart start) {
        if (peer.equals(node.self().nodeId())) {
            return broker.availability().answersForItsMessages() && lastDiscarded.getAsLong() <= start.openedInView();
        }
        String taker = takerOf.apply(peer, start);
        return taker != null && holdsSettled.test(taker);
    }

    /** The holder's answer to a push: stored there, so removed here; or not, so given again. */
    private void pushed(long id, boolean stored) {
        Push p = pushes.remove(id);
        if (p == null) {
            return;
        }
        if (!stored) {
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
        PeerStart start = in.available() > 0 && in.readBoolean() ? new PeerStart(in.readUTF(), in.readLong()) : null;
        if (start != null && !holdsStart(peer, start)) {
            // That start of the peer was taken over by a node whose holder this is not (or not yet), or this is
            // the peer's later start and it discarded what that one stored: the sender finds the taker.
            LOG.debug("Moves in doubt with an earlier start of {} from {}: this node does not hold what it stored", peer, from);
            answerPush(from, id, false);
            return;
        }
        if (start == null && !holdsSettled.test(peer)) {
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
        node.trySend(to, ClusterCodec.encode(PUSHED, out -> {
            out.writeLong(id);
            out.writeBoolean(stored);
        }));
    }
}
