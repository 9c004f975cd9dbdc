package io.tern.cluster;

import io.tern.protocol.ClusterTopology;
import io.tern.protocol.FailoverInfo;
import io.tern.protocol.NodeInfo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Which nodes this node takes over when the view changes: the plan, apart from the doing. A node
 * that left (or restarted: its previous start is gone) is taken over by the first failover node its
 * map named in the view before; if that one is gone too before it recorded its takeover, by the
 * next one of that list still alive (an orphan). It keeps, across views, the gone nodes nobody has
 * recorded a takeover of yet.
 */
final class TakeoverPlanner {
    /** A gone node nobody recorded a takeover of yet, and its failover nodes in order, as of its last view. */
    private record Gone(NodeInfo node, List<String> failover) {
    }

    /**
     * The plan for one view change.
     *
     * @param direct           gone nodes whose first failover node is this one
     * @param orphans          gone nodes whose failover node died too before recording: this node is next
     * @param restarted        members that restarted between the two views (their previous start is gone)
     * @param goneIncarnations gone node to the start of it that is gone (empty: any)
     */
    record Plan(List<NodeInfo> direct, List<NodeInfo> orphans, Set<String> restarted, Map<String, String> goneIncarnations) {
        /** Every node this node takes over, first its own failover charges, then the orphans. */
        List<NodeInfo> round() {
            List<NodeInfo> all = new ArrayList<>(direct);
            all.addAll(orphans);
            return all;
        }
    }

    private final String selfId;
    private final Map<String, Gone> unclaimed = new ConcurrentHashMap<>();

    TakeoverPlanner(String selfId) {
        this.selfId = selfId;
    }

    /**
     * The plan between view {@code before} and view {@code now}, with each member's start in each
     * ({@link ClusterNode#incarnation}); {@code recorded}: whether a takeover of a node is recorded;
     * {@code pending}: the nodes this node is taking over already.
     */
    Plan plan(ClusterTopology before, ClusterTopology now, Map<String, String> incarnationsBefore,
              Map<String, String> incarnationsNow, Predicate<String> recorded, Set<String> pending) {
        Set<String> restarted = new HashSet<>();
        incarnationsNow.forEach((id, i) -> {
            String old = incarnationsBefore.get(id);
            if (old != null && !old.equals(i)) {
                restarted.add(id);
            }
        });
        Set<String> live = new HashSet<>();
        now.members().forEach(m -> live.add(m.nodeId()));
        List<NodeInfo> direct = new ArrayList<>();
        Map<String, String> goneIncarnations = new HashMap<>();
        for (NodeInfo gone : before.members()) {
            if (live.contains(gone.nodeId()) && !restarted.contains(gone.nodeId())) {
                continue;
            }
            goneIncarnations.put(gone.nodeId(), incarnationsBefore.getOrDefault(gone.nodeId(), ""));
            List<String> failover = before.failover().getOrDefault(gone.nodeId(), List.of()).stream()
                    .map(FailoverInfo::nodeId).toList();
            if (!failover.isEmpty() && !recorded.test(gone.nodeId())) {
                unclaimed.put(gone.nodeId(), new Gone(gone, failover));
            }
            if (!failover.isEmpty() && failover.get(0).equals(selfId)) {
                direct.add(gone);
            }
        }
        List<NodeInfo> orphans = new ArrayList<>();
        for (Gone g : unclaimed.values()) {
            String id = g.node().nodeId();
            if (live.contains(id) || pending.contains(id) || direct.contains(g.node()) || live.contains(g.failover().get(0))) {
                continue;
            }
            String next = g.failover().stream().filter(live::contains).findFirst().orElse(null);
            if (selfId.equals(next)) {
                orphans.add(g.node());
                goneIncarnations.putIfAbsent(id, ""); // gone from every view since: any start of it
            }
        }
        return new Plan(direct, orphans, restarted, goneIncarnations);
    }

    /** A takeover of {@code nodeId} is recorded (by any node): it is nobody's orphan. */
    void claimed(String nodeId) {
        unclaimed.remove(nodeId);
    }
}
