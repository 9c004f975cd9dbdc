package io.tern.cluster;

import io.tern.broker.ClusterPort;
import io.tern.broker.GroupDirectory;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.NodeInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Which node owns each message group of each queue, across the cluster ({@link GroupDirectory}). One
 * member decides for a group: its <em>arbiter</em>, chosen by rendezvous hashing of the queue and group
 * over the members of the view, so that every member asks the same one and a change of the view moves
 * few groups to a new arbiter. The arbiter gives a group to the first node that claims it, tells every
 * member, and takes it back when its owner releases it; every member keeps the whole map, so a part
 * routes a group's messages without asking, and a new arbiter already knows the groups it decides.
 * When a member leaves, its groups are free. A member that joins is sent the groups each member owns,
 * and answers no claim until every member did (or two seconds passed).
 *
 * <pre>
 * 'g' request:i64 queue:utf group:utf   -- claim the group for the sender (to its arbiter)
 * 'o' request:i64 owner:utf             -- the arbiter's answer: the node that owns it now ("": undecided, ask again)
 * 'p' queue:utf group:utf owner:utf     -- the group is owner's (from its arbiter, or from its owner to a joiner)
 * 'r' queue:utf group:utf               -- the sender releases the group (to its arbiter)
 * 'q' queue:utf group:utf               -- the group is free (from its arbiter)
 * 'y'                                   -- the sender told this joiner every group it owns
 * </pre>
 *
 * Limit: while members see different views (for the moment a view takes to install), two of them may
 * each think they decide a group; a group claimed on two nodes in that moment can have a consumer on
 * each until one of them closes. The same holds for the two sides of a partition that heals before
 * the majority took the minority over (once it does, the minority discards and closes its consumers,
 * which releases their groups): each side keeps the owner it gave until that owner releases.
 */
final class GroupOwnership implements GroupDirectory, ClusterListener, ClusterNode.PayloadHandler {
    private static final Logger LOG = LoggerFactory.getLogger(GroupOwnership.class);
    static final String TYPES = "gopqry";
    /** How long a joiner waits for the others' groups before it decides claims anyway. */
    private static final long SYNC_WAIT_MS = 2000;

    private record Key(String queue, String group) {
    }

    private record Pending(Key key, CompletableFuture<String> done) {
    }

    private final ClusterNode node;
    private final ClusterPort broker;
    private final String self;
    private final Map<Key, String> owners = new ConcurrentHashMap<>();
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong requests = new AtomicLong();
    private volatile List<String> members;
    /** Each member's incarnation in the last view: one that restarted is a new member, its old groups free. */
    private Map<String, String> incarnations = Map.of();
    /** Groups this node released and whose arbiter has not confirmed ('q'): asked again of a new arbiter. */
    private final Set<Key> releasing = ConcurrentHashMap.newKeySet();
    /** Claims that came before this joiner knew the others' groups: decided once it does. */
    private final List<Runnable> beforeSync = new ArrayList<>();
    private Set<String> syncingFrom = Set.of();
    private long syncDeadlineNs;

    GroupOwnership(ClusterNode node, ClusterPort broker) {
        this.node = node;
        this.broker = broker;
        this.self = node.self().nodeId();
        this.members = List.of(self);
        node.addPayloadHandler(TYPES, this);
        node.addListener(this);
        broker.setGroupDirectory(this);
    }

    @Override
    public String owner(String queue, String group) {
        return owners.get(new Key(queue, group));
    }

    @Override
    public CompletableFuture<String> claim(String queue, String group) {
        long id = requests.incrementAndGet();
        Pending p = new Pending(new Key(queue, group), new CompletableFuture<>());
        pending.put(id, p);
        ask(id, p);
        return p.done();
    }

    /** Asks the arbiter of the claim, this node or another; again after a view change, until answered. */
    private void ask(long id, Pending p) {
        String arbiter = arbiterOf(p.key());
        if (arbiter.equals(self)) {
            whenSynced(() -> {
                if (pending.remove(id, p)) {
                    p.done().complete(decide(p.key(), self));
                }
            });
            return;
        }
        byte[] message = ClusterCodec.encode('g', out -> {
            out.writeLong(id);
            out.writeUTF(p.key().queue());
            out.writeUTF(p.key().group());
        });
        if (node.trySend(arbiter, message) != ClusterNode.Sent.SENT && pending.remove(id, p)) {
            // Asked again at the queue's next dispatch; a view change sends the others to the new arbiter.
            p.done().completeExceptionally(new IllegalStateException("the arbiter of the group, " + arbiter + ", is unreachable"));
        }
    }

