package io.tern.cluster;

import io.tern.protocol.ClusterTopology;
import io.tern.protocol.FailoverInfo;
import io.tern.protocol.NodeInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Who takes whom over as views change: the first failover node, a restarted member's previous start, orphans. */
@Timeout(10)
class TakeoverPlannerTest {
    private static NodeInfo node(String id) {
        return new NodeInfo(id, id, "machine-" + id, List.of("tern://127.0.0.1:1"), "");
    }

    /** The members in order, each with the next {@code backups} members of the ring as its failover nodes. */
    private static ClusterTopology ring(int backups, String... ids) {
        List<NodeInfo> members = new ArrayList<>();
        for (String id : ids) {
            members.add(node(id));
        }
        Map<String, List<FailoverInfo>> failover = new LinkedHashMap<>();
        for (int i = 0; i < ids.length; i++) {
            List<FailoverInfo> f = new ArrayList<>();
            for (int step = 1; step <= backups && step < ids.length; step++) {
                String next = ids[(i + step) % ids.length];
                f.add(new FailoverInfo(next, next, List.of()));
            }
            failover.put(ids[i], f);
        }
        return new ClusterTopology(members, failover, true, true);
    }

    private static Map<String, String> starts(String... idAndStart) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < idAndStart.length; i += 2) {
            m.put(idAndStart[i], idAndStart[i + 1]);
        }
        return m;
    }

    private static List<String> ids(List<NodeInfo> nodes) {
        return nodes.stream().map(NodeInfo::nodeId).toList();
    }

    @Test
    void theFirstFailoverNodeOfALeftNodeTakesItOverAndNobodyElse() {
        ClusterTopology before = ring(1, "a", "b", "c");
        ClusterTopology after = ring(1, "a", "c");
        Map<String, String> s = starts("a", "1", "b", "1", "c", "1");
        TakeoverPlanner.Plan byC = new TakeoverPlanner("c").plan(before, after, s, s, id -> false, Set.of());
        TakeoverPlanner.Plan byA = new TakeoverPlanner("a").plan(before, after, s, s, id -> false, Set.of());
        assertThat(ids(byC.direct())).containsExactly("b");
        assertThat(byC.goneIncarnations()).containsEntry("b", "1");
        assertThat(byA.round()).isEmpty();
    }

    @Test
    void aMemberThatRestartedBetweenTwoViewsHasItsPreviousStartTakenOver() {
        ClusterTopology view = ring(1, "a", "b", "c");
        TakeoverPlanner.Plan plan = new TakeoverPlanner("c").plan(view, view, starts("a", "1", "b", "1", "c", "1"),
                starts("a", "1", "b", "2", "c", "1"), id -> false, Set.of());
        assertThat(plan.restarted()).containsExactly("b");
        assertThat(ids(plan.direct())).containsExactly("b");
        assertThat(plan.goneIncarnations()).as("the start that is gone").containsEntry("b", "1");
    }

    @Test
    void whenTheFailoverNodeDiesBeforeRecordingItsTakeoverTheNextOneTakesTheOrphan() {
        TakeoverPlanner d = new TakeoverPlanner("d");
        Map<String, String> s = starts("a", "1", "b", "1", "c", "1", "d", "1");
        // b leaves; its failover nodes are c then d: c is to take it over.
        TakeoverPlanner.Plan first = d.plan(ring(2, "a", "b", "c", "d"), ring(2, "a", "c", "d"), s, s, id -> false, Set.of());
        assertThat(first.round()).isEmpty();
        // c dies before it recorded the takeover of b: d, next in b's list, takes b over (and c, as its first failover node).
        TakeoverPlanner.Plan second = d.plan(ring(2, "a", "c", "d"), ring(2, "a", "d"), s, s, id -> false, Set.of());
        assertThat(ids(second.direct())).containsExactly("c");
        assertThat(ids(second.orphans())).containsExactly("b");
        assertThat(ids(second.round())).containsExactly("c", "b");
        assertThat(second.goneIncarnations()).containsEntry("b", "");
    }

    @Test
    void aRecordedTakeoverLeavesNoOrphan() {
        TakeoverPlanner d = new TakeoverPlanner("d");
        Map<String, String> s = starts("a", "1", "b", "1", "c", "1", "d", "1");
        d.plan(ring(2, "a", "b", "c", "d"), ring(2, "a", "c", "d"), s, s, id -> false, Set.of());
        d.claimed("b"); // c recorded its takeover of b
        TakeoverPlanner.Plan second = d.plan(ring(2, "a", "c", "d"), ring(2, "a", "d"), s, s, id -> false, Set.of());
        assertThat(second.orphans()).isEmpty();
        TakeoverPlanner.Plan recordedBefore = new TakeoverPlanner("d").plan(ring(2, "a", "b", "c", "d"), ring(2, "a", "d"),
                s, s, id -> id.equals("b"), Set.of());
        assertThat(ids(recordedBefore.round())).containsExactly("c");
    }

    @Test
    void aNodeAlreadyBeingTakenOverIsNotPlannedAgain() {
        TakeoverPlanner d = new TakeoverPlanner("d");
        Map<String, String> s = starts("a", "1", "b", "1", "c", "1", "d", "1");
        d.plan(ring(2, "a", "b", "c", "d"), ring(2, "a", "c", "d"), s, s, id -> false, Set.of());
        TakeoverPlanner.Plan again = d.plan(ring(2, "a", "c", "d"), ring(2, "a", "d"), s, s, id -> false, Set.of("b"));
        assertThat(again.orphans()).isEmpty();
    }
}
