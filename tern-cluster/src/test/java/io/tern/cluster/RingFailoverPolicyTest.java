package io.tern.cluster;

import io.tern.protocol.NodeInfo;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The ring policy over many views: examples first, then properties over random views. */
class RingFailoverPolicyTest {

    private static NodeInfo node(String name, String machine) {
        return new NodeInfo("id-" + name, name, machine, List.of("tern://" + name + ":5445"), "");
    }

    private static List<String> names(List<NodeInfo> nodes) {
        return nodes.stream().map(NodeInfo::name).toList();
    }

    @Test
    void oneNodeHasNoFailoverAndNoRedundancy() {
        FailoverMap map = new RingFailoverPolicy(1).compute(List.of(node("a", "m1")));
        assertThat(map.of("id-a")).isEmpty();
        assertThat(map.machineRedundant()).isFalse();
    }

    @Test
    void onOneMachineTheRingUsesSameMachineMembersAndSaysSo() {
        List<NodeInfo> view = List.of(node("a", "m1"), node("b", "m1"), node("c", "m1"));
        FailoverMap map = new RingFailoverPolicy(1).compute(view);
        assertThat(names(map.of("id-a"))).containsExactly("b");
        assertThat(names(map.of("id-b"))).containsExactly("c");
        assertThat(names(map.of("id-c"))).containsExactly("a");
        assertThat(map.machineRedundant()).isFalse();
    }

    @Test
    void onTwoMachinesTheNextMemberOnTheOtherMachineIsChosen() {
        List<NodeInfo> view = List.of(node("a1", "A"), node("a2", "A"), node("b1", "B"), node("b2", "B"));
        FailoverMap map = new RingFailoverPolicy(1).compute(view);
        assertThat(names(map.of("id-a1"))).containsExactly("b1");
        assertThat(names(map.of("id-a2"))).containsExactly("b1");
        assertThat(names(map.of("id-b1"))).containsExactly("a1");
        assertThat(names(map.of("id-b2"))).containsExactly("a1");
        assertThat(map.machineRedundant()).isTrue();
        assertThat(names(new RingFailoverPolicy(2).compute(view).of("id-a2"))).containsExactly("b1", "b2");
    }

    @Test
    void moreBackupsThanMembersGivesEveryOtherMember() {
        List<NodeInfo> view = List.of(node("a", "A"), node("b", "B"), node("c", "C"));
        FailoverMap map = new RingFailoverPolicy(5).compute(view);
        assertThat(names(map.of("id-b"))).containsExactly("c", "a");
    }

    @Test
    void aLeaveMovesTheDutyToTheNextMember() {
        List<NodeInfo> view = new ArrayList<>(List.of(node("a", "A"), node("b", "B"), node("c", "C")));
        assertThat(names(new RingFailoverPolicy(1).compute(view).of("id-a"))).containsExactly("b");
        view.remove(1);
        assertThat(names(new RingFailoverPolicy(1).compute(view).of("id-a"))).containsExactly("c");
    }

    @Test
    void negativeBackupsAreRefused() {
        assertThatThrownBy(() -> new RingFailoverPolicy(-1)).hasMessage("backups must be >= 0: -1");
    }

    @Provide
    Arbitrary<List<NodeInfo>> views() {
        Arbitrary<String> machines = Arbitraries.of("m1", "m2", "m3", "m4");
        return machines.list().ofMinSize(1).ofMaxSize(12).map(ms -> {
            List<NodeInfo> view = new ArrayList<>();
            for (int i = 0; i < ms.size(); i++) {
                view.add(node("n" + i, ms.get(i)));
            }
            return view;
        });
    }

    @Property(seed = "20261122")
    void failoverNodesAreOtherDistinctMembersOnOtherMachinesWhenThereAreAny(
            @ForAll("views") List<NodeInfo> view, @ForAll @IntRange(min = 0, max = 5) int backups) {
        FailoverMap map = new RingFailoverPolicy(backups).compute(view);
        assertThat(map.failover().keySet()).hasSize(view.size());
        for (NodeInfo node : view) {
            List<NodeInfo> chosen = map.of(node.nodeId());
            assertThat(chosen).doesNotContain(node).doesNotHaveDuplicates();
            assertThat(view).containsAll(chosen);
            long otherMachine = view.stream().filter(m -> !m.machineId().equals(node.machineId())).count();
            if (otherMachine > 0) {
                assertThat(chosen).allMatch(m -> !m.machineId().equals(node.machineId()));
                assertThat(chosen).hasSize((int) Math.min(backups, otherMachine));
            } else {
                assertThat(chosen).hasSize(Math.min(backups, view.size() - 1));
            }
        }
    }

    @Property(seed = "20261122")
    void theFirstFailoverNodeIsTheNextEligibleMemberAroundTheRing(@ForAll("views") List<NodeInfo> view) {
        FailoverMap map = new RingFailoverPolicy(1).compute(view);
        for (int i = 0; i < view.size(); i++) {
            NodeInfo node = view.get(i);
            boolean other = view.stream().anyMatch(m -> !m.machineId().equals(node.machineId()));
            NodeInfo expected = null;
            for (int step = 1; step < view.size() && expected == null; step++) {
                NodeInfo next = view.get((i + step) % view.size());
                if (!other || !next.machineId().equals(node.machineId())) {
                    expected = next;
                }
            }
            assertThat(map.of(node.nodeId())).isEqualTo(expected == null ? List.of() : List.of(expected));
        }
    }

    @Property(seed = "20261122")
    void redundancyMeansEveryMemberHasABackupOnAnotherMachine(
            @ForAll("views") List<NodeInfo> view, @ForAll @IntRange(min = 0, max = 3) int backups) {
        FailoverMap map = new RingFailoverPolicy(backups).compute(view);
        Set<String> machines = new HashSet<>();
        view.forEach(n -> machines.add(n.machineId()));
        assertThat(map.machineRedundant()).isEqualTo(backups > 0 && machines.size() > 1);
    }

    @Property(seed = "20261122")
    void theMapDependsOnlyOnTheView(@ForAll("views") List<NodeInfo> view, @ForAll @IntRange(min = 0, max = 3) int backups) {
        assertThat(new RingFailoverPolicy(backups).compute(List.copyOf(view)))
                .isEqualTo(new RingFailoverPolicy(backups).compute(new ArrayList<>(view)));
    }
}
