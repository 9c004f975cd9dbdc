package io.tern.cluster;

import io.tern.protocol.NodeInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** A cluster with a secret admits only members with the same secret, and a short secret is refused. */
@Timeout(90)
class ClusterSecretTest {
    private final String cluster = "secret-" + UUID.randomUUID();
    private final List<ClusterNode> nodes = new ArrayList<>();

    @AfterEach
    void leave() {
        nodes.forEach(ClusterNode::close);
    }

    private ClusterNode join(String name, ClusterSecret secret) throws Exception {
        NodeInfo info = new NodeInfo(UUID.randomUUID().toString(), name, "m-" + name, List.of("tern://127.0.0.1:" + (6000 + nodes.size())), "");
        ClusterNode n = ClusterNode.join(new ClusterNode.Config(cluster, "loopback", Map.of(), new RingFailoverPolicy(1), true, secret), info);
        nodes.add(n);
        return n;
    }

    @Test
    void onlyMembersWithTheSameSecretFormAView() throws Exception {
        ClusterSecret ours = ClusterSecret.of("our cluster secret, 32 bytes long");
        ClusterNode a = join("a", ours);
        ClusterNode b = join("b", ours);
        await().atMost(Duration.ofSeconds(30)).until(() -> a.members().size() == 2 && b.members().size() == 2);
        ClusterNode wrong = join("wrong", ClusterSecret.of("someone else's secret of 32 byte"));
        ClusterNode none = join("none", null);
        // The strangers end up alone (each its own view), and the members never see them.
        assertThat(wrong.members()).extracting(NodeInfo::name).containsExactly("wrong");
        assertThat(none.members()).extracting(NodeInfo::name).doesNotContain("a", "b");
        assertThat(a.members()).extracting(NodeInfo::name).containsExactlyInAnyOrder("a", "b");
        assertThat(b.members()).extracting(NodeInfo::name).containsExactlyInAnyOrder("a", "b");
        // A third member with the secret still joins.
        ClusterNode c = join("c", ours);
        await().atMost(Duration.ofSeconds(30)).until(() -> c.members().size() == 3 && a.members().size() == 3);
        // Nor do the strangers get in later, when the members look for partitions to merge (every 1-2 s here).
        Thread.sleep(6000); // absence cannot be polled for
        assertThat(a.members()).extracting(NodeInfo::name).containsExactlyInAnyOrder("a", "b", "c");
        assertThat(wrong.members()).extracting(NodeInfo::name).containsExactly("wrong");
    }

    @Test
    void aShortSecretIsRefusedWithItsRule() {
        assertThatThrownBy(() -> ClusterSecret.of("too short"))
                .hasMessageContaining("a cluster secret needs at least 16 bytes; this one has 9");
    }
}
