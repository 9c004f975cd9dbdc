package io.tern.cluster;

import io.tern.broker.store.StoreBatch;
import io.tern.broker.store.StoreBatchCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.DataInputStream;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * Before a takeover, the failover node makes sure it takes over from the best replica of the gone
 * node the members hold, and gets it handed over if another member's is better than its own.
 *
 * <p>The failover node of the map is not always the one whose replica is current: when the map
 * changed shortly before the node died, the new failover node may still wait for its snapshot (or,
 * if it missed views, hold a stale replica it does not know is stale), while the former failover
 * node still holds a current one: the primary keeps replicating to it until the new ones are in
 * sync (see {@link ReplicatingStore}). So the taker asks every member what it holds of the gone
 * node (the same start of it), and if a member holds a replica that is complete and further along
 * than its own, that member streams it over, and the taker takes over from that.
 *
 * <pre>
 * message := 'G' round:i64 primary:utf incarnation:utf  -- what do you hold of this start of primary?
 *          | 'H' round:i64 has:bool [lastBatch:i64 complete:bool incarnation:utf]
 *          | 'L' primary:utf incarnation:utf             -- hand your replica of it over to me
 *          | 'I' primary:utf lastBatch:i64 incarnation:utf  -- the replica handed over follows
 *          | 'J' primary:utf batch                       -- part of it
 *          | 'M' primary:utf ok:bool                     -- its end (false: the holder had none any more)
 * </pre>
 */
