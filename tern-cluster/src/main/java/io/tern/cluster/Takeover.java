package io.tern.cluster;

import io.tern.broker.ClusterPort;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.FailoverInfo;
import io.tern.protocol.NodeInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * <p>Every takeover is recorded with an epoch (the id of the view in which the taker found the node
 * gone: view ids grow with every view of the cluster, so a later takeover of a node always has a
 * greater epoch, whichever node takes it and whatever the clocks say) and the node that took over,
 * by every member, in a file of each node's data directory. A node that comes back with its old disk asks the members before it
 * serves ({@link #checkBeforeServing}); if any recorded a takeover of it, it discards its stored
 * messages, so its old disk never brings back what another node delivered since, and tells the
 * members to forget the record.
 *
 * <p>A client of a dead node comes to this node saying where it comes from. {@link #admit} decides:
 * the node that owns the dead node's messages now (following takeovers of takeovers) serves it, once
 * its takeover is complete; any other node redirects it there.
 *
 * <pre>
 * message := 'O' node:utf epoch:i64 start:utf  -- the sender took node (that start, empty: any) over at epoch (to every member)
 *          | 'K' round:i64            -- was I taken over? (from a returning node; {@link MemberPoll})
 *          | 'N' round:i64 taken:bool epoch:i64 taker:utf -- the answer (epoch -2: a takeover of you is under way here)
 *          | 'P' epoch:i64            -- I discarded for the takeover at epoch: forget records up to it
 *          | 'T' epoch:i64 taker:utf   -- you were taken over at epoch (to a node in the view; 'P' if stale)
 *          | 'B'                      -- I serve clients (again): those that failed over from me may come back
 *          ('Q' and 'Y', the confirmation before a takeover: see GoneConfirmation)
 *          | 'W' round:i64 node:utf            -- who took node over? (a restarted backup holding its replica)
 *          | 'V' round:i64 recorded:bool n:i32 backup:utf*n -- the answer: a recorded takeover, and the
 *                                                 node's failover nodes in the last view it was in
 * </pre>
 *
 * <p>With replicas kept on disk ({@code --replica-store disk}), a backup that restarts has its
 * replicas back. When it serves again, it takes over the replica of a node that is not in the view
 * if nobody recorded a takeover of that node and a member that saw the node's last view says this
 * backup was among its failover nodes then (else the replica may be stale: the node went on with
 * other backups after this one went down); the majority must confirm the node gone, as always.
 * Otherwise the replica is dropped, or kept until such an answer comes.
 *
 * <p>A view can hold members this node no longer reaches: in a partition, the first view after it
 * may drop the other side's coordinator and keep a member not yet suspected, and so look like a
 * majority. So a takeover waits until members that, with this node, make a majority of the last
 * stable view answer that they see the dead node gone too ('Q', 'Y'); a node cut off from them
 * never hears that, and takes nothing over.
 *
 * <p>If the first failover node dies during its takeover, before it recorded it, the next failover
 * node of the dead node's map that is alive takes the dead node over as well as the failover node
 * (k &ge; 2: it holds both replicas). The failover node records its takeover once the messages are
 * stored, and before any is delivered; what it stored of them is in its own replica, so the second
 * taker skips every message of the first replica that came with the second (same queue and message
 * id): nothing is taken twice, nothing is lost.
 *
 * <p>A node that was cut off or paused, not restarted, learns it was taken over from a 'T': its
 * backups refuse its replication and tell it at once ({@link Replicas}), and every member that
 * recorded the takeover tells it when it is in the view again. It then closes its client
 * connections (they fail over to the node that owns its messages now), fails its unfinished
 * commits, discards its stored messages, and serves again. What it discarded for is kept on its
 * disk: a 'T' of that takeover or an older one is stale, and the node answers with 'P' so the
 * sender forgets it; a new backup learns it with the snapshot and forgets a stale record too.
 *
 * <p>A node that restarts before it is found gone comes back with another incarnation
 * ({@link ClusterNode#incarnation}): its previous self is gone, and its failover node takes that
 * over as if it had left. The restarted node asks ('K'), is told the takeover is under way, waits,
 * and discards when it is recorded. The taker keeps the connection keys of the clients the node had
 * ({@link io.tern.broker.store.StoreBatch.ClientConnected}): such a client is served here as the
 * owner's even though the node is back, and the restarted node sends its old clients here.
 *
 */
public final class Takeover implements ClusterListener, ClusterNode.PayloadHandler, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Takeover.class);

    private final String selfId;
    private final java.util.function.LongSupplier clock;
    private final ReplicatingStore store;
    private final ClusterPort broker;
    private final FailBack failBack;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "tern-takeover");
        t.setDaemon(true);
        return t;
    });
    private ClusterTopology previous; // guarded by this
    /** The incarnation of each member of the previous view (see {@link ClusterNode#incarnation}); guarded by this. */
    private Map<String, String> previousIncarnations = Map.of();
    private final ClusterNode node;
    private final TakeoverRecords records;
    /** Every takeover this node heard of since it started, by the start taken over (for moves in doubt). */
    final TakeoverHistory history = new TakeoverHistory();
    /**
     * Node id to the newest takeover of it that it discarded for, as its snapshots said: a takeover
     * of it by this node gets a greater epoch even if the cluster's view ids started again since.
     */
    private final Map<String, Long> knownDiscarded = new java.util.concurrent.ConcurrentHashMap<>();
    /** Nodes this node is taking over now. */
    private final Set<String> pending = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Who this node takes over at each view change; it keeps the gone nodes nobody recorded a takeover of yet. */
    private final TakeoverPlanner planner;
    /** Fault injection for tests (--fault-takeover-pause-ms): a window to kill this node mid-takeover. */
    private final FaultPause pauseAfterStore = new FaultPause("the takeover of %s stored its messages and pauses before recording itself");
    /** Node id to the first failover node the map named for it, as of the last view it was in. */
    private final Map<String, String> lastFailover = new java.util.concurrent.ConcurrentHashMap<>();
    /** Node id to all its failover nodes, as of the last view it was in (for replicas kept on disk). */
    private final Map<String, List<String>> lastBackups = new java.util.concurrent.ConcurrentHashMap<>();

    /** Hellos of clients of other nodes, waiting until it is clear who serves them. */
    private final java.util.concurrent.ScheduledExecutorService timer =
            Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "tern-admission");
                t.setDaemon(true);
                return t;
            });
    private final MemberPoll poll;
    final SelfDiscard self; // its discards: QueueLinks reads the last one
    private final AdmissionDesk admissions;
    private final GoneConfirmation confirmation;
    private final ReplicaHandover handover;
    private final AbsentReplicas absent;
    private final TakeoverRetries retries;
    private final TakenOverNotice notice;
    private volatile boolean closed;
    /** The answer to 'K' that says: a takeover of you is under way here, ask again. */
    static final long PENDING = -2;

    /**
     * @param recordsFile where this node keeps the takeovers it knows of (null: in memory only)
     */
    public Takeover(ClusterNode node, ReplicatingStore store, ClusterPort broker, java.nio.file.Path recordsFile) {
        this(node, store, broker, recordsFile, 10_000);
    }

    /**
     * @param admissionWaitMs how long a client of a node still in the view waits for that node to be
     *                        found dead and taken over before it is served here without recovery
     */
    public Takeover(ClusterNode node, ReplicatingStore store, ClusterPort broker, java.nio.file.Path recordsFile,
                    long admissionWaitMs) {
        this(node, store, broker, recordsFile, admissionWaitMs, System::nanoTime);
    }

    /**
     * @param nanoClock the clock of every wait and timeout of the takeover (System::nanoTime but in
     *                  tests); nothing of it is compared across nodes: epochs are view ids
     */
    public Takeover(ClusterNode node, ReplicatingStore store, ClusterPort broker, java.nio.file.Path recordsFile,
                    long admissionWaitMs, java.util.function.LongSupplier nanoClock) {
        this.clock = nanoClock;
        this.node = node;
        this.selfId = node.self().nodeId();
        this.store = store;
        this.broker = broker;
        this.failBack = new FailBack(node, broker);
        this.records = new TakeoverRecords(recordsFile);
        this.planner = new TakeoverPlanner(selfId);
        this.poll = new MemberPoll(node, nanoClock);
        this.self = new SelfDiscard(node, store, broker, poll, new TakeoverRecords(recordsFile == null ? null
                : recordsFile.resolveSibling(recordsFile.getFileName() + "-discarded")), this::serving, () -> closed, nanoClock);
        this.confirmation = new GoneConfirmation(node, poll, nanoClock, timer);
        this.handover = new ReplicaHandover(node, poll, store.replicas(), nanoClock);
        this.retries = new TakeoverRetries(TakeoverRetries.Membership.of(node, confirmation), pending, timer, worker, id -> !closed && !records.contains(id)
                && store.replicas().primaries().contains(id) && broker.availability().state() != io.tern.broker.NodeState.FENCED,
                this::takeOver, this::reconsiderAdmissions);
        // Not told again now: this node, and nodes being taken over (here, or waiting for a try): told once that is recorded.
        this.notice = new TakenOverNotice(node, records, nanoClock,
                id -> closed || id.equals(selfId) || pending.contains(id) || retries.waits(id));
        this.admissions = new AdmissionDesk(this, () -> previous, selfId, broker, records, pending, lastFailover,
                self::taker, store.replicas()::canArbitrate, retries::waits, timer, admissionWaitMs, nanoClock);
        broker.setAdmission(admissions::admit);
        this.absent = new AbsentReplicas(node, store, poll, confirmation, records, pending, lastBackups,
                gone -> takeOverOrRetry(gone, "", new RoundCopies(), node.viewId()), admissions::reconsider, () -> closed);
        node.addPayloadHandler("OKNPTBWV", this);
        node.addListener(this);
        // While this node takes a node over, that node (restarted) must not replace the replica it takes.
        store.replicas().setTakenOver(this::speaksFor);
        store.replicas().setRefusing(notice::tellTakenOver);
        store.replicas().setDiscarded(this::forgetIfStale);
        store.setDiscardedEpoch(this::lastDiscardedEpoch);
    }

    private void reconsiderAdmissions() {
        admissions.reconsider();
    }

    private void record(String nodeId, TakeoverRecords.Record r) {
        if (r == null) {
            records.remove(nodeId);
        } else {
            planner.claimed(nodeId);
            TakeoverRecords.Record before = records.get(nodeId);
            records.put(nodeId, r);
            if (!r.equals(before)) {
                broker.events().record("taken-over", broker.events().nameOf(nodeId), "by " + broker.events().nameOf(r.taker())
                        + " (epoch " + r.epoch() + ")");
            }
        }
        admissions.reconsider();
    }

    /**
     * A snapshot from {@code primary} says it discarded for the takeover at {@code epoch}: a record
     * here of that takeover or an older one is stale (this node missed the primary's 'P').
     */
    private void forgetIfStale(String primary, long epoch) {
        if (epoch != Long.MAX_VALUE) {
            knownDiscarded.merge(primary, epoch, Math::max);
        }
        TakeoverRecords.Record r = records.get(primary);
        if (r != null && r.epoch() <= epoch) {
            LOG.info("Forgetting the takeover of {} at epoch {}: it discarded for it already", primary, r.epoch());
            record(primary, null);
        }
    }

    /**
     * True while this node takes {@code nodeId} over, or took it over and it has not discarded since (it
     * was paused or cut off): what it hands over meanwhile (replication, moves in doubt, its links' messages) is not its to give.
     */
    public boolean speaksFor(String nodeId) {
        return records.contains(nodeId) || pending.contains(nodeId);
    }

    /** {@link #speaksFor}, for a node that hands something over now; if so, it is told it was taken over. */
    public boolean refuses(String nodeId) {
        boolean refused = speaksFor(nodeId);
        if (refused) {
            notice.tellTakenOver(nodeId);
        }
        return refused;
    }

    /** The epoch of the newest takeover of this node that it discarded its messages for; -1 if none ever. */
    public long lastDiscardedEpoch() {
        return self.lastDiscardedEpoch();
    }

    /**
     * Before this node, having joined, serves clients: discards what a member took over (see
     * {@link SelfDiscard#checkBeforeServing}); the number of stored messages discarded.
     */
    public int checkBeforeServing(long timeoutMs) {
        return self.checkBeforeServing(timeoutMs);
    }

    /** After this node's JVM was stopped: discards if a member took it over meanwhile ({@link SelfDiscard#checkAfterPause}). */
    public void checkAfterPause(long gapMs, long timeoutMs) {
        self.checkAfterPause(gapMs, timeoutMs);
    }

    /**
     * Who holds node {@code nodeId}'s messages now: itself while it is a member, else the live node
     * that took it over (or the first failover node the map last named for it, until a takeover is
     * recorded). Null while that is not settled: a takeover of it is under way here, or the holder
     * found is not a member either.
     */
    public String holderOf(String nodeId) {
        synchronized (this) {
            java.util.Set<String> live = new java.util.HashSet<>();
            if (previous != null) {
                previous.members().forEach(m -> live.add(m.nodeId()));
            }
            if (pending.contains(nodeId)) {
                return null;
            }
            String owner = admissions.ownerOf(nodeId, live);
            if (owner == null || (owner.equals(selfId) && !pending.isEmpty())) {
                return null;
            }
            return owner;
        }
    }

    /** See {@link AdmissionDesk#holdsSettled}. */
    public boolean holdsSettled(String nodeId) {
        return admissions.holdsSettled(nodeId);
    }

    /** The takeovers this node knows of: node id to when and by whom. */
    public Map<String, TakeoverRecords.Record> records() {
        return records.all();
    }

    @Override
    public void received(String from, byte[] payload, int offset, int length) {
        java.io.DataInputStream in = ClusterCodec.reader(payload, offset, length);
        try {
            byte type = in.readByte();
            switch (type) {
                case 'O' -> {
                    String taken = in.readUTF();
                    long epoch = in.readLong();
                    history.taken(taken, epoch, in.available() > 0 ? in.readUTF() : "", from);
                    if (epoch <= knownDiscarded.getOrDefault(taken, -1L)) {
                        // Late: that node discarded for this takeover already, and its record was forgotten here.
                        // Recorded again, it would refuse that node's replication for good.
                        LOG.info("Ignoring the takeover of {} at epoch {} by {}: it discarded for it already", taken, epoch, from);
                        break;
                    }
                    record(taken, new TakeoverRecords.Record(epoch, from));
                    // The taker stored what it took (and replicates it as its own): a copy here is not needed.
                    store.replicas().drop(taken);
                }
                case 'K' -> {
                    long round = in.readLong();
                    boolean underWay = pending.contains(from) || retries.waits(from); // before any older record (TakeoverRetries)
                    TakeoverRecords.Record r = underWay ? null : records.get(from);
                    node.send(from, ClusterCodec.encode('N', out -> {
                        out.writeLong(round);
                        out.writeBoolean(r != null || underWay);
                        out.writeLong(underWay ? PENDING : r == null ? 0 : r.epoch());
                        out.writeUTF(r == null ? "" : r.taker());
                    }));
                }
                case 'N' -> {
                    long round = in.readLong();
                    boolean taken = in.readBoolean();
                    long epoch = in.readLong();
                    String taker = in.readUTF();
                    poll.answered(round, from, taken ? new TakeoverRecords.Record(epoch, taker) : new TakeoverRecords.Record(-1, ""));
                }
                case 'P' -> {
                    // It discarded for the takeover at that epoch: that record and older ones go (and its
                    // replication is accepted again, Replicas.setTakenOver); a newer one stays.
                    long discarded = in.available() >= 8 ? in.readLong() : Long.MAX_VALUE;
                    forgetIfStale(from, discarded);
                }
                case 'B' -> failBack.to(from);
                case 'W' -> absent.asked(from, in);
                case 'V' -> absent.answered(from, in);
                case 'T' -> {
                    long epoch = in.readLong();
                    String taker = in.readUTF();
                    if (epoch <= lastDiscardedEpoch()) {
                        // The sender missed this node's word that it discarded for that takeover: say it again.
                        node.send(from, self.discardedMessage());
                    } else {
                        worker.execute(() -> self.discardIfNew(new TakeoverRecords.Record(epoch, taker), "merged back into the view"));
                    }
                }
                default -> LOG.warn("Unknown takeover message {} from {}", type, from);
            }
        } catch (java.io.IOException e) {
            LOG.warn("Malformed takeover message from {}: {}", from, e.getMessage());
        } catch (java.io.UncheckedIOException e) {
            LOG.error("Takeover message {} from {} was not recorded durably here: {}", payload[offset], from, e.getMessage());
        }
    }

    /**
     * This node serves clients (again): the members tell the clients that failed over from it to
     * come back when they hold nothing unacknowledged (failback). Call once clients are no longer held.
     */
    public void serving() {
        // 'P' again: the one sent at the discard may have gone out before this node knew every member.
        // Unicast and in order, so each member forgets the record (and accepts this node's replication)
        // before the snapshots of the resync reach it.
        node.sendToOthers(self.discardedMessage());
        store.resync();
        node.sendToOthers(ClusterCodec.encode('B', out -> { }));
        worker.execute(absent::takeOverOrDrop);
    }

    @Override
    public synchronized void clusterChanged(ClusterTopology topology, boolean quorum) {
        if (closed) {
            return; // the node is stopping: its channel still delivers views while it leaves
        }
        ClusterTopology before = previous;
        previous = topology;
        Map<String, String> incarnationsBefore = previousIncarnations;
        Map<String, String> incarnations = new java.util.HashMap<>();
        topology.members().forEach(m -> java.util.Optional.ofNullable(node.incarnation(m.nodeId()))
                .ifPresent(i -> incarnations.put(m.nodeId(), i)));
        previousIncarnations = Map.copyOf(incarnations);
        for (NodeInfo m : topology.members()) {
            List<FailoverInfo> f = topology.failover().getOrDefault(m.nodeId(), List.of());
            lastBackups.put(m.nodeId(), f.stream().map(FailoverInfo::nodeId).toList());
            if (f.isEmpty()) {
                lastFailover.remove(m.nodeId());
            } else {
                lastFailover.put(m.nodeId(), f.get(0).nodeId());
            }
        }
        if (before == null) {
            admissions.reconsider();
            return;
        }
        // Every member this node holds a takeover record of is told: it discards if it has not yet,
        // or says the record is stale ('P') if it discarded for it already. One this node is taking
        // over is told once that is done: every takeover runs on the worker, so this runs after it
        // (the takeover's own check whether the node is back may have run before this view).
        for (NodeInfo back : topology.members()) {
            String id = back.nodeId();
            if (id.equals(selfId)) {
                continue;
            }
            if (pending.contains(id)) {
                worker.execute(() -> notice.tellIfBack(id));
            } else {
                java.util.Optional.ofNullable(records.get(id)).ifPresent(r -> notice.tell(id, r));
            }
        }
        TakeoverPlanner.Plan plan = planner.plan(before, topology, incarnationsBefore, incarnations, records::contains, pending);
        plan.restarted().forEach(id -> LOG.warn("{} restarted before it was found gone: its previous self is taken over",
                topology.members().stream().filter(m -> m.nodeId().equals(id)).map(NodeInfo::name).findFirst().orElse(id)));
        List<NodeInfo> orphans = plan.orphans();
        Map<String, String> goneIncarnations = plan.goneIncarnations();
        List<NodeInfo> round = plan.round();
        if (round.isEmpty()) {
            admissions.reconsider();
            return;
        }
        if (!quorum) {
            LOG.warn("{} left, and this node is its failover node, but this partition has no quorum: no takeover",
                    round.stream().map(NodeInfo::name).toList());
            admissions.reconsider();
            return;
        }
        round.forEach(g -> pending.add(g.nodeId()));
        int quorumBase = node.quorumBase(); // of this view: the listener runs as the view is installed
        long epoch = node.viewId();
        if (!orphans.isEmpty()) {
            LOG.warn("{}: their failover node left before it recorded taking them over; this node, next in their "
                    + "failover list, takes them over", orphans.stream().map(NodeInfo::name).toList());
        }
        worker.execute(() -> {
            RoundCopies copies = new RoundCopies();
            try {
                if (!confirmation.confirm(round, goneIncarnations, quorumBase)) {
                    return;
                }
                for (NodeInfo g : round) {
                    takeOverOrRetry(g, goneIncarnations.getOrDefault(g.nodeId(), ""), copies, epoch);
                }
            } finally {
                round.forEach(g -> pending.remove(g.nodeId()));
                admissions.reconsider();
            }
        });
        admissions.reconsider();
    }

    /** Fault injection for tests: a takeover pauses this long after storing the messages, before it is recorded. */
    public void pauseAfterStoreForTests(long ms) {
        pauseAfterStore.set(ms);
    }

    /**
     * Takes {@code gone} over. Its epoch is the id of the view in which this node found it gone
     * ({@code viewEpoch}): the cluster numbers its views in order, so a later takeover of the same
     * node has a greater epoch whichever node does it and whatever its clock says. If the whole
     * cluster restarted since the node last discarded for a takeover, view ids start again: the
     * epoch is then one above the one the node's last snapshot here said it discarded for. It takes
     * over from the best replica of that start ({@code incarnation}, empty: any) of the node the
     * members hold ({@link ReplicaHandover}).
     */
    private void takeOverOrRetry(NodeInfo gone, String incarnation, RoundCopies copies, long viewEpoch) {
        if (!takeOver(gone, incarnation, copies, viewEpoch)) {
            retries.failed(new TakeoverRetries.Failed(gone, incarnation, copies));
        }
    }

    /** True if it took {@code gone} over, or has nothing to take; false if the takeover failed (its replica is kept). */
    private boolean takeOver(NodeInfo gone, String incarnation, RoundCopies copies, long viewEpoch) {
        long epoch = Math.max(viewEpoch, knownDiscarded.getOrDefault(gone.nodeId(), -1L) + 1);
        handover.fetchBest(gone.nodeId(), incarnation);
        Replicas.Taken taken = store.replicas().take(gone.nodeId());
        if (taken == null) {
            LOG.warn("{} left and this node is its failover node, but holds no replica of it", gone.name());
            return true;
        }
        if (!taken.complete()) {
            LOG.error("{} left before its replica here was in sync: taking over what arrived", gone.name());
        }
        long start = clock.getAsLong();
        RoundCopies.Kept kept;
        int count;
        try {
            kept = copies.keep(taken.messages()); // reads the replica's paged bodies back: may fail like the adoption
            if (kept.skipped() > 0) {
                LOG.warn("{} message(s) of {} were taken over already with the failover node that died taking it over",
                        kept.skipped(), gone.name());
            }
            count = broker.adopt(taken.queues(), kept.messages(), taken.duplicateIds(), taken.owners(), () -> {
                pauseAfterStore.pause(gone.name());
                long sinceNs = clock.getAsLong();
                // Its clients are this node's from now on, even once it is back: they recover here.
                admissions.rememberFormerClients(gone.nodeId(), taken.clients(), sinceNs);
                record(gone.nodeId(), new TakeoverRecords.Record(epoch, selfId)); // throws if the record is not durable: nothing is delivered
                history.taken(gone.nodeId(), epoch, incarnation, selfId);
                node.sendToOthers(ClusterCodec.encode('O', out -> {
                    out.writeUTF(gone.nodeId());
                    out.writeLong(epoch);
                    out.writeUTF(incarnation == null ? "" : incarnation);
                }));
            }).join();
        } catch (RuntimeException e) { // the adoption failed (CompletionException), or reading the replica did
            Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
            LOG.error("The takeover of {} FAILED: {}", gone.name(), cause.toString());
            store.replicas().untake(gone.nodeId());
            boolean takenElsewhere = records.contains(gone.nodeId()); // another node took it over meanwhile ('O')
            if (takenElsewhere) {
                store.replicas().drop(gone.nodeId());
            }
            return takenElsewhere || cause instanceof ClusterPort.NotUndone; // a try would store it twice
        }
        copies.takenOver(kept);
        store.replicas().release(gone.nodeId());
        notice.tellIfBack(gone.nodeId()); // it restarted, or merged back: it discards now
        takeovers.incrementAndGet();
        LOG.info("Took over {}: {} queue(s), {} message(s), {} duplicate id(s) in {} ms (epoch {}; its replica was at its batch {})",
                gone.name(), taken.queues().size(), count, taken.duplicateIds().size(), (clock.getAsLong() - start) / 1_000_000,
                epoch, taken.lastBatch());
        return true;
    }

    private final java.util.concurrent.atomic.AtomicLong takeovers = new java.util.concurrent.atomic.AtomicLong();

    /** The takeovers this node made since it started. */
    public long takeovers() {
        return takeovers.get();
    }

    /** The nodes this node is taking over now. */
    public Set<String> takingOver() {
        return Set.copyOf(pending);
    }

    /** Takeovers of this node that failed and still wait for a try ({@link TakeoverRetries}). */
    public int failedTakeoversWaiting() {
        return retries.waiting();
    }

    /** Clustered queues are on: a member that starts serving gets a share of this node's clients ({@link FailBack}). */
    public void spreadConnectionsOnJoin() {
        failBack.spreadOnJoin();
    }

    @Override
    public void close() {
        closed = true;
        confirmation.close();
        handover.close();
        worker.shutdownNow();
        timer.shutdownNow();
        notice.close();
        admissions.close();
    }
}
