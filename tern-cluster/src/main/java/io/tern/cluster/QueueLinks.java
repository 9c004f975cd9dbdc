package io.tern.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tern.broker.ClusterPort;
import io.tern.broker.FrameSink;
import io.tern.broker.QueueMoves;
import io.tern.broker.ServerConnection;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.Deliver;
import io.tern.protocol.DestinationName;
import io.tern.protocol.Frame;
import io.tern.protocol.FrameCodec;
import io.tern.protocol.Request;
import io.tern.protocol.RequestFrame;
import io.tern.protocol.ResponseFrame;
import io.tern.protocol.WireMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Clustered queues: each node holds a part of every queue, and a node whose consumers want more
 * than its part holds pulls from the other nodes' parts ({@link QueueMoves}). This class carries the
 * cluster links that do it, over the cluster channel, in the client protocol's own frames:
 *
 * <pre>
 * 'l' incarnation:utf link:i64 count:i32 (length:i32 frame)*   -- to the node pulled from: requests of the puller's link
 * 'm' incarnation:utf link:i64 count:i32 (length:i32 frame)*   -- to the puller: deliveries (and answers) of its link
 * </pre>
 *
 * <b>Pulling</b> (this node wants messages): one link to every other member, numbered by the puller
 * (a new number replaces the member's link of the old one), opened by a session request the member
 * answers. A link not answered within {@value #OPEN_TIMEOUT_MS} ms is opened again under a new
 * number: a member that has not installed the view yet ignores what its link brings, and a
 * link whose opening was lost would otherwise stay silent for good. It carries one consumer per
 * queue and selector this node's consumers use, created with no credit. While the queue here is
 * hungry (its consumers could take more than is ready here) each link consumer is given credit,
 * up to {@value #WINDOW} messages and {@link #WINDOW_BYTES} bytes of bodies at a time. What comes is stored here ({@link QueueMoves#storeMoved},
 * replicated like any send) and only then acknowledged on the link: the other node removes it.
 * <b>Serving</b> (another node pulls from this one): its link is a {@link ServerConnection} of this
 * node's broker, which delivers to the link's consumers only what this node's own consumers leave.
 *
 * <p>A link that closes with deliveries not acknowledged leaves them <em>in doubt</em> (the puller
 * may have stored them or not), and so does a takeover of a node that had such deliveries out
 * ({@link io.tern.broker.MovesInDoubt}): {@link InDoubtMoves} gives them to whoever holds the
 * puller's messages now. A member that closes a link it serves (a discard, a stop) tells the puller,
 * which opens it again. No link is kept to a member this node took over that has not discarded yet
 * (it was paused or cut off, and came back unaware): its messages are this node's, from its replica.
 *
 * <p>Pulling state is confined to one thread; the serving side runs on the broker's connection executors.
 */
public final class QueueLinks implements ClusterListener, ClusterNode.PayloadHandler, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(QueueLinks.class);
    /** The most credit one link consumer holds: messages that may be on their way here from one node for one queue. */
    static final int WINDOW = 256;
    /**
     * The most bytes of bodies on their way here for one link consumer (one message larger than this
     * still comes, alone): 256 messages of 256 KiB once moved 64 MiB to a node whose consumers take
     * 1 MiB at a time, where they stayed while consumers elsewhere could have taken them.
     */
    static final int WINDOW_BYTES = Integer.getInteger("tern.linkWindowBytes", 4 * 1024 * 1024);
    private static final char TO_SERVER = 'l';
    private static final char TO_PULLER = 'm';
    static final long RETRY_MS = 250;
    /**
     * How long a new link waits for the member's answer to its opening before it opens again. The
     * channel loses nothing; an opening goes unanswered only when the member ignored it (it had not
     * installed the view yet), while an answer may be slow under load, and opening again puts what
     * the old link had on its way in doubt: so rather late than often (1 s reopened busy links).
     */
    static final long OPEN_TIMEOUT_MS = 5_000;
    /** The correlation id of a link's opening request (the other requests of a link are one-way). */
    private static final long OPEN = 1;
    private static final int SESSION = 1;

    private final ClusterNode node;
    private final ClusterPort broker;
    /** The links' thread; stopped by {@link #close} (the node stops): then nothing more moves through them. */
    private final LinksThread pulling = new LinksThread("tern-queue-links");
    /** Links other members pull through, by member node id. */
    private final Map<String, Served> served = new ConcurrentHashMap<>();
    /** Links closed here because their member left the view, until it is back: then it is told ({@link #tellClosed}). */
    private final Map<String, Served> closedByView = new ConcurrentHashMap<>();
    /** This node's links to the other members, by member node id; confined to {@link #pulling}. */
    private final Map<String, Puller> pullers = new HashMap<>();
    /** The other members now; confined to {@link #pulling}. */
    private Set<String> peers = Set.of();
    /** Moves in doubt: given to whoever holds the node they were on their way to. */
    private final InDoubtMoves inDoubt;
    /** The number of this node's last link; confined to {@link #pulling}. */
    private long links;
    /** Which of this start's links opened before it last discarded. */
    private final LinkDiscards linkDiscards;
    /**
     * Whether this node speaks for a member's messages ({@link Takeover#refuses}, which tells that
     * member): it took that member over and the member has not discarded since. Nothing is pulled
     * from it meanwhile: what its link brings are messages this node took over from its replica.
     */
    private final java.util.function.Predicate<String> speaksFor;
    /** Queues whose demand is looked at again once the members this node speaks for have discarded; confined to {@link #pulling}. */
    private final Set<String> waitingForDiscard = new java.util.HashSet<>();

    /** @param takeover this node's takeover, or null if it does not replicate (then a gone node's moves stay here) */
    public QueueLinks(ClusterNode node, ClusterPort broker, Takeover takeover) {
        this.node = node;
        this.broker = broker;
        this.speaksFor = takeover != null ? takeover::refuses : peer -> false;
        this.linkDiscards = new LinkDiscards(broker::discards);
        this.inDoubt = new InDoubtMoves(node, broker, takeover != null ? takeover::holderOf
                : peer -> node.incarnation(peer) != null ? peer : "",
                takeover != null ? takeover::holdsSettled : peer -> true, speaksFor,
                takeover != null ? takeover.self::lastDiscard : () -> new TakeoverRecords.Record(-1, ""),
                takeover != null ? takeover.history : new TakeoverHistory(), linkDiscards::discardedSince, pulling);
        node.addPayloadHandler("" + TO_SERVER + TO_PULLER, this);
        node.addListener(this);
        broker.moves().setDemandListener((queue, selectors, hungry) -> pulling.execute(() -> demandChanged(queue)));
    }

    // ---- the cluster -------------------------------------------------------------------------------

    @Override
    public void clusterChanged(ClusterTopology topology, boolean quorum) {
        Set<String> now = node.othersIn(topology);
        for (Map.Entry<String, Served> e : served.entrySet()) {
            if (!now.contains(e.getKey()) || !Objects.equals(node.incarnation(e.getKey()), e.getValue().incarnation)) {
                closeServed(e.getKey(), e.getValue(), "it left the view");
                closedByView.put(e.getKey(), e.getValue());
            }
        }
        for (Served s : List.copyOf(closedByView.values())) {
            if (now.contains(s.peer) && closedByView.remove(s.peer, s) && s.incarnation.equals(node.incarnation(s.peer))) {
                // Back with the same start: it may not have seen this node's view without it, and keep the link,
                // waiting for good for deliveries of credit it gave (seen after a pause of the puller).
                tellClosed(s.peer, s.link);
            }
        }
        pulling.execute(() -> membersChanged(now));
    }

    private void membersChanged(Set<String> now) {
        for (String gone : new ArrayList<>(pullers.keySet())) {
            Puller p = pullers.get(gone);
            if (!now.contains(gone) || !Objects.equals(node.incarnation(gone), p.incarnation)) {
                pullers.remove(gone);
                LOG.debug("Link to {} dropped: it left the view (what it had on its way here stays its own)", gone);
            }
        }
        peers = Set.copyOf(now);
        inDoubt.membersChanged(now);
        broker.moves().demand().keySet().forEach(this::demandChanged);
    }

    @Override
    public void received(String from, byte[] payload, int offset, int length) {
        if (pulling.stopped()) {
            return; // the node stops: what comes now stays in doubt at its sender, resolved with this node's taker
        }
        List<Frame> frames;
        String incarnation;
        long link;
        char type;
        try {
            DataInputStream in = ClusterCodec.reader(payload, offset, length);
            type = (char) in.readByte();
            incarnation = in.readUTF();
            link = in.readLong();
            int count = in.readInt();
            frames = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                byte[] bytes = new byte[in.readInt()];
                in.readFully(bytes);
                frames.add(FrameCodec.decode(Unpooled.wrappedBuffer(bytes)));
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("Dropping a malformed cluster link message from {}: {}", from, e.toString());
            return;
        }
        if (type == TO_SERVER) {
            serve(from, incarnation, link, frames);
        } else {
            pulling.execute(() -> pulled(from, incarnation, link, frames));
        }
    }

    private void send(String to, char type, long link, List<Frame> frames) {
        byte[] message = ClusterCodec.encode(type, out -> {
            out.writeUTF(Objects.requireNonNullElse(node.incarnation(node.self().nodeId()), ""));
            out.writeLong(link);
            out.writeInt(frames.size());
            for (Frame f : frames) {
                ByteBuf buf = Unpooled.buffer();
                FrameCodec.encode(f, buf);
                out.writeInt(buf.readableBytes());
                out.write(buf.array(), buf.arrayOffset() + buf.readerIndex(), buf.readableBytes());
            }
        });
        if (node.trySend(to, message) != ClusterNode.Sent.SENT) {
            LOG.debug("Cluster link message to {} not sent: it is not a member, or the send failed", to);
        }
    }

    // ---- serving another member's link ----------------------------------------------------------------

    /** A member's link to this node: the broker's connection for it, writing back over the cluster channel. */
    private final class Served implements FrameSink {
        final String peer;
        final String incarnation;
        final long link;
        final ServerConnection connection;
        private final List<Frame> pending = new ArrayList<>(); // guarded by this
        private volatile boolean closed;

        Served(String peer, String incarnation, long link) {
            this.peer = peer;
            this.incarnation = incarnation;
            this.link = link;
            LOG.debug("Link of member {} opened here", peer);
            this.connection = broker.moves().openLink(peer, new io.tern.broker.PeerStart(incarnation, node.viewId(), link), this);
        }

        @Override
        public synchronized void write(Frame frame) {
            if (!closed) {
                pending.add(frame);
            }
        }

        @Override
        public void flush() {
            List<Frame> out;
            synchronized (this) {
                if (pending.isEmpty() || closed) {
                    return;
                }
                out = new ArrayList<>(pending);
                pending.clear();
            }
            LOG.trace("Link of {}: {} frame(s) back", peer, out.size());
            send(peer, TO_PULLER, link, out);
        }

        /**
         * This node's broker closed the link (it discards what it was taken over for, or it stops):
         * the puller is told, or it would wait for good on a link that no longer serves it (seen
         * after a node restarted and discarded right after the others had opened their links).
         */
        @Override
        public void close() {
            if (served.get(peer) == this) {
                closeServed(peer, this, "the broker closed it");
                tellClosed(peer, link);
            }
        }

        @Override
        public String remoteAddress() {
            return "cluster member " + peer;
        }
    }

    /** Tells {@code peer} that this node does not serve its link {@code link} (any more): it opens a new one. */
    private void tellClosed(String peer, long link) {
        send(peer, TO_PULLER, link, List.of(new ResponseFrame(0, null, new io.tern.protocol.Response.Error(
                io.tern.protocol.ErrorCode.UNKNOWN_SESSION, "this member closed the link"))));
    }

    private static boolean opens(List<Frame> frames) {
        return !frames.isEmpty() && frames.get(0) instanceof RequestFrame r && r.correlationId() == OPEN
                && r.request() instanceof Request.CreateSession;
    }

    private void serve(String from, String incarnation, long link, List<Frame> frames) {
        if (!incarnation.equals(node.incarnation(from))) {
            // A late frame of a start that is gone (frames of two starts of a node are not in order) closes
            // nothing: the link of the start in the view stays.
            LOG.debug("Ignoring a link message of {} from an incarnation not in the view ({} here, {} in the message)", from,
                    node.incarnation(from), incarnation);
            return;
        }
        Served s = served.get(from);
        if (s != null && s.incarnation.equals(incarnation) && link < s.link) {
            return; // a late frame of a link the member replaced: what it had on its way went back when it closed
        }
        if (s != null && (!s.incarnation.equals(incarnation) || s.link != link)) {
            closeServed(from, s, s.incarnation.equals(incarnation) ? "it opened a new link" : "it restarted");
            s = null;
        }
        if (s == null) {
            if (!opens(frames)) {
                // A link closed here (its member left the view for a while) that the member still uses.
                LOG.debug("Link {} of {} is not served here: told it is closed", link, from);
                tellClosed(from, link);
                return;
            }
            s = served.computeIfAbsent(from, f -> new Served(f, incarnation, link));
        }
        LOG.trace("Link of {}: {}", from, frames);
        for (Frame f : frames) {
            if (f instanceof RequestFrame r) {
                s.connection.handle(r);
            }
        }
    }

    private void closeServed(String peer, Served s, String why) {
        if (served.remove(peer, s)) {
            s.closed = true;
            LOG.debug("Link of member {} closed ({}): what it had not acknowledged goes back to its queue", peer, why);
            s.connection.closed();
        }
    }

    // ---- pulling from the other members -------------------------------------------------------------

    /** This node's link to one member. */
    private final class Puller {
        final String peer;
        final String incarnation;
        final long link;
        /** Link consumers by id; and their ids by queue and selector. */
        final Map<Long, LinkConsumer> consumers = new HashMap<>();
        final Map<String, Map<String, Long>> byQueue = new HashMap<>();
        long nextConsumerId;
        /** The member answered the opening: it serves this link. */
        boolean opened;
        /**
         * How often this node had discarded when the link opened. What comes on a link opened before
         * a discard is never stored: the member resolved it with this node's taker (as moves in
         * doubt), however late it arrives here (a paused node reads its backlog after it resumed).
         */
        final long discardsAtOpen;
        /** Whether the messages not stored because of a discard since the link opened were logged. */
        boolean reportedDiscard;
        /** Deliveries that came and wait to be stored, by queue; and the queues with a store on its way. */
        final Map<String, List<Deliver>> toStore = new HashMap<>();
        final Set<String> storing = new java.util.HashSet<>();

        Puller(String peer, String incarnation) {
            this.peer = peer;
            this.incarnation = incarnation;
            this.link = ++links;
            this.discardsAtOpen = linkDiscards.opened(link);
            LOG.debug("Link {} to {} opened: this node's consumers want messages it holds", link, peer);
            send(peer, TO_SERVER, link, List.of(new RequestFrame(OPEN, 0,
                    new Request.CreateSession(SESSION, Request.CLIENT_ACKNOWLEDGE))));
            pulling.schedule(() -> checkOpened(this), OPEN_TIMEOUT_MS);
        }
    }

    /** A link the member has not answered: open it again, with its consumers and credit, under a new number. */
    private void checkOpened(Puller p) {
        if (pullers.get(p.peer) != p || p.opened) {
            return;
        }
        reopen(p, "it was not answered within " + OPEN_TIMEOUT_MS + " ms (the member may not have installed the view yet)");
    }

    /** Opens {@code p}'s link again under a new number, with its consumers and credit. */
    private void reopen(Puller p, String why) {
        LOG.info("Link {} to {}: {}; opening it again", p.link, p.peer, why);
        pullers.remove(p.peer);
        List.copyOf(p.byQueue.keySet()).forEach(this::demandChanged);
    }

    private static final class LinkConsumer {
        final long id;
        final String queue;
        final String selector;
        /** Credit given and not yet used by a delivery. */
        int outstanding;
        /** Bytes of bodies that came since its byte credit was last given back. */
        long arrivedBytes;

        LinkConsumer(long id, String queue, String selector) {
            this.id = id;
            this.queue = queue;
            this.selector = selector;
        }
    }

    private static RequestFrame oneWay(Request r) {
        return new RequestFrame(RequestFrame.ONE_WAY, 0, r);
    }

    /** The demand of {@code queue} here changed (or the members did): consumers and credit on every link follow it. */
    private void demandChanged(String queue) {
        QueueMoves.Demand d = broker.moves().demand().get(queue);
        LOG.debug("Demand for {} here: {} (members {})", queue, d, peers);
        List<String> selectors = d == null ? List.of() : d.selectors();
        for (String peer : peers) {
            if (speaksFor.test(peer)) {
                dropTakenOver(peer, queue);
                continue;
            }
            Puller p = pullers.get(peer);
            if (p == null) {
                if (selectors.isEmpty()) {
                    continue;
                }
                String incarnation = node.incarnation(peer);
                if (incarnation == null) {
                    continue;
                }
                p = new Puller(peer, incarnation);
                pullers.put(peer, p);
            }
            List<Frame> out = new ArrayList<>();
            Map<String, Long> ids = p.byQueue.computeIfAbsent(queue, q -> new LinkedHashMap<>());
            for (Map.Entry<String, Long> e : new ArrayList<>(ids.entrySet())) {
                if (!selectors.contains(e.getKey())) {
                    ids.remove(e.getKey());
                    p.consumers.remove(e.getValue());
                    out.add(oneWay(new Request.CloseConsumer(e.getValue(), new long[0])));
                }
            }
            for (String selector : selectors) {
                if (!ids.containsKey(selector)) {
                    long id = ++p.nextConsumerId;
                    ids.put(selector, id);
                    p.consumers.put(id, new LinkConsumer(id, queue, selector));
                    out.add(oneWay(new Request.CreateConsumer(SESSION, id, new DestinationName(DestinationName.Kind.QUEUE, queue),
                            selector, false, null, Request.SUB_NONE, 0, WINDOW_BYTES)));
                }
            }
            if (ids.isEmpty()) {
                p.byQueue.remove(queue);
            }
            if (d != null && d.hungry()) {
                for (Long id : ids.values()) {
                    LinkConsumer c = p.consumers.get(id);
                    int grant = WINDOW - c.outstanding;
                    if (grant > 0 || c.arrivedBytes > 0) {
                        c.outstanding += Math.max(0, grant);
                        out.add(oneWay(new Request.Credit(id, Math.max(0, grant), (int) Math.min(Integer.MAX_VALUE, c.arrivedBytes))));
                        c.arrivedBytes = 0;
                    }
                }
            }
            if (!out.isEmpty()) {
                send(peer, TO_SERVER, p.link, out);
            }
        }
    }

    /**
     * This node speaks for {@code peer}'s messages (it took {@code peer} over, which has not discarded
     * yet): its link is dropped, and {@code queue}'s demand is looked at again shortly. What that link
     * had on its way here stays out there, and {@code peer} resolves it as moves in doubt, which this
     * node refuses until {@code peer} discards them with the rest ({@link InDoubtMoves}).
     */
    private void dropTakenOver(String peer, String queue) {
        if (pullers.remove(peer) != null) {
            LOG.info("Link to {} dropped: this node took {} over and it has not discarded yet, so what it holds is "
                    + "this node's to deliver (from its replica)", peer, peer);
        }
        if (queue != null && waitingForDiscard.add(queue)) {
            pulling.schedule(() -> {
                waitingForDiscard.remove(queue);
                demandChanged(queue);
            }, RETRY_MS);
        }
    }

    /** Frames from a member's part of the queues this node pulls: store the deliveries here, then acknowledge them there. */
    private void pulled(String from, String incarnation, long link, List<Frame> frames) {
        Puller p = pullers.get(from);
        LOG.trace("Link to {}: {} frame(s) came", from, frames.size());
        if (p == null || !p.incarnation.equals(incarnation) || p.link != link) {
            return; // a link this node dropped: what was on its way stays the member's (it returns it when it sees the link go)
        }
        if (speaksFor.test(from)) {
            dropTakenOver(from, null);
            p.byQueue.keySet().forEach(queue -> dropTakenOver(from, queue));
            return;
        }
        if (p.discardsAtOpen != broker.discards()) {
            long deliveries = frames.stream().filter(f -> f instanceof Deliver).count();
            reopen(p, "it opened before this node discarded what it was taken over for, so " + deliveries + " message(s) "
                    + "that came on it are not stored (" + from + " resolved them with this node's taker)");
            return;
        }
        Map<String, List<Deliver>> byQueue = new LinkedHashMap<>();
        boolean stale = false;
        for (Frame f : frames) {
            if (f instanceof Deliver d) {
                LinkConsumer c = p.consumers.get(d.consumerId());
                if (c == null) {
                    LOG.debug("A delivery from {} for link consumer {}, closed since: not stored, it goes back there", from,
                            d.consumerId());
                    continue;
                }
                c.outstanding = Math.max(0, c.outstanding - 1);
                c.arrivedBytes += Deliver.creditBytes(d.message());
                byQueue.computeIfAbsent(c.queue, q -> new ArrayList<>()).add(d);
            } else if (f instanceof ResponseFrame r && r.response() instanceof io.tern.protocol.Response.Error e) {
                LOG.warn("Member {} refused a request of this node's link: {} {}", from, e.code(), e.message());
                // The member closed its side of the link (this node left its view for a while, and came back
                // with the same incarnation): the link would stay silent for good.
                stale |= e.code() == io.tern.protocol.ErrorCode.UNKNOWN_CONSUMER
                        || e.code() == io.tern.protocol.ErrorCode.UNKNOWN_SESSION;
            } else if (f instanceof ResponseFrame r && r.correlationId() == OPEN) {
                p.opened = true;
            }
        }
        byQueue.forEach((queue, deliveries) -> storeAndAcknowledge(p, from, queue, deliveries));
        if (stale && pullers.get(from) == p) {
            reopen(p, "the member closed its side of it (it discarded what it was taken over for, or this node was out "
                    + "of its view for a while)");
        }
    }

    /**
     * Stores what came on {@code p}'s link for {@code queue}, then acknowledges it there: it leaves
     * that node. One store per queue and link is on its way at a time; what comes meanwhile waits
     * and goes with the next, so a busy link stores and acknowledges in batches (a member delivers
     * as each of its commits lands, one or two messages at a time: stored one by one, each cost a
     * replicated commit here and one there).
     */
    private void storeAndAcknowledge(Puller p, String from, String queue, List<Deliver> deliveries) {
        p.toStore.computeIfAbsent(queue, q -> new ArrayList<>()).addAll(deliveries);
        storeNext(p, from, queue);
    }

    /**
     * Stores what waits for {@code queue} on {@code p}'s link, unless a store of it is on its way.
     * What came on a link opened before this node discarded (it was taken over while paused or cut
     * off) is never stored: the node it came from resolved it as moves in doubt with this node's taker.
     */
    private void storeNext(Puller p, String from, String queue) {
        if (pullers.get(from) != p || p.storing.contains(queue)) {
            return; // the link is gone (that node resolves these with whoever holds this node's messages), or one is on its way
        }
        List<Deliver> deliveries = p.toStore.remove(queue);
        if (deliveries == null || deliveries.isEmpty()) {
            return;
        }
        if (broker.discards() != p.discardsAtOpen) {
            // Logged once per link: after a pause there is one batch of them per delivery window.
            if (!p.reportedDiscard) {
                p.reportedDiscard = true;
                LOG.info("Messages of queue {} that came from {} before this node discarded what it was taken over for "
                        + "are not stored: {} resolved them with this node's taker", queue, from, from);
            }
            LOG.debug("{} message(s) of queue {} from {} not stored: they came before a discard", deliveries.size(), queue, from);
            return;
        }
        if (speaksFor.test(from)) { // taken over since these came: this node holds them already, from its replica
            dropTakenOver(from, queue);
            return;
        }
        if (broker.availability().holdsRequests()) { // checking after a pause: it may have been taken over
            storeLater(p, from, queue, deliveries);
            return;
        }
        List<WireMessage> messages = deliveries.stream().map(Deliver::message).toList();
        long[] ids = deliveries.stream().mapToLong(Deliver::deliveryId).toArray();
        p.storing.add(queue);
        broker.moves().storeMoved(queue, messages).whenCompleteAsync((ok, failure) -> {
            p.storing.remove(queue);
            if (pullers.get(from) != p) {
                return; // the link is gone: that node resolves these deliveries with whoever holds this node's messages
            }
            if (failure != null) {
                // Not acknowledged: they stay out with this link there, and are stored again here shortly.
                LOG.warn("Could not store {} message(s) of queue {} moved from {}: {}; trying again", ids.length,
                        queue, from, failure.toString());
                storeLater(p, from, queue, deliveries);
            } else {
                send(from, TO_SERVER, p.link, List.of(oneWay(new Request.Ack(SESSION, ids))));
                storeNext(p, from, queue);
            }
            demandChanged(queue);
        }, pulling);
    }

    /** Puts {@code deliveries} back ahead of what came since, and stores them all shortly. */
    private void storeLater(Puller p, String from, String queue, List<Deliver> deliveries) {
        List<Deliver> since = p.toStore.put(queue, new ArrayList<>(deliveries));
        if (since != null) {
            p.toStore.get(queue).addAll(since);
        }
        p.storing.add(queue); // what comes meanwhile waits for this retry
        pulling.schedule(() -> {
            p.storing.remove(queue);
            storeNext(p, from, queue);
        }, RETRY_MS);
    }

    @Override
    public void close() {
        // Served links first: closing one leaves its deliveries in doubt, whose resolution is handed
        // to the links' thread (and dropped there once it has stopped), so the close runs to its end.
        served.forEach((peer, s) -> closeServed(peer, s, "this node stops"));
        pulling.stop();
    }
}