final class ReplicaHandover implements ClusterNode.PayloadHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaHandover.class);
    static final String TYPES = "GHLIJM";
    /** How long the members' answers are waited for (a member that does not answer is paused, or just joined). */
    private static final long ANSWER_WAIT_MS = 2000;
    private static final long HANDOVER_WAIT_MS = 30_000;

    private final ClusterNode node;
    private final MemberPoll poll;
    private final Replicas replicas;
    private final LongSupplier clock;
    /** Replicas being handed over to this node: primary to the future completed at their end. */
    private final Map<String, CompletableFuture<Boolean>> incoming = new ConcurrentHashMap<>();
    private final Map<String, Replica> receiving = new ConcurrentHashMap<>();
    private final ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "tern-replica-handover");
        t.setDaemon(true);
        return t;
    });

    ReplicaHandover(ClusterNode node, MemberPoll poll, Replicas replicas, LongSupplier nanoClock) {
        this.node = node;
        this.poll = poll;
        this.replicas = replicas;
        this.clock = nanoClock;
        node.addPayloadHandler(TYPES, this);
    }

    /** A holder of a replica, and what it holds. */
    private record Holder(String member, Replicas.Report report) {
    }

    /**
     * Makes this node's replica of start {@code incarnation} (empty: any) of {@code primary} the best
     * one the members hold: asks them, and if one holds a complete replica further along than this
     * node's, has it handed over. Returns once this node's replica is the one to take over from (or
     * the better one could not be had: then this node's own, and that is logged).
     */
    void fetchBest(String primary, String incarnation) {
        Replicas.Report own = replicas.report(primary, incarnation);
        if (own != null && own.complete() && own.verified()) {
            // In sync, and this node saw every view since: it got every batch the primary sent it, and no commit
            // completed without this node's confirmation, so no other replica can hold more that counts.
            return;
        }
        Holder best = ask(primary, incarnation, ANSWER_WAIT_MS);
        String name = primary.substring(0, Math.min(8, primary.length()));
        if (best == null || !best.report().complete() || !best.report().betterThan(own)) {
            LOG.warn("Taking over {} from this node's replica ({}): no member holds a better one", name, describe(own));
            return;
        }
        LOG.warn("Member {} holds a better replica of {} ({}) than this node ({}): it hands it over", best.member(), name,
                describe(best.report()), describe(own));
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        incoming.put(primary, done);
        try {
            node.send(best.member(), ClusterCodec.encode('L', out -> {
                out.writeUTF(primary);
                out.writeUTF(incarnation);
            }));
            long deadlineNs = clock.getAsLong() + HANDOVER_WAIT_MS * 1_000_000L;
            while (true) {
                try {
                    if (done.get(100, TimeUnit.MILLISECONDS)) {
                        LOG.info("Replica of {} handed over by {}: at its batch {}", name, best.member(),
                                best.report().lastBatch());
                    } else {
                        LOG.error("Member {} could not hand its replica of {} over (it no longer held it, or a send "
                                + "failed): taking over from this node's", best.member(), name);
                    }
                    return;
                } catch (TimeoutException e) {
                    if (node.incarnation(best.member()) == null || clock.getAsLong() - deadlineNs > 0) {
                        LOG.error("The replica of {} was not handed over by {} (it left, or took too long): taking over "
                                + "from this node's own", name, best.member());
                        return;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            LOG.error("The hand-over of the replica of {} failed: {}", name, e.getCause().toString());
        } finally {
            synchronized (receiving) {
                incoming.remove(primary);
                Replica r = receiving.remove(primary);
                if (r != null && !replicas.isHeld(primary, r)) {
                    r.closePages(); // not installed: its page file goes
                }
            }
        }
    }

    private static String describe(Replicas.Report r) {
        return r == null ? "none" : "batch " + r.lastBatch() + (r.complete() ? "" : ", incomplete")
                + (r.verified() ? "" : ", unverified");
    }

    /** Asks every other member; the best holder among the answers that came within {@code waitMs}, or null. */
    private Holder ask(String primary, String incarnation, long waitMs) {
        Map<String, Replicas.Report> got = poll.ask(round -> ClusterCodec.encode('G', out -> {
            out.writeLong(round);
            out.writeUTF(primary);
            out.writeUTF(incarnation);
        }), poll.everyOtherMember(), waitMs);
        Holder best = null;
        for (Map.Entry<String, Replicas.Report> a : got.entrySet()) {
            Replicas.Report r = a.getValue();
            if (r.lastBatch() >= 0 && (best == null || r.betterThan(best.report()))) {
                best = new Holder(a.getKey(), r);
            }
        }
        return best;
    }

    @Override
    public void received(String from, byte[] payload, int offset, int length) {
        DataInputStream in = ClusterCodec.reader(payload, offset, length);
        try {
            byte type = in.readByte();
            switch (type) {
                case 'G' -> {
                    long round = in.readLong();
                    Replicas.Report r = replicas.report(in.readUTF(), in.readUTF());
                    node.send(from, ClusterCodec.encode('H', out -> {
                        out.writeLong(round);
                        out.writeBoolean(r != null);
                        if (r != null) {
                            out.writeLong(r.lastBatch());
                            out.writeBoolean(r.complete());
                            out.writeUTF(r.incarnation());
                        }
                    }));
                }
                case 'H' -> {
                    long round = in.readLong();
                    Replicas.Report r = new Replicas.Report("", -1, false, false); // a member with none answers too
                    if (in.readBoolean()) {
                        long lastBatch = in.readLong();
                        boolean complete = in.readBoolean();
                        r = new Replicas.Report(in.readUTF(), lastBatch, complete, true);
                    }
                    poll.answered(round, from, r);
                }
                case 'L' -> {
                    String primary = in.readUTF();
                    String incarnation = in.readUTF();
                    sender.execute(() -> handOver(from, primary, incarnation));
                }
                case 'I' -> {
                    String primary = in.readUTF();
                    long lastBatch = in.readLong();
                    String incarnation = in.readUTF();
                    synchronized (receiving) { // against the hand-over given up on (fetchBest's finally)
                        if (incoming.containsKey(primary)) {
                            // Received apart: if the holder dies halfway, this node still has its own replica.
                            Replica r = replicas.forHandOver(primary);
                            r.beginSnapshot(lastBatch, incarnation);
                            Replica before = receiving.put(primary, r);
                            if (before != null) {
                                before.closePages();
                            }
                        }
                    }
                }
                case 'J' -> {
                    String primary = in.readUTF();
                    byte[] batch = in.readAllBytes();
                    synchronized (receiving) { // a replica given up on meanwhile has its page file closed
                        Replica r = receiving.get(primary);
                        if (r != null) {
                            r.snapshotChunk(StoreBatchCodec.decode(batch, 0, batch.length));
                            replicas.pageIfOverAlone(r);
                        }
                    }
                }
                case 'M' -> {
                    String primary = in.readUTF();
                    boolean ok = in.readBoolean();
                    Replica r = receiving.get(primary);
                    CompletableFuture<Boolean> done = incoming.get(primary);
                    if (done != null) {
                        if (r != null && ok) {
                            r.endSnapshot().whenComplete((v, e) -> {
                                synchronized (receiving) {
                                    if (incoming.get(primary) == done) { // not given up on meanwhile
                                        replicas.install(primary, r);
                                    }
                                }
                                done.complete(true);
                            });
                        } else {
                            done.complete(false);
                        }
                    }
                }
                default -> LOG.warn("Unknown replica hand-over message {} from {}", type, from);
            }
        } catch (IOException | IllegalArgumentException e) {
            LOG.warn("Malformed replica hand-over message from {}: {}", from, e.getMessage());
        }
    }

    /** Streams this node's replica of {@code primary} to {@code taker}. */
    private void handOver(String taker, String primary, String incarnation) {
        Replica.HandOver h = replicas.handOver(primary, incarnation);
        if (h == null) {
            node.send(taker, ClusterCodec.encode('M', out -> {
                out.writeUTF(primary);
                out.writeBoolean(false);
            }));
            return;
        }
        node.send(taker, ClusterCodec.encode('I', out -> {
            out.writeUTF(primary);
            out.writeLong(h.lastBatch());
            out.writeUTF(h.incarnation());
        }));
        SnapshotStream chunks = new SnapshotStream(node, taker, batch -> ClusterCodec.encode('J', out -> {
            out.writeUTF(primary);
            out.write(batch);
        }));
        boolean read;
        try {
            h.contents(chunks::add); // streamed: paged bodies are read back a chunk at a time
            read = true;
        } catch (io.tern.broker.store.StoreException e) {
            LOG.error("Could not read the replica of {} to hand it over: {}", primary, e.getMessage());
            read = false;
        }
        chunks.flush();
        boolean whole = read && !chunks.failed();
        node.send(taker, ClusterCodec.encode('M', out -> {
            out.writeUTF(primary);
            out.writeBoolean(whole); // a chunk that did not go: the taker keeps its own replica
        }));
        LOG.info("Handed the replica of {} over to {}: {} entries, at its batch {}", primary, taker, chunks.sent(),
                h.lastBatch());
    }

    void close() {
        sender.shutdownNow();
    }
}