    @Override
    public void release(String queue, String group) {
        Key key = new Key(queue, group);
        String arbiter = arbiterOf(key);
        if (arbiter.equals(self)) {
            undecide(key, self);
            return;
        }
        // Not this node's from now on, here at once: a consumer that comes meanwhile claims it anew (after this 'r').
        owners.remove(key, self);
        releasing.add(key);
        sendRelease(arbiter, key);
    }

    private void sendRelease(String arbiter, Key key) {
        node.trySend(arbiter, ClusterCodec.encode('r', out -> {
            out.writeUTF(key.queue());
            out.writeUTF(key.group());
        }));
    }

    /**
     * The arbiter's decision: the group is {@code claimant}'s unless it is someone's already; null if
     * the claimant is no member any more (its claim came after the view that dropped it, and a group
     * given to it would never be freed).
     */
    private synchronized String decide(Key key, String claimant) {
        if (!claimant.equals(self) && !members.contains(claimant)) {
            LOG.info("Ignoring the claim of message group {} of queue {} by {}: not a member any more", key.group(),
                    key.queue(), claimant);
            return null;
        }
        String owner = owners.putIfAbsent(key, claimant);
        if (owner != null) {
            return owner;
        }
        byte[] given = put(key, claimant);
        for (String m : members) {
            if (!m.equals(self)) {
                node.trySend(m, given);
            }
        }
        broker.groupChanged(key.queue(), key.group(), false);
        return claimant;
    }

    private synchronized void undecide(Key key, String owner) {
        if (!owners.remove(key, owner)) {
            return;
        }
        byte[] free = ClusterCodec.encode('q', out -> {
            out.writeUTF(key.queue());
            out.writeUTF(key.group());
        });
        for (String m : members) {
            if (!m.equals(self)) {
                node.trySend(m, free);
            }
        }
        broker.groupChanged(key.queue(), key.group(), true);
    }

    private static byte[] put(Key key, String owner) {
        return ClusterCodec.encode('p', out -> {
            out.writeUTF(key.queue());
            out.writeUTF(key.group());
            out.writeUTF(owner);
        });
    }

    /** The member that decides {@code key}: the highest hash of the key with the member's id (rendezvous hashing). */
    private String arbiterOf(Key key) {
        String best = self;
        long bestScore = Long.MIN_VALUE;
        for (String m : members) {
            long score = score(key, m);
            if (score > bestScore || score == bestScore && m.compareTo(best) < 0) {
                best = m;
                bestScore = score;
            }
        }
        return best;
    }

