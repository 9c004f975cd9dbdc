package io.tern.cluster;

import io.tern.broker.Broker;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.FailoverInfo;
import io.tern.protocol.NodeInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * When a member leaves the view, its first failover node (by the map of the view before) takes
 * over what it stored: the replica becomes messages of this node's broker. Only in a partition that
 * holds the quorum, so two halves never both take over. Runs off the JGroups thread.
 *
 * <p>Every takeover is recorded with an epoch (the time it happened) by every member, in a file of
 * each node's data directory. A node that comes back with its old disk asks the members before it
 * serves ({@link #checkBeforeServing}); if any recorded a takeover of it, it discards its stored
 * messages, so its old disk never brings back what another node delivered since, and tells the
 * members to forget the record.
 *
 * <pre>
 * message := 'O' node:utf epoch:i64   -- node was taken over at epoch (to every member)
 *          | 'K'                      -- was I taken over? (from a returning node)
 *          | 'N' taken:bool epoch:i64  -- the answer
 *          | 'P'                      -- I discarded what was taken over: forget the record
 * </pre>
 *
 * <p>Not yet handled: a node cut off in a minority partition that is taken over and merges back
 * without a restart.
 */
public final class Takeover implements ClusterListener, ClusterNode.PayloadHandler, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Takeover.class);

    private final String selfId;
    private final ReplicatingStore store;
    private final Broker broker;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "tern-takeover");
        t.setDaemon(true);
        return t;
    });
    private ClusterTopology previous; // guarded by this
    private final ClusterNode node;
    private final java.nio.file.Path recordsFile;
    private final Map<String, Long> records = new java.util.TreeMap<>(); // guarded by records
    private final Map<String, Long> answers = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * @param recordsFile where this node keeps the takeovers it knows of (null: in memory only)
     */
    public Takeover(ClusterNode node, ReplicatingStore store, Broker broker, java.nio.file.Path recordsFile) {
        this.node = node;
        this.selfId = node.self().nodeId();
        this.store = store;
        this.broker = broker;
        this.recordsFile = recordsFile;
        loadRecords();
        node.addPayloadHandler("OKNP", this);
        node.addListener(this);
    }

    private void loadRecords() {
        if (recordsFile == null || !java.nio.file.Files.exists(recordsFile)) {
            return;
        }
        try {
            for (String line : java.nio.file.Files.readAllLines(recordsFile)) {
                String[] parts = line.trim().split(" ");
                if (parts.length == 2) {
                    records.put(parts[0], Long.parseLong(parts[1]));
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            throw new IllegalStateException("cannot read the takeover records in " + recordsFile, e);
        }
    }

    private void saveRecords() {
        if (recordsFile == null) {
            return;
        }
        StringBuilder b = new StringBuilder();
        records.forEach((id, epoch) -> b.append(id).append(' ').append(epoch).append('\n'));
        try {
            java.nio.file.Path tmp = recordsFile.resolveSibling(recordsFile.getFileName() + ".tmp");
            java.nio.file.Files.writeString(tmp, b);
            java.nio.file.Files.move(tmp, recordsFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (java.io.IOException e) {
            LOG.error("Cannot save the takeover records in {}: {}", recordsFile, e.getMessage());
        }
    }

    private void record(String nodeId, Long epoch) {
        synchronized (records) {
            if (epoch == null) {
                records.remove(nodeId);
            } else {
                records.put(nodeId, epoch);
            }
            saveRecords();
        }
    }

    /** The takeovers this node knows of: node id to epoch. */
    public Map<String, Long> records() {
        synchronized (records) {
            return Map.copyOf(records);
        }
    }

    @Override
    public void received(String from, byte[] payload, int offset, int length) {
        java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(payload, offset, length));
        try {
            byte type = in.readByte();
            switch (type) {
                case 'O' -> record(in.readUTF(), in.readLong());
                case 'K' -> {
                    Long epoch;
                    synchronized (records) {
                        epoch = records.get(from);
                    }
                    node.send(from, message('N', out -> {
                        out.writeBoolean(epoch != null);
                        out.writeLong(epoch == null ? 0 : epoch);
                    }));
                }
                case 'N' -> {
                    answers.put(from, in.readBoolean() ? in.readLong() : -1L);
                    synchronized (answers) {
                        answers.notifyAll();
                    }
                }
                case 'P' -> record(from, null);
                default -> LOG.warn("Unknown takeover message {} from {}", type, from);
            }
        } catch (java.io.IOException e) {
            LOG.warn("Malformed takeover message from {}: {}", from, e.getMessage());
        }
    }

    private interface Body {
        void write(java.io.DataOutputStream out) throws java.io.IOException;
    }

    private static byte[] message(char type, Body body) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
            out.writeByte(type);
            body.write(out);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * Before a node that has joined serves clients: asks every other member whether it was taken
     * over; if any says so, discards its stored messages and tells them to forget the record.
     * Members that do not answer within {@code timeoutMs} count as "no".
     *
     * @return the number of stored messages discarded
     */
    public int checkBeforeServing(long timeoutMs) {
        answers.clear();
        List<NodeInfo> others = node.members().stream().filter(m -> !m.nodeId().equals(selfId)).toList();
        node.sendToOthers(message('K', out -> { }));
        long deadlineNs = System.nanoTime() + timeoutMs * 1_000_000L;
        synchronized (answers) {
            while (!others.stream().allMatch(m -> answers.containsKey(m.nodeId()))) {
                long leftMs = (deadlineNs - System.nanoTime()) / 1_000_000L;
                if (leftMs <= 0) {
                    LOG.warn("Not every member answered within {} ms whether it took this node over", timeoutMs);
                    break;
                }
                try {
                    answers.wait(leftMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        long epoch = answers.values().stream().mapToLong(Long::longValue).max().orElse(-1);
        if (epoch < 0) {
            return 0;
        }
        int dropped = broker.discardStoredMessages();
        LOG.warn("This node was taken over while it was gone (epoch {}): discarded {} stored message(s) its "
                + "failover node owns now", epoch, dropped);
        node.sendToOthers(message('P', out -> { }));
        return dropped;
    }

    @Override
    public synchronized void clusterChanged(ClusterTopology topology, boolean quorum) {
        ClusterTopology before = previous;
        previous = topology;
        if (before == null) {
            return;
        }
        Set<String> now = new HashSet<>();
        topology.members().forEach(m -> now.add(m.nodeId()));
        for (NodeInfo gone : before.members()) {
            if (now.contains(gone.nodeId())) {
                continue;
            }
            List<FailoverInfo> failover = before.failover().getOrDefault(gone.nodeId(), List.of());
            if (failover.isEmpty() || !failover.get(0).nodeId().equals(selfId)) {
                continue;
            }
            if (!quorum) {
                LOG.warn("{} left, and this node is its failover node, but this partition has no quorum: no takeover",
                        gone.name());
                continue;
            }
            worker.execute(() -> takeOver(gone));
        }
    }

    private void takeOver(NodeInfo gone) {
        ReplicatingStore.Taken taken = store.takeReplica(gone.nodeId());
        if (taken == null) {
            LOG.warn("{} left and this node is its failover node, but holds no replica of it", gone.name());
            return;
        }
        if (!taken.complete()) {
            LOG.error("{} left before its replica here was in sync: taking over what arrived", gone.name());
        }
        long start = System.nanoTime();
        int count = broker.adopt(taken.queues(), taken.messages(), taken.duplicateIds()).join();
        long epoch = System.currentTimeMillis();
        record(gone.nodeId(), epoch);
        node.sendToOthers(message('O', out -> {
            out.writeUTF(gone.nodeId());
            out.writeLong(epoch);
        }));
        LOG.info("Took over {}: {} queue(s), {} message(s), {} duplicate id(s) in {} ms", gone.name(), taken.queues().size(),
                count, taken.duplicateIds().size(), (System.nanoTime() - start) / 1_000_000);
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
