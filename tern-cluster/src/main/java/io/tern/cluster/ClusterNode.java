package io.tern.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.FailoverInfo;
import io.tern.protocol.NodeInfo;
import io.tern.protocol.TopologyCodec;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.Receiver;
import org.jgroups.View;
import org.jgroups.util.ExtendedUUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * This node's membership of a cluster: a JGroups channel whose address carries the node's
 * {@link NodeInfo}, so every member knows every member's id, name, machine and URIs straight from
 * the view, with no exchange that could lag behind it. On every view the failover map is computed
 * by the {@link FailoverPolicy} and, with the quorum rule on, whether this node's partition holds
 * a majority of the last stable view. Listeners hear both.
 *
 * <p>Quorum: the last stable view is the last view in which this node had the quorum. A new view
 * has it if it holds more than half of the last stable view's members; members that announced a
 * graceful leave do not count. A two-node cluster cannot survive a crash under this rule, so it
 * can be turned off (with the risk of both halves of a partition accepting sends).
 */
public final class ClusterNode implements Receiver, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);
    private static final String INFO_KEY = "tern";
    /**
     * A graceful leave, and its acknowledgement ({@link ClusterCodec}):
     * <pre>
     * 'X' node:utf round:i64 -- node leaves: do not count its going against the quorum ({@link MemberPoll})
     * 'x' node:utf round:i64 leaver:utf -- node noted that leave (of the leaver's round)
     * </pre>
     */
    private static final char LEAVING = 'X';
    private static final char LEAVE_SEEN = 'x';
    private static final long LEAVE_WAIT_MS = 2000;

    /**
     * @param cluster    the cluster name (JGroups channel name)
     * @param stack      udp, tcp, kubernetes, loopback or a stack file
     * @param stackProps values for the stack's {@code ${tern.*}} placeholders (bind_addr, mcast_port, ...)
     * @param policy     computes the failover map
     * @param quorumRule whether a node outside a majority partition reports no quorum
     */
    public record Config(String cluster, String stack, Map<String, String> stackProps, FailoverPolicy policy,
                         boolean quorumRule, ClusterSecret secret) {
        public Config {
            Objects.requireNonNull(cluster, "cluster");
            Objects.requireNonNull(stack, "stack");
            stackProps = Map.copyOf(stackProps);
            Objects.requireNonNull(policy, "policy");
        }

        /** A cluster without a secret: its traffic is neither encrypted nor authenticated. */
        public Config(String cluster, String stack, Map<String, String> stackProps, FailoverPolicy policy, boolean quorumRule) {
            this(cluster, stack, stackProps, policy, quorumRule, null);
        }
    }

    private final Config config;
    private final NodeInfo self;
    private final JChannel channel;
    private final List<ClusterListener> listeners = new CopyOnWriteArrayList<>();
    private final Set<String> leaving = new HashSet<>();   // guarded by this
    /** Asks the others to note this node's leave ('X', answered 'x'). */
    private final MemberPoll leaves = new MemberPoll(this, System::nanoTime);
    private Set<String> lastStable;                         // guarded by this
    /** Names of the members of every view seen, by node id: to name the ones a partition misses. */
    private final Map<String, String> namesSeen = new java.util.HashMap<>(); // guarded by this
    /** Names of the last stable view's members this partition misses while it lacks the quorum. */
    private List<String> missing = List.of();               // guarded by this
    private volatile ClusterTopology topology;
    private volatile long viewId = -1;
    /** False if the last view was a merge, or this node missed views before it (see {@link #viewContinuous}). */
    private volatile boolean viewContinuous;
    /** See {@link #continuousWith}. */
    private volatile Set<String> continuousWith = Set.of();
    private final java.util.concurrent.atomic.AtomicLong sendFailures = new java.util.concurrent.atomic.AtomicLong();
    private volatile boolean quorum = true;
    /** Members of the last stable view that count for the quorum of the latest view (graceful leavers do not). */
    private volatile int quorumBase;
    private volatile List<NodeInfo> members = List.of();
    private volatile Map<String, Address> addresses = Map.of();
    /** Node ids of senders, read from their addresses: a message may come before the view that has its sender. */
    private final Map<Address, String> senderIds = new java.util.concurrent.ConcurrentHashMap<>();
    /** Where a node's last message came from: an answer can go back before this node's view has the sender. */
    private final Map<String, Address> senderAddresses = new java.util.concurrent.ConcurrentHashMap<>();
    private final PayloadDispatch payloads = new PayloadDispatch(this::senderId);

    /** Receives the binary messages other members send with {@link #send}; called on a JGroups thread. */
    @FunctionalInterface
    public interface PayloadHandler {
        void received(String fromNodeId, byte[] payload, int offset, int length);

        /**
         * The messages of {@code fromNodeId} that came together (one bundle of the transport, delivered
         * in order on this thread) are all {@link #received}: answers held back to go as one may go now.
         * Called after every message or run of messages, on the thread that received them.
         */
        default void batchEnd(String fromNodeId) {
        }
    }

    private ClusterNode(Config config, NodeInfo self, JChannel channel) {
        this.config = config;
        this.self = self;
        addPayloadHandler("" + LEAVING + LEAVE_SEEN, this::leaveMessage);
        this.channel = channel;
        this.topology = ClusterTopology.single(self);
    }

    /** Joins the cluster; returns once this node is in a view. */
    public static ClusterNode join(Config config, NodeInfo self, ClusterListener... listeners) throws Exception {
        ClusterNode node = create(config, self);
        for (ClusterListener l : listeners) {
            node.listeners.add(l);
        }
        node.connect();
        return node;
    }

    /**
     * A node not yet in its cluster: add listeners and a payload handler, then {@link #connect()},
     * so that nothing the cluster says before then is missed.
     */
    public static ClusterNode create(Config config, NodeInfo self) throws Exception {
        return create(config, self, NodeStart.now(null));
    }

    /** As {@link #create(Config, NodeInfo)}, for this start of the node ({@link NodeStart}). */
    static ClusterNode create(Config config, NodeInfo self, NodeStart start) throws Exception {
        String xml = StackConfig.load(config.stack(), config.stackProps());
        JChannel channel = new JChannel(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        if (config.secret() != null) {
            config.secret().protect(channel);
        }
        byte[] info = encode(self);
        byte[] started = start.encode();
        channel.addAddressGenerator(() -> {
            ExtendedUUID address = ExtendedUUID.randomUUID(self.name());
            address.put(INFO_KEY, info);
            address.put(NodeStart.KEY, started);
            return address;
        });
        channel.setName(self.name());
        channel.setDiscardOwnMessages(true);
        ClusterNode node = new ClusterNode(config, self, channel);
        Class<? extends org.jgroups.stack.Protocol> confirmsSuspicions = channel.getProtocolStack()
                .findProtocol(org.jgroups.protocols.VERIFY_SUSPECT2.class) != null ? org.jgroups.protocols.VERIFY_SUSPECT2.class
                : channel.getProtocolStack().findProtocol(org.jgroups.protocols.FD_ALL3.class) != null
                ? org.jgroups.protocols.FD_ALL3.class : null;
        if (confirmsSuspicions != null) {
            channel.getProtocolStack().insertProtocol(new SuspectWatch(name -> node.suspectListeners.forEach(l -> l.accept(name))),
                    org.jgroups.stack.ProtocolStack.Position.ABOVE, confirmsSuspicions);
        }
        channel.setReceiver(node);
        return node;
    }

    /** Joins the cluster; returns once this node is in a view. */
    public void connect() throws Exception {
        try {
            channel.connect(config.cluster());
        } catch (Exception e) {
            channel.close();
            throw e;
        }
        LOG.info("Joined cluster {} as {} over the {} stack{}", config.cluster(), self.name(), config.stack(),
                config.secret() != null ? ", encrypted and admitting only members with the cluster secret" : "");
        mergeWatch = MergeWatch.start(channel, self.name());
    }

    private final java.util.List<java.util.function.Consumer<String>> suspectListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Tells {@code listener} the name of every member failure detection suspects (and VERIFY_SUSPECT2 confirms). */
    public void onSuspected(java.util.function.Consumer<String> listener) {
        suspectListeners.add(listener);
    }

    /** Keeps JGroups' merge tasks running on this node (null: the stack merges no partitions). */
    private volatile MergeWatch mergeWatch;

    static byte[] encode(NodeInfo node) {
        ByteBuf buf = Unpooled.buffer();
        try {
            TopologyCodec.write(new ClusterTopology(List.of(node), Map.of(), false), buf);
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            return bytes;
        } finally {
            buf.release();
        }
    }

    static NodeInfo decode(byte[] bytes) {
        List<NodeInfo> one = TopologyCodec.read(Unpooled.wrappedBuffer(bytes)).members();
        if (one.size() != 1) {
            throw new IllegalArgumentException("a member's address carries " + one.size() + " node infos");
        }
        return one.get(0);
    }

    public void addListener(ClusterListener l) {
        listeners.add(l);
    }

    public NodeInfo self() {
        return self;
    }

    public ClusterTopology topology() {
        return topology;
    }

    /**
     * With the quorum rule on: how many members of the last stable view counted for the quorum of
     * the latest view (a majority of them makes the quorum); 0 with the rule off.
     */
    public int quorumBase() {
        return config.quorumRule() ? quorumBase : 0;
    }

    public boolean hasQuorum() {
        return quorum;
    }

    /** The members of the current view, in view order. */
    public List<NodeInfo> members() {
        return members;
    }

    /** How long a silent member takes to be suspected (FD_ALL3's timeout); -1 if the stack has no such detection. */
    public long failureDetectionMs() {
        org.jgroups.protocols.FD_ALL3 fd = channel.getProtocolStack().findProtocol(org.jgroups.protocols.FD_ALL3.class);
        return fd == null ? -1 : fd.getTimeout();
    }

    /** The JGroups channel, for fault injection in tests ({@code DISCARD} in the loopback stack). */
    public JChannel jgroupsChannel() {
        return channel;
    }

    /**
     * Where binary messages from other members go, by their first byte: each character of
     * {@code types} is a message type {@code handler} takes (replication takes some, takeover others).
     */
    public void addPayloadHandler(String types, PayloadHandler handler) {
        payloads.add(types, handler);
    }

    /** The node ids of {@code topology}'s members but this node. */
    public Set<String> othersIn(ClusterTopology topology) {
        Set<String> others = new java.util.HashSet<>();
        for (NodeInfo m : topology.members()) {
            if (!m.nodeId().equals(self.nodeId())) {
                others.add(m.nodeId());
            }
        }
        return others;
    }

    /** Sends {@code payload} to every other member of the view. */
    public void sendToOthers(byte[] payload) {
        for (String id : addresses.keySet()) {
            if (!id.equals(self.nodeId())) {
                send(id, payload);
            }
        }
    }

    /** What became of a message to one member. */
    public enum Sent {
        /** Handed to JGroups, which delivers it reliably and in order while both are members. */
        SENT,
        /** That node is not a member (not in the view, and it sent nothing lately). */
        NOT_A_MEMBER,
        /** The node is a member, but the send threw: the message did not leave. */
        FAILED
    }

    /**
     * Sends {@code payload} to the member {@code nodeId}, reliably and in order with everything else
     * this node sends it (JGroups UNICAST3); false if it did not leave ({@link #trySend} says why).
     */
    public boolean send(String nodeId, byte[] payload) {
        return trySend(nodeId, payload) == Sent.SENT;
    }

    /**
     * As {@link #send}, telling "not a member" apart from "the send failed". A failed send is
     * counted ({@link #sendFailures}) and logged at WARN: it is never a quiet success.
     */
    public Sent trySend(String nodeId, byte[] payload) {
        Address to = addresses.get(nodeId);
        if (to == null) {
            to = senderAddresses.get(nodeId);
        }
        if (to == null) {
            return Sent.NOT_A_MEMBER;
        }
        byte[] framed = ClusterCodec.envelope(payload);
        try {
            channel.send(new BytesMessage(to, framed));
            return Sent.SENT;
        } catch (Exception e) {
            long n = sendFailures.incrementAndGet();
            LOG.warn("Could not send a cluster message to {} (failed sends: {}): {}", nodeId, n, e.toString());
            return Sent.FAILED;
        }
    }

    /** How many sends to a member threw since this node started. */
    public long sendFailures() {
        return sendFailures.get();
    }

    /**
     * The id of the view this node is in: the cluster's coordinator numbers views in order, and a
     * merge numbers its view above every merged one, so a later view of the same cluster (in which a
     * node came back and left again) always has a greater id, whatever the members' clocks say.
     */
    /**
     * True if this node installed the view before the current one, and the current one is not a
     * merge: it saw every change of the membership. False for its first view, after a merge, and when
     * it missed views (it was paused while the others went on without it): what it learned from a
     * member before may be stale, as that member may have changed its failover nodes meanwhile.
     */
    public boolean viewContinuous() {
        return viewContinuous;
    }

    /**
     * The members (node ids) this node went on with, missing no view of theirs, up to the last view:
     * all of them if that view was the next one; at a merge, those of this node's own subgroup if this
     * node missed no view of it (the others were apart); none if this node missed views.
     */
    public Set<String> continuousWith() {
        return continuousWith;
    }

    private Set<String> subgroupWithoutMissedViews(View view, Map<String, Address> byId) {
        if (!(view instanceof org.jgroups.MergeView merge) || viewId < 0) {
            return Set.of();
        }
        Address me = channel.getAddress();
        for (View sub : merge.getSubgroups()) {
            if (sub.containsMember(me) && sub.getViewId().getId() == viewId) {
                Set<String> ids = new HashSet<>();
                byId.forEach((id, a) -> {
                    if (sub.containsMember(a)) {
                        ids.add(id);
                    }
                });
                return Set.copyOf(ids);
            }
        }
        return Set.of();
    }

    public long viewId() {
        return viewId;
    }

    /**
     * Which start of node {@code nodeId} is in the view: its address, new at every start, so a node
     * that restarted between two views has another incarnation in the second. Null if it is not a member.
     */
    public String incarnation(String nodeId) {
        return startOf(addresses.get(nodeId));
    }

    private static String startOf(Address a) {
        return a instanceof org.jgroups.util.UUID u ? u.toStringLong() : a == null ? null : a.toString();
    }

    /**
     * True if start {@code incarnation} of some node (see {@link #incarnation}) is a member of the
     * JGroups view now, the live start of its node or an earlier one not yet found gone.
     */
    public boolean startInView(String incarnation) {
        View v = channel.getView();
        return v != null && v.getMembers().stream().anyMatch(a -> incarnation.equals(startOf(a)));
    }

    @Override
    public void viewAccepted(View view) {
        List<NodeInfo> infos = new ArrayList<>();
        Map<String, Address> byId = new HashMap<>();
        for (Address a : view.getMembers()) {
            byte[] info = a instanceof ExtendedUUID e ? e.get(INFO_KEY) : null;
            if (info == null) {
                LOG.warn("Member {} of cluster {} is not a Tern node (no node info in its address); ignored", a,
                        config.cluster());
                continue;
            }
            try {
                NodeInfo n = decode(info);
                Address other = byId.get(n.nodeId());
                if (other != null) {
                    // A node that restarted before its previous self was suspected: the later start is the live one.
                    LOG.info("Node {} restarted: its previous incarnation is in the view until it is suspected", n.name());
                    if (!startedLater(a, other)) {
                        continue;
                    }
                    infos.removeIf(i -> i.nodeId().equals(n.nodeId()));
                }
                infos.add(n);
                byId.put(n.nodeId(), a);
            } catch (RuntimeException e) {
                LOG.warn("Member {} of cluster {} sent node info that cannot be read: {}", a, config.cluster(), e.getMessage());
            }
        }
        FailoverMap map = config.policy().compute(infos);
        boolean q = updateQuorum(infos);
        Map<String, List<FailoverInfo>> failover = new LinkedHashMap<>();
        map.failover().forEach((id, nodes) -> failover.put(id,
                nodes.stream().map(n -> new FailoverInfo(n.nodeId(), n.name(), n.clientUris())).toList()));
        ClusterTopology t = new ClusterTopology(infos, failover, map.machineRedundant(), q, missingMembers(),
                config.secret() != null);
        boolean quorumChanged = q != quorum;
        members = List.copyOf(infos);
        addresses = Map.copyOf(byId);
        long id = view.getViewId().getId();
        viewContinuous = viewId >= 0 && id == viewId + 1 && !(view instanceof org.jgroups.MergeView);
        continuousWith = viewContinuous ? Set.copyOf(byId.keySet()) : subgroupWithoutMissedViews(view, byId);
        viewId = id;
        senderIds.keySet().retainAll(view.getMembers());
        senderAddresses.values().retainAll(view.getMembers());
        topology = t;
        quorum = q;
        LOG.info("View {} of cluster {}: {} member(s) {}; failover {}{}", view.getViewId(), config.cluster(), infos.size(),
                infos.stream().map(NodeInfo::name).toList(), describe(map),
                config.quorumRule() ? (q ? "; quorum held" : "; NO QUORUM: this node refuses sends") : "");
        if (quorumChanged) {
            LOG.warn("Quorum {} on {}", q ? "regained" : "lost", self.name());
        }
        for (ClusterListener l : listeners) {
            try {
                l.clusterChanged(t, q);
            } catch (RuntimeException e) {
                LOG.warn("Cluster listener failed", e);
            }
        }
    }

    /** Of two starts of one node in a view, whether {@code a} is the live one: this node's own address always is. */
    private boolean startedLater(Address a, Address other) {
        Address me = channel.getAddress();
        return a.equals(me) || !other.equals(me) && NodeStart.later(a, other);
    }

    private static String describe(FailoverMap map) {
        StringBuilder b = new StringBuilder();
        map.failover().forEach((id, nodes) -> b.append(b.length() == 0 ? "" : ", ").append(id, 0, Math.min(8, id.length()))
                .append("->").append(nodes.stream().map(NodeInfo::name).toList()));
        return b + (map.machineRedundant() ? "" : " (no machine-level redundancy)");
    }

    private synchronized boolean updateQuorum(List<NodeInfo> view) {
        if (!config.quorumRule()) {
            return true;
        }
        Set<String> now = new HashSet<>();
        view.forEach(n -> {
            now.add(n.nodeId());
            namesSeen.put(n.nodeId(), n.name());
        });
        missing = List.of();
        if (lastStable == null) {
            lastStable = now;
            quorumBase = now.size();
            return true;
        }
        lastStable.removeAll(leaving);
        leaving.retainAll(now);
        quorumBase = lastStable.size();
        long present = lastStable.stream().filter(now::contains).count();
        boolean q = lastStable.isEmpty() || present * 2 > lastStable.size();
        if (q) {
            lastStable = now;
        } else {
            missing = lastStable.stream().filter(id -> !now.contains(id)).map(id -> namesSeen.getOrDefault(id, id)).sorted()
                    .toList();
        }
        return q;
    }

    /** The last stable view's members this partition misses, by name; empty while it holds the quorum. */
    synchronized List<String> missingMembers() {
        return missing;
    }

    @Override
    public void receive(Message msg) {
        payloads.receive(msg);
    }

    @Override
    public void receive(org.jgroups.util.MessageBatch batch) {
        payloads.receive(batch);
    }

    /** Messages of another cluster protocol version dropped since this node started. */
    public long foreignMessages() {
        return payloads.foreignMessages();
    }

    private void leaveMessage(String from, byte[] payload, int offset, int length) {
        String node;
        try {
            java.io.DataInputStream in = ClusterCodec.reader(payload, offset, length);
            char type = (char) in.readByte();
            node = in.readUTF();
            long round = in.available() >= 8 ? in.readLong() : 0; // 0: from a node of an earlier version
            if (type == LEAVING) {
                synchronized (this) {
                    leaving.add(node);
                }
                sendLeave(senderAddresses.get(from), LEAVE_SEEN, round, node);
            } else if (in.available() == 0 || in.readUTF().equals(self.nodeId())) { // another leaver's round: not ours
                leaves.answered(round, node, Boolean.TRUE);
            }
        } catch (java.io.IOException e) {
            LOG.warn("Dropping a malformed leave message from {}: {}", from, e.toString());
        }
    }

    private String senderId(Address a) {
        if (a == null) {
            return null;
        }
        String id = senderIds.computeIfAbsent(a, x -> {
            byte[] info = x instanceof ExtendedUUID e ? e.get(INFO_KEY) : null;
            return info == null ? null : decode(info).nodeId();
        });
        if (id != null) {
            senderAddresses.put(id, a);
        }
        return id;
    }

    /** Sends that this node noted {@code leaver}'s leave (its {@code round}) to {@code to} (null: every member). */
    private void sendLeave(Address to, char type, long round, String leaver) {
        byte[] message = ClusterCodec.encode(type, out -> {
            out.writeUTF(self.nodeId());
            out.writeLong(round);
            out.writeUTF(leaver);
        });
        try {
            channel.send(new BytesMessage(to, ClusterCodec.envelope(message)));
        } catch (Exception e) {
            LOG.debug("Could not send leave message {} to {}: {}", type, to, e.getMessage());
        }
    }

    private byte[] leaveMessage(char type, long round) {
        return ClusterCodec.encode(type, out -> {
            out.writeUTF(self.nodeId());
            out.writeLong(round);
        });
    }

    /**
     * Leaves gracefully: tells the others first and waits (up to 2 s) until each has noted it, so
     * that the leave does not count against their quorum as a crash would.
     */
    @Override
    public void close() {
        MergeWatch w = mergeWatch;
        if (w != null) {
            w.close();
        }
        if (channel.isConnected()) {
            leaves.ask(round -> leaveMessage(LEAVING, round), leaves.everyOtherMember(), LEAVE_WAIT_MS);
        }
        channel.close();
    }
}
