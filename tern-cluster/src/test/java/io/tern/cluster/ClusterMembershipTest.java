package io.tern.cluster;

import io.tern.protocol.ClusterTopology;
import io.tern.protocol.NodeInfo;
import org.jgroups.Address;
import org.jgroups.MergeView;
import org.jgroups.View;
import org.jgroups.protocols.DISCARD;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Clusters in one JVM over JGroups SHARED_LOOPBACK, one failure scenario per test: join, leave,
 * crash, partition and merge. Each test has its own cluster name.
 */
@Timeout(60)
class ClusterMembershipTest {
    private final String cluster = "membership-" + UUID.randomUUID();
    private final List<ClusterNode> nodes = new ArrayList<>();

    @AfterEach
    void leave() {
        nodes.forEach(ClusterNode::close);
    }

    private ClusterNode join(String name, String machine) throws Exception {
        NodeInfo info = new NodeInfo(UUID.randomUUID().toString(), name, machine, List.of("tern://127.0.0.1:" + (5000 + nodes.size())), "");
        ClusterNode n = ClusterNode.join(new ClusterNode.Config(cluster, "loopback", Map.of(), new RingFailoverPolicy(1), true), info);
        nodes.add(n);
        return n;
    }

    private static List<String> names(ClusterNode n) {
        return n.members().stream().map(NodeInfo::name).toList();
    }

    private static DISCARD discard(ClusterNode n) {
        return n.jgroupsChannel().getProtocolStack().findProtocol(DISCARD.class);
    }

    private static Address address(ClusterNode n) {
        return n.jgroupsChannel().getAddress();
    }

    /** Every node of {@code group} sees exactly {@code group}, with one and the same topology. */
    private static void awaitSameView(List<ClusterNode> group) {
        await().atMost(Duration.ofSeconds(30)).until(() -> group.stream().allMatch(n -> n.members().size() == group.size()));
        ClusterTopology first = group.get(0).topology();
        for (ClusterNode n : group) {
            assertThat(n.topology()).isEqualTo(first);
            assertThat(n.topology().digest()).isEqualTo(first.digest());
        }
    }

    @Test
    void joiningNodesSeeTheSameMembersAndFailoverMap() throws Exception {
        ClusterNode a = join("a", "A");
        ClusterNode b = join("b", "B");
        ClusterNode c = join("c", "C");
        awaitSameView(List.of(a, b, c));
        ClusterTopology t = a.topology();
        assertThat(names(a)).containsExactly("a", "b", "c");
        assertThat(t.failover().get(a.self().nodeId())).singleElement().satisfies(f -> assertThat(f.nodeId()).isEqualTo(b.self().nodeId()));
        assertThat(t.failover().get(c.self().nodeId())).singleElement().satisfies(f -> assertThat(f.nodeId()).isEqualTo(a.self().nodeId()));
        assertThat(t.machineRedundant()).isTrue();
        assertThat(t.members()).extracting(NodeInfo::clientUris).allMatch(u -> u.size() == 1);
        assertThat(nodes).allMatch(ClusterNode::hasQuorum);
    }

