package io.tern.cluster;

import io.tern.broker.ClusterPort;
import io.tern.broker.FailoverAdmission;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.NodeInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Where a client that failed over from another node is told where it belongs ({@link
 * ClusterPort#setAdmission}): served here as the owner of its node's messages (it recovers its
 * session here), served here without recovery, or redirected to the node that owns them. The
 * answer waits while that node is still in the view (up to the admission wait) or a takeover of it
 * is under way here. It is judged against the view as the {@link Takeover} last saw it, under the
 * same lock, so a node that just left is either still live here or already has its takeover pending.
 */
final class AdmissionDesk {
    private static final Logger LOG = LoggerFactory.getLogger(AdmissionDesk.class);
    private static final long FORMER_CLIENT_TTL_NS = 60_000_000_000L;
    /** A client sent back to its live node and seen here again within this time could not reach it. */
    private static final long SENT_BACK_TTL_NS = 60_000_000_000L;

    private final Object viewLock;
    private final Supplier<ClusterTopology> view;
    private final String selfId;
    private final ClusterPort broker;
    private final TakeoverRecords records;
    private final Set<String> pending;
    private final Map<String, String> lastFailover;
    private final Supplier<String> discardedFor;
    private final java.util.function.Predicate<String> canArbitrate;
    private final java.util.function.Predicate<String> retrying;
    private final ScheduledExecutorService timer;
    private final long admissionWaitMs;
    private final LongSupplier clock;
    private final List<Admission> admissions = new CopyOnWriteArrayList<>();
    /**
     * Client connection keys of the nodes this node took over, as they were then (the most recent
     * 100,000): key to node id. Such a client is this node's to serve, even once its node is back.
     */
    private final Map<String, FormerClient> formerClients = java.util.Collections.synchronizedMap(
            new java.util.LinkedHashMap<String, FormerClient>() {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, FormerClient> eldest) {
                    return size() > 100_000;
                }
            });

    /**
     * A client connection of a node this node took over, as that node was then. Good for one
     * admission here, within {@link #FORMER_CLIENT_TTL_NS}: after that the client may have been a
     * client of the node's next start, which this node knows nothing of.
     */
    private record FormerClient(String nodeId, long sinceNs) {
    }

    /** Connection keys of clients sent back to their node, which was still in the view, and when (the latest 10,000). */
    private final Map<String, Long> sentBack = java.util.Collections.synchronizedMap(
            new java.util.LinkedHashMap<String, Long>() {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
                    return size() > 10_000;
                }
            });

    private record Admission(String from, String key, boolean holdsNothing, CompletableFuture<FailoverAdmission> answer,
                             long deadlineNs) {
    }

    /**
     * @param viewLock     the lock under which {@code view} and {@code pending} change together
     * @param view         the view as the takeover last saw it
     * @param pending      the nodes this node is taking over now
     * @param lastFailover node id to the first failover node the map named for it in the last view it was in
     * @param discardedFor the node that took this node over when it last discarded (null: none)
     * @param canArbitrate whether this node's replica of a node is complete and verified (see {@link #arbitrates})
     * @param retrying     whether this node's takeover of a node failed and waits to be tried again ({@link TakeoverRetries})
     */
    AdmissionDesk(Object viewLock, Supplier<ClusterTopology> view, String selfId, ClusterPort broker, TakeoverRecords records,
                  Set<String> pending, Map<String, String> lastFailover, Supplier<String> discardedFor,
                  java.util.function.Predicate<String> canArbitrate, java.util.function.Predicate<String> retrying,
                  ScheduledExecutorService timer, long admissionWaitMs, LongSupplier nanoClock) {
        this.viewLock = viewLock;
        this.view = view;
        this.selfId = selfId;
        this.broker = broker;
        this.records = records;
        this.pending = pending;
        this.lastFailover = lastFailover;
        this.discardedFor = discardedFor;
        this.canArbitrate = canArbitrate;
        this.retrying = retrying;
        this.timer = timer;
        this.admissionWaitMs = admissionWaitMs;
        this.clock = nanoClock;
    }

    /** The clients of {@code nodeId} when this node took it over (their connection keys): they recover here. */
    void rememberFormerClients(String nodeId, Collection<String> keys, long sinceNs) {
        keys.forEach(key -> formerClients.put(key, new FormerClient(nodeId, sinceNs)));
    }

    /**
     * A client that failed over from node {@code from} says hello: completes with null to serve it
     * here (this node owns {@code from}'s messages now and has taken them over, or nobody does), or
     * with the client URI of the node that owns them. Waits while {@code from} is still in the view
     * (up to the admission wait) or a takeover of it is under way.
     */
    CompletableFuture<FailoverAdmission> admit(FailoverAdmission.Request request) {
        Admission a = new Admission(request.fromNode(), request.connectionKey(), request.holdsNothing(), new CompletableFuture<>(),
                clock.getAsLong() + admissionWaitMs * 1_000_000L);
        if (decide(a)) {
            return a.answer();
        }
        admissions.add(a);
        timer.schedule(this::reconsider, admissionWaitMs, TimeUnit.MILLISECONDS);
        decide(a); // a change may have come between the first look and the add
        return a.answer();
    }

    /** Answers the waiting admissions that can be answered now (the view, a takeover or a record changed). */
    void reconsider() {
        for (Admission a : admissions) {
            if (decide(a)) {
                admissions.remove(a);
            }
        }
    }

    /**
     * Answers the admission if it can be answered now; false if it must wait. Judged by the view as
     * this class last saw it, so that a node that just left is either still "live" here or already
     * has its takeover pending.
     */
    private boolean decide(Admission a) {
        synchronized (viewLock) {
            return decideUnderViewLock(a);
        }
    }

    private boolean decideUnderViewLock(Admission a) {
        if (a.answer().isDone()) {
            return true;
        }
        Map<String, NodeInfo> live = new HashMap<>();
        ClusterTopology view = this.view.get();
        if (view != null) {
            view.members().forEach(m -> live.put(m.nodeId(), m));
        }
        if (selfId.equals(a.from())) {
            a.answer().complete(admitOwnClient(a, live));
            return true;
        }
        FormerClient former = a.key() == null ? null : formerClients.get(a.key());
        if (former != null && former.nodeId().equals(a.from()) && clock.getAsLong() - former.sinceNs() < FORMER_CLIENT_TTL_NS) {
            // A client of the node as it was when this node took it over, even if that node is back since.
            if (pending.contains(a.from())) {
                return false;
            }
            formerClients.remove(a.key());
            a.answer().complete(FailoverAdmission.AS_OWNER);
            return true;
        }
        if (former != null) {
            formerClients.remove(a.key()); // it comes back from elsewhere, or too late: judged as any other
        }
        if (live.containsKey(a.from()) && (pending.contains(a.from()) || records.get(a.from()) != null)) {
            // In the view again, but a new start of it (restarted before it was found gone) or not yet discarded: its
            // clients of before belong to its taker, not to it.
            if (pending.contains(a.from())) {
                return false; // this node takes its previous self over now: the client recovers once it is done
            }
            String taker = records.get(a.from()).taker();
            NodeInfo t = live.get(taker);
            a.answer().complete(selfId.equals(taker) ? FailoverAdmission.AS_OWNER
                    : t == null || t.clientUris().isEmpty() ? FailoverAdmission.WITHOUT_RECOVERY
                    : FailoverAdmission.redirect(t.clientUris().get(0)));
            return true;
        }
        if (live.containsKey(a.from()) && a.holdsNothing() && arbitrates(view, a.from())) {
            LOG.info("A client that holds nothing of {} came here while that node is still in the view: served at once; "
                    + "this node, its failover node, keeps one copy of what the client resends", live.get(a.from()).name());
            a.answer().complete(FailoverAdmission.arbitrating(a.from()));
            return true;
        }
        if (live.containsKey(a.from())) {
            long now = clock.getAsLong();
            if (now - a.deadlineNs() < 0) {
                return false;
            }
            NodeInfo node = live.get(a.from());
            Long sentBackNs = a.key() == null ? null : sentBack.get(a.key());
            if (!node.clientUris().isEmpty() && a.key() != null && (sentBackNs == null || now - sentBackNs > SENT_BACK_TTL_NS)) {
                // The node was only stalled (a pause shorter than failure detection): it still has what the client
                // holds, and the client's connection there (left open) hands it over when the client comes back.
                sentBack.put(a.key(), now);
                LOG.info("A client of {} came here, but that node is still in the view after {} ms: sent back to it",
                        node.name(), admissionWaitMs);
                a.answer().complete(FailoverAdmission.redirect(node.clientUris().get(0)));
                return true;
            }
            LOG.warn("A client of {} came here, but that node is still in the view after {} ms{}: serving the client "
                    + "here without recovering its deliveries", node.name(), admissionWaitMs,
                    sentBackNs == null ? "" : " and the client, sent back to it, came again");
            a.answer().complete(FailoverAdmission.WITHOUT_RECOVERY);
            return true;
        }
        String owner = ownerOf(a.from(), live.keySet());
        if (owner != null && owner.equals(selfId) && (!pending.isEmpty()
                || (retrying.test(a.from()) && clock.getAsLong() - a.deadlineNs() < 0))) {
            // Our takeover is under way, or failed and waits for a try: the client recovers once it is done (a
            // try that takes longer than the admission wait, and the client is served without recovering).
            return false;
        }
        NodeInfo o = owner == null || owner.equals(selfId) ? null : live.get(owner);
        a.answer().complete(o == null || o.clientUris().isEmpty()
                ? (selfId.equals(owner) && tookOver(a.from()) ? FailoverAdmission.AS_OWNER : FailoverAdmission.WITHOUT_RECOVERY)
                : FailoverAdmission.redirect(o.clientUris().get(0)));
        return true;
    }

    /**
     * True if this node can serve a client of {@code nodeId} (in the view, not being taken over) that
     * holds nothing there, before knowing whether the node is gone: the view names this node its first
     * failover node and this node's replica of it is complete. Every batch the node stores then waits
     * for this node, which refuses one that stores a message the client resent here and this node
     * stored ({@link Replicas#knownOrClaimed}): one copy is kept whether the node was paused or died.
     */
    private boolean arbitrates(ClusterTopology view, String nodeId) {
        List<io.tern.protocol.FailoverInfo> failover = view.failover().getOrDefault(nodeId, List.of());
        return !failover.isEmpty() && selfId.equals(failover.get(0).nodeId()) && canArbitrate.test(nodeId);
    }

    /**
     * Whether this node holds {@code nodeId}'s messages, settled: it is that node, or it took that
     * node over (or its taker, and so on) and no takeover is under way here. The failover node the
     * map names for a node that just left is its holder for the others before it has taken it over;
     * what it is given for that node must wait until it has. No lock (called on a receiving thread):
     * a takeover records itself while it is pending and is no longer pending once done.
     */
    boolean holdsSettled(String nodeId) {
        return nodeId.equals(selfId) || (pending.isEmpty() && tookOver(nodeId));
    }

    /** True if a recorded takeover of {@code nodeId} (or of its taker, and so on) was this node's. */
    private boolean tookOver(String nodeId) {
        String current = nodeId;
        for (int hops = 0; hops < 16; hops++) {
            TakeoverRecords.Record r = records.get(current);
            if (r == null || r.taker().isEmpty()) {
                return false;
            }
            if (r.taker().equals(selfId)) {
                return true;
            }
            current = r.taker();
        }
        return false;
    }

    /**
     * A client says it comes from this very node. If this node discarded what another node took
     * over, and this client's connection was not welcomed here since, it was a client of this node
     * before the takeover: the taker keeps what it held, so it goes there.
     */
    private FailoverAdmission admitOwnClient(Admission a, Map<String, NodeInfo> live) {
        String taker = discardedFor.get();
        NodeInfo t = taker == null ? null : live.get(taker);
        if (t == null || t.clientUris().isEmpty() || broker.issuedHere(a.key())) {
            return FailoverAdmission.WITHOUT_RECOVERY;
        }
        LOG.info("A client of this node from before {} took it over comes back: sent to {}", t.name(), t.name());
        return FailoverAdmission.redirect(t.clientUris().get(0));
    }

    /**
     * The live node that owns {@code nodeId}'s messages: the taker of its recorded takeover (and, if
     * that one is gone too, of the taker's), or the first failover node the map last named for it
     * while no takeover is recorded yet. Null if none is known or alive.
     */
    String ownerOf(String nodeId, Set<String> live) {
        String current = nodeId;
        for (int hops = 0; hops < 16; hops++) {
            if (live.contains(current)) {
                return current;
            }
            if (pending.contains(current)) {
                return selfId;
            }
            TakeoverRecords.Record r = records.get(current);
            String next = r != null && !r.taker().isEmpty() ? r.taker() : lastFailover.get(current);
            if (next == null || next.equals(current)) {
                return null;
            }
            current = next;
        }
        return null;
    }


    /** The node stops: waiting clients are served without recovery (their connections close with it). */
    void close() {
        admissions.forEach(a -> a.answer().complete(FailoverAdmission.WITHOUT_RECOVERY));
    }
}