    private static long score(Key key, String member) {
        long h = 0xcbf29ce484222325L; // FNV-1a, then a final mix: the same on every member and JVM
        for (byte b : (key.queue() + '\0' + key.group() + '\0' + member).getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        return h ^ (h >>> 33);
    }

    @Override
    public void received(String from, byte[] payload, int offset, int length) {
        try {
            DataInputStream in = ClusterCodec.reader(payload, offset, length);
            char type = (char) in.readByte();
            switch (type) {
                case 'g' -> {
                    long id = in.readLong();
                    Key key = new Key(in.readUTF(), in.readUTF());
                    whenSynced(() -> {
                        synchronized (this) { // the answer leaves before any 'q' of a release decided after it
                            String owner = decide(key, from);
                            node.trySend(from, ClusterCodec.encode('o', out -> {
                                out.writeLong(id);
                                out.writeUTF(owner == null ? "" : owner);
                            }));
                        }
                    });
                }
                case 'o' -> {
                    long id = in.readLong();
                    String owner = in.readUTF();
                    Pending p = pending.remove(id);
                    if (p != null) {
                        if (owner.isEmpty()) {
                            p.done().complete(null); // undecided: the arbiter does not know this node yet
                            break;
                        }
                        synchronized (this) {
                            if (owner.equals(self) || members.contains(owner)) {
                                // Told before by the arbiter's 'p', unless this node joined since; a 'q' after it removes it.
                                owners.putIfAbsent(p.key(), owner);
                            }
                        }
                        p.done().complete(owner);
                    }
                }
                case 'p' -> {
                    Key key = new Key(in.readUTF(), in.readUTF());
                    String owner = in.readUTF();
                    synchronized (this) {
                        if (!owner.equals(self) && !members.contains(owner)) {
                            break; // its owner left since: the group is free (clusterChanged)
                        }
                        if (from.equals(arbiterOf(key))) {
                            owners.put(key, owner);
                        } else {
                            owners.putIfAbsent(key, owner); // an owner telling a joiner: the arbiter's word wins
                        }
                    }
                    broker.groupChanged(key.queue(), key.group(), false);
                }
                case 'r' -> undecide(new Key(in.readUTF(), in.readUTF()), from);
                case 'q' -> {
                    Key key = new Key(in.readUTF(), in.readUTF());
                    releasing.remove(key);
                    if (owners.remove(key) != null) {
                        broker.groupChanged(key.queue(), key.group(), true);
                    }
                }
                case 'y' -> synced(from);
                default -> LOG.warn("Dropping a group message of unknown type {} from {}", type, from);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("Dropping a malformed group message from {}: {}", from, e.toString());
        }
    }

    private void whenSynced(Runnable decision) {
        synchronized (beforeSync) {
            if (!syncingFrom.isEmpty() && System.nanoTime() - syncDeadlineNs < 0) {
                beforeSync.add(decision);
                return;
            }
        }
        decision.run();
    }

    /** {@code from} told this joiner its groups (or left, or the wait is over: null): decide what waited once all did. */
    private void synced(String from) {
        List<Runnable> now = List.of();
        synchronized (beforeSync) {
            Set<String> waiting = new HashSet<>(syncingFrom);
            if (from == null) {
                waiting.clear();
            } else {
                waiting.remove(from);
            }
            syncingFrom = Set.copyOf(waiting);
            if (waiting.isEmpty()) {
                now = List.copyOf(beforeSync);
                beforeSync.clear();
            }
        }
        now.forEach(Runnable::run);
    }

    @Override
    public void clusterChanged(ClusterTopology topology, boolean quorum) {
        List<String> now = topology.members().stream().map(NodeInfo::nodeId).sorted().toList();
        if (!now.contains(self)) {
            return;
        }
        List<String> before;
        Set<String> left;
        List<Key> freed = new ArrayList<>();
        Map<String, String> nowIncarnations = new java.util.HashMap<>();
        now.forEach(m -> {
            String i = node.incarnation(m);
            if (i != null) {
                nowIncarnations.put(m, i);
            }
        });
        Set<String> restarted = new HashSet<>();
        synchronized (this) { // with decide: no group is given to a member that this view drops and then kept
            before = members;
            members = now;
            left = new HashSet<>(before);
            now.forEach(left::remove);
            // A member that restarted between two views (before it was suspected) owns nothing of its old self.
            incarnations.forEach((m, i) -> {
                if (!m.equals(self) && nowIncarnations.containsKey(m) && !nowIncarnations.get(m).equals(i)) {
                    restarted.add(m);
                }
            });
            incarnations = Map.copyOf(nowIncarnations);
            left.addAll(restarted);
            for (Map.Entry<Key, String> e : owners.entrySet()) {
                if (left.contains(e.getValue()) && owners.remove(e.getKey(), e.getValue())) {
                    freed.add(e.getKey());
                }
            }
        }
        Set<String> joined = new HashSet<>(now);
        before.forEach(joined::remove);
        joined.addAll(restarted);
        joined.remove(self);
        boolean firstView = before.size() == 1 && now.size() > 1;
        if (firstView) {
            synchronized (beforeSync) { // this node joined a cluster: it learns the others' groups first
                syncingFrom = Set.copyOf(joined);
                syncDeadlineNs = System.nanoTime() + SYNC_WAIT_MS * 1_000_000L;
            }
            CompletableFuture.runAsync(() -> synced(null),
                    CompletableFuture.delayedExecutor(SYNC_WAIT_MS, java.util.concurrent.TimeUnit.MILLISECONDS));
        }
        left.forEach(this::synced);
        freed.forEach(k -> broker.groupChanged(k.queue(), k.group(), true)); // its owner left: it is free
        for (String m : joined) {
            owners.forEach((k, owner) -> {
                if (owner.equals(self)) {
                    node.trySend(m, put(k, self));
                }
            });
            node.trySend(m, ClusterCodec.encode('y', out -> { }));
        }
        for (Map.Entry<Long, Pending> e : pending.entrySet()) {
            ask(e.getKey(), e.getValue()); // the arbiter may have changed
        }
        for (Key k : releasing) {
            String arbiter = arbiterOf(k); // the arbiter may have left before it freed the group: asked again
            if (arbiter.equals(self)) {
                releasing.remove(k);
                undecide(k, self);
            } else {
                sendRelease(arbiter, k);
            }
        }
    }
}