    @Test
    void aMessageOfAnotherProtocolVersionIsDroppedAndCountedAndTheCurrentOneArrives() throws Exception {
        ClusterNode a = join("a", "A");
        ClusterNode b = join("b", "B");
        awaitSameView(List.of(a, b));
        List<String> got = new java.util.concurrent.CopyOnWriteArrayList<>();
        b.addPayloadHandler("!", (from, payload, offset, length) -> got.add(from + ":" + new String(payload, offset, length,
                java.nio.charset.StandardCharsets.UTF_8)));
        byte[] old = ClusterCodec.envelope("!old".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        old[0] = (byte) (ClusterCodec.VERSION - 1);
        a.jgroupsChannel().send(new org.jgroups.BytesMessage(address(b), old));
        assertThat(a.send(b.self().nodeId(), "!now".getBytes(java.nio.charset.StandardCharsets.UTF_8))).isTrue();
        await().atMost(Duration.ofSeconds(10)).until(() -> !got.isEmpty());
        assertThat(got).as("JGroups keeps a sender's order: the old one came first and was dropped")
                .containsExactly(a.self().nodeId() + ":!now");
        assertThat(b.foreignMessages()).isEqualTo(1);
    }

    @Test
    void aGracefulLeaveGivesItsDutyToTheNextAndKeepsTheQuorum() throws Exception {
        ClusterNode a = join("a", "A");
        ClusterNode b = join("b", "B");
        ClusterNode c = join("c", "C");
        awaitSameView(List.of(a, b, c));
        nodes.remove(b);
        b.close();
        awaitSameView(List.of(a, c));
        assertThat(a.topology().failover().get(a.self().nodeId())).singleElement()
                .satisfies(f -> assertThat(f.nodeId()).isEqualTo(c.self().nodeId()));
        nodes.remove(c);
        c.close();
        await().until(() -> a.members().size() == 1);
        assertThat(a.hasQuorum()).as("two graceful leaves in a row leave a node with the quorum").isTrue();
    }

    @Test
    void aCrashedNodeIsDroppedAndTheMapRecomputedWithinTheDetectionTime() throws Exception {
        ClusterNode a = join("a", "A");
        ClusterNode b = join("b", "B");
        ClusterNode c = join("c", "C");
        awaitSameView(List.of(a, b, c));
        discard(c).discardAll(true); // c goes silent, as a crashed or paused process does
        awaitSameView(List.of(a, b));
        assertThat(a.topology().failover().get(b.self().nodeId())).singleElement()
                .satisfies(f -> assertThat(f.nodeId()).isEqualTo(a.self().nodeId()));
        assertThat(a.hasQuorum()).isTrue();
    }

    /** Splits {@code a, b} from {@code c} and waits until each side has its own view. */
    private static void cutOff(ClusterNode a, ClusterNode b, ClusterNode c) {
        discard(a).addIgnoreMember(address(c));
        discard(b).addIgnoreMember(address(c));
        discard(c).addIgnoredMembers(address(a), address(b));
        awaitSameView(List.of(a, b));
        await().atMost(Duration.ofSeconds(30)).until(() -> c.members().size() == 1);
    }

    /** Lets every node hear every other again. */
    private static void heal(ClusterNode... group) {
        for (ClusterNode n : group) {
            discard(n).resetIgnoredMembers();
        }
    }

    @Test
    void aPartitionLeavesTheMinorityWithoutQuorumUntilItMerges() throws Exception {
        ClusterNode a = join("a", "A");
        ClusterNode b = join("b", "B");
        ClusterNode c = join("c", "C");
        awaitSameView(List.of(a, b, c));
        cutOff(a, b, c);
        assertThat(a.hasQuorum()).isTrue();
        assertThat(b.hasQuorum()).isTrue();
        assertThat(c.hasQuorum()).isFalse();
        assertThat(c.topology().quorum()).isFalse();

        heal(a, b, c);
        awaitSameView(List.of(a, b, c)); // MERGE3 heals the partition
        assertThat(nodes).allMatch(ClusterNode::hasQuorum);
    }

    /**
     * A node whose JGroups merge tasks stopped (MERGE3 stops them on a temporary view and starts them
     * only when a view is installed) is merged back all the same once the partition heals: the
     * node's {@link MergeWatch} announces its view for it. Without the watch nobody would send or
     * compare the view ids that differ, and the split would last.
     */
    @Test
    void aNodeWhoseMergeTasksStoppedIsStillMergedBackAfterAPartition() throws Exception {
        ClusterNode a = join("a", "A");
        ClusterNode b = join("b", "B");
        ClusterNode c = join("c", "C");
        awaitSameView(List.of(a, b, c));
        cutOff(a, b, c);
        // What a dropped temporary view leaves behind on c: its MERGE3 neither announces nor checks.
        org.jgroups.protocols.MERGE3 merge = c.jgroupsChannel().getProtocolStack().findProtocol(org.jgroups.protocols.MERGE3.class);
        merge.down(new org.jgroups.Event(org.jgroups.Event.TMP_VIEW, c.jgroupsChannel().getView()));
        assertThat(merge.isInfoSenderRunning()).isFalse();
        assertThat(merge.isViewConsistencyCheckerRunning()).isFalse();

        heal(a, b, c);
        awaitSameView(List.of(a, b, c));
        assertThat(merge.isInfoSenderRunning()).as("the merged view started c's tasks again").isTrue();
    }

    @Test
    void withTheQuorumRuleOffTheLastNodeOfTwoKeepsAcceptingSends() throws Exception {
        NodeInfo one = new NodeInfo("one", "one", "A", List.of(), "");
        NodeInfo two = new NodeInfo("two", "two", "B", List.of(), "");
        ClusterNode.Config off = new ClusterNode.Config(cluster, "loopback", Map.of(), new RingFailoverPolicy(1), false);
        ClusterNode a = ClusterNode.join(off, one);
        nodes.add(a);
        ClusterNode b = ClusterNode.join(off, two);
        nodes.add(b);
        awaitSameView(List.of(a, b));
        discard(b).discardAll(true);
        await().atMost(Duration.ofSeconds(30)).until(() -> a.members().size() == 1);
        assertThat(a.hasQuorum()).isTrue();
    }

    @Test
    void theTcpStackFormsAClusterFromItsSeeds() throws Exception {
        int p1 = io.tern.discovery.FreePorts.free();
        int p2 = io.tern.discovery.FreePorts.free();
        String seeds = "127.0.0.1[" + p1 + "],127.0.0.1[" + p2 + "]";
        ClusterNode a = ClusterNode.join(new ClusterNode.Config(cluster, "tcp", Map.of("bind_port", "" + p1, "seeds", seeds),
                new RingFailoverPolicy(1), true), new NodeInfo("a", "a", "A", List.of(), ""));
        nodes.add(a);
        ClusterNode b = ClusterNode.join(new ClusterNode.Config(cluster, "tcp", Map.of("bind_port", "" + p2, "seeds", seeds),
                new RingFailoverPolicy(1), true), new NodeInfo("b", "b", "B", List.of(), ""));
        nodes.add(b);
        awaitSameView(List.of(a, b));
        assertThat(a.topology().failover().get("a")).singleElement().satisfies(f -> assertThat(f.nodeId()).isEqualTo("b"));
    }

    @Test
    void aStackWithoutARequiredValueSaysWhichOne() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> StackConfig.load("kubernetes", Map.of()))
                .hasMessageContaining("needs a value for tern.dns_query");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> StackConfig.load("carrier-pigeon", Map.of()))
                .hasMessageContaining("unknown JGroups stack 'carrier-pigeon'");
    }

    @Test
    void theNodeInfoTravelsInTheAddressIntact() {
        NodeInfo info = new NodeInfo("id-1", "n1", "machine-9", List.of("tern://127.0.0.1:5445", "terns://h:5446"), "http://h:8161");
        assertThat(ClusterNode.decode(ClusterNode.encode(info))).isEqualTo(info);
    }

    /**
     * A node restarted before its previous start was suspected is in the view twice. A join appends
     * the new start, but a merge (the new start formed a cluster of its own first, say) orders members
     * by subgroup: the later start is the live one wherever it stands, or its failover node never
     * sees that it restarted, never takes the previous start over, and the new start never discards.
     * The start number kept in the data directory decides, also when the clock stepped back between
     * the two starts; without numbers, the clock does.
     */
    @Test
    void ofTwoStartsOfANodeInAViewTheLaterOneIsLiveWhateverTheOrder() throws Exception {
        ClusterNode a = join("a", "A");
        long now = System.currentTimeMillis();
        // The clock stepped back between the starts: the numbers decide.
        twoStartsMerged(a, new NodeStart(4, now), new NodeStart(5, now - 60_000));
        // No numbers: the clock decides.
        twoStartsMerged(a, new NodeStart(-1, now - 1_000), new NodeStart(-1, now));

        // A start sees itself live, whatever another start of its node (a stale one, say) carries.
        NodeInfo c = new NodeInfo(UUID.randomUUID().toString(), "c", "C", List.of(), "");
        ClusterNode live = ClusterNode.create(new ClusterNode.Config(cluster + "-" + UUID.randomUUID(), "loopback", Map.of(),
                new RingFailoverPolicy(1), true), c, new NodeStart(1, now - 1_000));
        nodes.add(live);
        live.connect();
        Address other = startAlone(c, new NodeStart(2, now));
        String own = ((org.jgroups.util.UUID) address(live)).toStringLong();
        for (List<Address> members : List.of(List.of(address(live), other), List.of(other, address(live)))) {
            live.viewAccepted(new MergeView(address(live), live.viewId() + 2, members,
                    List.of(new View(address(live), live.viewId() + 1, List.of(address(live))), new View(other, 1, List.of(other)))));
            assertThat(live.incarnation(c.nodeId())).as("its own start in %s", members).isEqualTo(own);
        }
    }

    /** Feeds {@code a} merge views with two starts of one node, in both orders: the later start is b's live one. */
    private void twoStartsMerged(ClusterNode a, NodeStart earlierStart, NodeStart laterStart) throws Exception {
        NodeInfo b = new NodeInfo(UUID.randomUUID().toString(), "b", "B", List.of(), "");
        Address earlier = startAlone(b, earlierStart);
        Address later = startAlone(b, laterStart);
        String laterIncarnation = ((org.jgroups.util.UUID) later).toStringLong();
        for (List<Address> members : List.of(List.of(address(a), earlier, later), List.of(address(a), later, earlier))) {
            View own = new View(address(a), a.viewId() + 1, List.of(address(a), earlier));
            View merged = new MergeView(address(a), a.viewId() + 2, members, List.of(own, new View(later, 1, List.of(later))));
            a.viewAccepted(merged);
            assertThat(a.incarnation(b.nodeId())).as("the live start of b in %s", members).isEqualTo(laterIncarnation);
            assertThat(names(a)).containsExactly("a", "b");
        }
    }

    /** The address of a start of {@code info}, alone in a cluster of its own. */
    private Address startAlone(NodeInfo info, NodeStart start) throws Exception {
        ClusterNode n = ClusterNode.create(new ClusterNode.Config(cluster + "-" + UUID.randomUUID(), "loopback", Map.of(),
                new RingFailoverPolicy(1), true), info, start);
        nodes.add(n);
        n.connect();
        return address(n);
    }

    @Test
    void aNodesStartsAreNumberedInItsDataDirectory(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        long first = NodeStart.now(dir).number();
        assertThat(NodeStart.now(dir).number()).isGreaterThan(first);
        // A count that went back (a data directory restored from a backup) or was damaged still gives a later start.
        long second = NodeStart.now(dir).number();
        org.junit.jupiter.api.Assertions.assertDoesNotThrow(() -> java.nio.file.Files.writeString(dir.resolve("starts"), "3\n"));
        await().atMost(Duration.ofSeconds(5)).until(() -> System.currentTimeMillis() > second); // a restore takes longer
        assertThat(NodeStart.now(dir).number()).isGreaterThan(second);
        long third = NodeStart.now(dir).number();
        org.junit.jupiter.api.Assertions.assertDoesNotThrow(() -> java.nio.file.Files.writeString(dir.resolve("starts"), "garbage"));
        await().atMost(Duration.ofSeconds(5)).until(() -> System.currentTimeMillis() > third);
        assertThat(NodeStart.now(dir).number()).isGreaterThan(third);
        assertThat(NodeStart.now(null).number()).as("no data directory: no number").isEqualTo(-1);
        java.nio.file.Path notADirectory = dir.resolve("file");
        org.junit.jupiter.api.Assertions.assertDoesNotThrow(() -> java.nio.file.Files.writeString(notADirectory, "x"));
        assertThat(NodeStart.now(notADirectory).number()).as("the count cannot be kept: the clock alone").isEqualTo(-1);
    }
}
