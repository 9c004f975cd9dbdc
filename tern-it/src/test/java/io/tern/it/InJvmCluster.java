package io.tern.it;

import io.tern.broker.BrokerConfig;
import io.tern.cluster.ClusterNode;
import io.tern.cluster.ClusteredNode;
import io.tern.cluster.ReplicatingStore;
import io.tern.cluster.RingFailoverPolicy;
import io.tern.cluster.Takeover;
import io.tern.protocol.NodeInfo;
import io.tern.server.TernServer;
import io.tern.discovery.FreePorts;
import org.jgroups.protocols.DISCARD;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.awaitility.Awaitility.await;

/**
 * Real servers in one JVM, each with a store that replicates to its failover node (k = 1) over a
 * SHARED_LOOPBACK cluster of its own name, and a takeover of dead members, assembled by
 * {@link ClusteredNode} as {@code tern server} assembles them.
 */
final class InJvmCluster implements AutoCloseable {
    private final Path dir;
    private final String name = "cluster-" + UUID.randomUUID();
    private final long recoveryTimeoutMs;
    final List<Node> nodes = new CopyOnWriteArrayList<>();
    /** Nodes restarted before they were found gone: their old start, silent, is in the view until it is suspected. */
    private final List<ClusterNode> silentStarts = new CopyOnWriteArrayList<>();
    /** Values for the stack's placeholders of the nodes started from now on (fd_timeout, ...). */
    Map<String, String> stackProps = Map.of();
    /** Messages each node discarded on its last start because it had been taken over. */
    final Map<String, Integer> discardedOnStart = new ConcurrentHashMap<>();

    record Node(String name, TernServer server, ClusteredNode clustered) {
        ClusterNode cluster() {
            return clustered.cluster();
        }

        ReplicatingStore store() {
            return clustered.store();
        }

        Takeover takeover() {
            return clustered.takeover();
        }

        String id() {
            return cluster().self().nodeId();
        }

        String url() {
            return server.url();
        }
    }

    InJvmCluster(Path dir) {
        this(dir, 15_000);
    }

    InJvmCluster(Path dir, long recoveryTimeoutMs) {
        this.dir = dir;
        this.recoveryTimeoutMs = recoveryTimeoutMs;
    }

    /** Starts (or restarts, on its data directory) a node; it serves clients only after the takeover check. */
    Node start(String nodeName) throws Exception {
        return start(nodeName, 0);
    }

    /**
     * As {@link #start(String)}, with the node's clocks (the broker's and the takeover's) set
     * {@code clockOffsetMs} away from the machine's: nodes whose clocks disagree by hours.
     */
    Node start(String nodeName, long clockOffsetMs) throws Exception {
        ReplicatingStore[] store = new ReplicatingStore[1];
        TernServer server = TernServer.start(BrokerConfig.builder().name(nodeName).dataDir(dir.resolve(nodeName))
                .port(FreePorts.free()).bindAddress("127.0.0.1").recoveryTimeoutMs(recoveryTimeoutMs).build(),
                s -> store[0] = new ReplicatingStore(s), () -> System.currentTimeMillis() + clockOffsetMs);
        NodeInfo self = new NodeInfo(server.broker().nodeId(), nodeName, "machine-" + nodeName, List.of(server.url()), "");
        ClusteredNode clustered = ClusteredNode.join(server.broker(), store[0],
                new ClusterNode.Config(name, "loopback", stackProps, new RingFailoverPolicy(1), true), self,
                ClusteredNode.Settings.defaults(dir.resolve(nodeName).resolve("takeovers"))
                        .withNanoClock(() -> System.nanoTime() + clockOffsetMs * 1_000_000L).withClusteredQueues(true));
        discardedOnStart.put(nodeName, clustered.discardedOnStart());
        Node n = new Node(nodeName, server, clustered);
        nodes.add(n);
        return n;
    }

    /** Starts the named nodes and waits until every one is in the view and every replica is in sync. */
    List<Node> startInSync(String... names) throws Exception {
        for (String n : names) {
            start(n);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> nodes.stream().allMatch(n -> n.cluster().members().size() == names.length
                && !n.store().backups().isEmpty()
                && n.store().backups().stream().allMatch(b -> byId(b) != null && !byId(b).store().replicas().isSyncing(n.id()))));
        return List.copyOf(nodes);
    }

    private Node byId(String id) {
        return nodes.stream().filter(n -> n.id().equals(id)).findFirst().orElse(null);
    }

    /** The node {@code node}'s failover map names first. */
    Node failoverOf(Node node) {
        return byId(node.cluster().topology().failover().get(node.id()).get(0).nodeId());
    }

    /** A crash: the node falls silent to the cluster and its client connections drop. */
    void crash(Node n) {
        DISCARD discard = n.cluster().jgroupsChannel().getProtocolStack().findProtocol(DISCARD.class);
        discard.discardAll(true);
        n.server().close();
        n.clustered().close();
        nodes.remove(n);
    }

    /**
     * A SIGKILL and a restart before the node is found gone: the old start falls silent (its channel
     * stays open, as a dead process's address stays in the view until it is suspected), its clients'
     * connections drop, and a new start of the node begins on the same data directory.
     */
    Node restartBeforeFoundGone(Node n) throws Exception {
        DISCARD discard = n.cluster().jgroupsChannel().getProtocolStack().findProtocol(DISCARD.class);
        discard.discardAll(true);
        n.server().close();
        n.takeover().close();
        nodes.remove(n);
        silentStarts.add(n.cluster());
        return start(n.name());
    }

    @Override
    public void close() {
        silentStarts.forEach(ClusterNode::close);
        for (Node n : nodes) {
            n.clustered().close();
            n.server().close();
        }
    }
}
