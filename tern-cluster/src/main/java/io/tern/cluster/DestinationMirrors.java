package io.tern.cluster;

import io.tern.broker.ClusterPort;
import io.tern.broker.QueueMoves;
import io.tern.protocol.ClusterTopology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.DataInputStream;
import java.io.IOException;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Topics, shared subscriptions and temporary destinations across nodes: a subscription (or a
 * temporary queue) created on one node, its <em>home</em>, has a part on every other node, so that
 * what is published (or sent) there is kept for it; the home's consumers pull those parts like any
 * queue ({@link QueueLinks}). A temporary topic is homed too: the other nodes know it exists, so
 * that they accept publications to it (its subscriptions have their parts like any other).
 *
 * <pre>
 * 'h' request:i64 length:i32 definition  -- the sender homes this destination: keep a part of it
 * 'i' request:i64                        -- the part is here
 * 'j' name:utf everywhere:bool           -- the sender no longer homes it (everywhere: it is gone everywhere)
 * </pre>
 *
 * A non-durable destination's part goes when no node homes it any more (its homes said so or left
 * the view); a durable subscription's only when it is unsubscribed. A member that joins is told
 * what every other member homes.
 */
final class DestinationMirrors implements QueueMoves.Mirrors, ClusterListener, ClusterNode.PayloadHandler, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DestinationMirrors.class);
    static final String TYPES = "hij";

    private final ClusterNode node;
    private final ClusterPort broker;
    /** Destination name to the other nodes that home it. */
    private final Map<String, Set<String>> homes = new ConcurrentHashMap<>();
    /** Homing a destination asks the others for their parts ('h', answered 'i'). */
    private final MemberPoll poll;
    private volatile Set<String> members = Set.of();
    /** Where the broker's side of it runs, in order, off the cluster's thread (it waits for queue executors). */
    private final java.util.concurrent.ExecutorService work = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "tern-destination-parts");
        t.setDaemon(true);
        return t;
    });

    DestinationMirrors(ClusterNode node, ClusterPort broker) {
        this.node = node;
        this.broker = broker;
        this.poll = new MemberPoll(node, System::nanoTime);
        node.addPayloadHandler(TYPES, this);
        node.addListener(this);
        broker.moves().setMirrors(this);
    }

    /**
     * How long a round of homing stays open for members that do not answer (the broker waits less,
     * and says so: {@link QueueMoves#homed}); a member that leaves the view is not waited for.
     */
    static final long HOME_ROUND_MS = 60_000;

    @Override
    public CompletableFuture<Void> homed(String name, byte[] definition) {
        Set<String> asked = members;
        // Enough once every member asked has its part, or has left the view.
        return poll.<Boolean>askAsync(id -> homeMessage(id, definition),
                got -> asked.stream().allMatch(m -> got.containsKey(m) || !members.contains(m)), HOME_ROUND_MS)
                .thenAccept(got -> { });
    }

    private static byte[] homeMessage(long id, byte[] definition) {
        return ClusterCodec.encode('h', out -> {
            out.writeLong(id);
            out.writeInt(definition.length);
            out.write(definition);
        });
    }

    @Override
    public void unhomed(String name, boolean everywhere) {
        byte[] message = ClusterCodec.encode('j', out -> {
            out.writeUTF(name);
            out.writeBoolean(everywhere);
        });
        for (String m : members) {
            node.trySend(m, message);
        }
    }

    @Override
    public boolean homedElsewhere(String name) {
        Set<String> h = homes.get(name);
        return h != null && !h.isEmpty();
    }

    @Override
    public void received(String from, byte[] payload, int offset, int length) {
        try {
            DataInputStream in = ClusterCodec.reader(payload, offset, length);
            char type = (char) in.readByte();
            if (type == 'h') {
                long id = in.readLong();
                byte[] definition = new byte[in.readInt()];
                in.readFully(definition);
                homes.computeIfAbsent(QueueMoves.nameOf(definition), n -> ConcurrentHashMap.newKeySet()).add(from);
                work.execute(() -> { // off the cluster's thread: creating the part may wait for the destinations
                    broker.moves().mirror(definition);
                    node.trySend(from, ClusterCodec.encode('i', out -> out.writeLong(id)));
                });
            } else if (type == 'i') {
                poll.answered(in.readLong(), from, Boolean.TRUE);
            } else {
                String name = in.readUTF();
                boolean everywhere = in.readBoolean();
                Set<String> h = homes.get(name);
                if (h != null) {
                    h.remove(from);
                }
                if (everywhere || !homedElsewhere(name)) {
                    homes.remove(name);
                    work.execute(() -> broker.moves().unmirror(name, everywhere));
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("Dropping a malformed destination message from {}: {}", from, e.toString());
        }
    }

    @Override
    public void clusterChanged(ClusterTopology topology, boolean quorum) {
        Set<String> now = node.othersIn(topology);
        Set<String> joined = new HashSet<>(now);
        joined.removeAll(members);
        Set<String> left = new HashSet<>(members);
        left.removeAll(now);
        members = Set.copyOf(now);
        poll.reconsider(); // a member that left has no part to wait for
        for (Map.Entry<String, Set<String>> e : homes.entrySet()) {
            if (e.getValue().removeAll(left) && e.getValue().isEmpty()) {
                homes.remove(e.getKey());
                String name = e.getKey();
                // Its homes are gone: a non-durable part goes (a durable subscription's stays).
                work.execute(() -> broker.moves().unmirror(name, false));
            }
        }
        if (!joined.isEmpty()) {
            work.execute(() -> {
                for (byte[] definition : broker.moves().shared()) {
                    byte[] message = homeMessage(0, definition);
                    joined.forEach(m -> node.trySend(m, message));
                }
            });
        }
        if (!left.isEmpty() || !joined.isEmpty()) {
            LOG.debug("Members joined {} left {}: parts of destinations follow", joined, left);
        }
    }

    @Override
    public void close() {
        work.shutdownNow();
    }
}
