package io.tern.cluster;

import io.tern.broker.ClusterPort;
import io.tern.protocol.NodeInfo;

import java.nio.file.Path;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Builds a clustered node out of a running broker: membership, and with a replicating store also
 * replication, takeover of dead members and the check, before serving, whether this node was taken
 * over while it was gone. The one assembler for {@code tern server} and for the in-JVM tests, so
 * the tests run the node that ships.
 *
 * <p>Wiring, in order: the broker holds its clients; the store and the takeover attach to the
 * not-yet-connected cluster node (so nothing the cluster says is missed); every view feeds the
 * broker its topology and, by the quorum, whether it accepts sends and delivers stored messages;
 * the cluster links of clustered queues ({@link QueueLinks}) attach; the node connects; the takeover
 * check runs; the broker serves.
 */
public final class ClusteredNode implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ClusteredNode.class);

    private final ClusterNode node;
    private final ReplicatingStore store;
    private final Takeover takeover;
    private final QueueLinks links;
    private final DestinationMirrors mirrors;
    private final int discardedOnStart;

    /**
     * Settings of a clustered node besides its cluster's.
     *
     * @param takeoverRecords     where the takeovers this node knows of are kept (null: memory only)
     * @param admissionWaitMs     how long a client of a node still in the view waits here for that node's takeover
     * @param checkTimeoutMs      how long the check before serving waits for the members' answers
     * @param nanoClock           the takeover's clock (System::nanoTime but in tests)
     * @param takeoverPauseMs     fault injection: a pause of every takeover after storing (0: none)
     * @param clusteredQueues     whether queues, topics and temporary queues are clustered (docs/CLUSTERING.md);
     *                            off: each node's destinations are its own
     */
    public record Settings(Path takeoverRecords, long admissionWaitMs, long checkTimeoutMs, LongSupplier nanoClock,
                           long takeoverPauseMs, boolean clusteredQueues) {
        public Settings {
            Objects.requireNonNull(nanoClock, "nanoClock");
            if (admissionWaitMs < 0 || checkTimeoutMs < 0 || takeoverPauseMs < 0) {
                throw new IllegalArgumentException("waits must be >= 0: " + admissionWaitMs + ", " + checkTimeoutMs + ", "
                        + takeoverPauseMs);
            }
        }

        /** The defaults: admission wait 10 s, check 5 s, the system clock, no fault, destinations clustered. */
        public static Settings defaults(Path takeoverRecords) {
            return new Settings(takeoverRecords, 10_000, 5_000, System::nanoTime, 0, true);
        }

        public Settings withAdmissionWaitMs(long ms) {
            return new Settings(takeoverRecords, ms, checkTimeoutMs, nanoClock, takeoverPauseMs, clusteredQueues);
        }

        public Settings withNanoClock(LongSupplier clock) {
            return new Settings(takeoverRecords, admissionWaitMs, checkTimeoutMs, clock, takeoverPauseMs, clusteredQueues);
        }

        public Settings withTakeoverPauseMs(long ms) {
            return new Settings(takeoverRecords, admissionWaitMs, checkTimeoutMs, nanoClock, ms, clusteredQueues);
        }

        public Settings withClusteredQueues(boolean on) {
            return new Settings(takeoverRecords, admissionWaitMs, checkTimeoutMs, nanoClock, takeoverPauseMs, on);
        }
    }

    private ClusteredNode(ClusterNode node, ReplicatingStore store, Takeover takeover, QueueLinks links,
                          DestinationMirrors mirrors, int discardedOnStart) {
        this.node = node;
        this.store = store;
        this.takeover = takeover;
        this.links = links;
        this.mirrors = mirrors;
        this.discardedOnStart = discardedOnStart;
    }

    /**
     * Joins {@code broker} to its cluster and returns once it serves clients.
     *
     * @param store the broker's store if it replicates (then this node takes part in replication and
     *              takeover), or null for membership alone
     */
    public static ClusteredNode join(ClusterPort broker, ReplicatingStore store, ClusterNode.Config config, NodeInfo self,
                                     Settings settings) throws Exception {
        // Its start is numbered in its data directory (beside the takeover records): of two of its starts in a
        // view, the members take the later for the live one.
        ClusterNode node = ClusterNode.create(config, self, NodeStart.now(settings.takeoverRecords() == null ? null
                : settings.takeoverRecords().toAbsolutePath().getParent()));
        node.onSuspected(name -> broker.events().record("suspected", name, "silent past failure detection (confirmed)"));
        Takeover takeover = null;
        if (store != null) {
            broker.availability().starting("node " + self.name() + " is joining its cluster and checks whether it was taken over");
            store.attach(node);
            broker.setDuplicateIdsElsewhere(store.replicas()::knownOrClaimed);
            store.setOutstandingDeliveries(broker::outstandingDeliveries);
            // Told it was taken over: for a few seconds (it finds out and discards meanwhile, or the record was
            // stale) it hands nothing of its own to other nodes.
            store.setRefusedAsTakenOver(() -> broker.availability().doubtOwnership(5_000));
            takeover = new Takeover(node, store, broker, settings.takeoverRecords(), settings.admissionWaitMs(),
                    settings.nanoClock());
            takeover.pauseAfterStoreForTests(settings.takeoverPauseMs());
        }
        node.addListener((topology, quorum) -> {
            broker.setTopology(topology);
            // Without the quorum sends are refused and, with replication (the majority takes this node's
            // messages over), stored messages are not delivered: NodeState.NO_QUORUM.
            broker.availability().quorum(quorum ? null : "node " + self.name() + " is in a partition without a majority "
                    + "of the cluster's last stable view (it misses " + String.join(", ", topology.missing())
                    + "); it accepts no sends until enough of them are back");
        });
        QueueLinks links = null;
        DestinationMirrors mirrors = null;
        if (settings.clusteredQueues()) {
            if (takeover != null) {
                takeover.spreadConnectionsOnJoin();
            }
            links = new QueueLinks(node, broker, takeover);
            // When the node stops, this node stores no more messages moved to it and serves no more of its own
            // to others before its store closes; what was on its way stays in doubt at the node it came from,
            // which resolves it with whoever holds this node's messages.
            broker.beforeStoreCloses(links::close);
            mirrors = new DestinationMirrors(node, broker);
            new GroupOwnership(node, broker); // the broker holds it: one owner per message group cluster-wide
        }
        node.connect();
        int discarded = 0;
        if (takeover != null) {
            discarded = takeover.checkBeforeServing(settings.checkTimeoutMs());
            broker.availability().started();
            takeover.serving();
            watchPauses(node, broker, takeover, settings);
        }
        ClusteredNode clustered = new ClusteredNode(node, store, takeover, links, mirrors, discarded);
        broker.setNextServer(clustered::nextServer);
        return clustered;
    }

    private final java.util.concurrent.atomic.AtomicInteger nextServer = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * Where a client of this stopping or drained node goes: its first failover node, which the client
     * would choose after a crash too; else the other members in turn; "" if there is no other member.
     */
    public String nextServer() {
        io.tern.protocol.ClusterTopology t = node.topology();
        for (io.tern.protocol.FailoverInfo f : t.failover().getOrDefault(node.self().nodeId(), java.util.List.of())) {
            if (!f.clientUris().isEmpty()) {
                return f.clientUris().get(0);
            }
        }
        java.util.List<String> others = new java.util.ArrayList<>();
        for (NodeInfo n : t.members()) {
            if (!n.nodeId().equals(node.self().nodeId()) && !n.clientUris().isEmpty()) {
                others.add(n.clientUris().get(0));
            }
        }
        return others.isEmpty() ? "" : others.get(Math.floorMod(nextServer.getAndIncrement(), others.size()));
    }

    /**
     * A pause of this JVM longer than half the failure-detection time may have let the others take
     * this node over: after one, the node holds its clients' requests until it has asked them.
     */
    private static void watchPauses(ClusterNode node, ClusterPort broker, Takeover takeover, Settings settings) {
        long detectionMs = node.failureDetectionMs();
        if (detectionMs <= 0) {
            LOG.warn("The cluster's stack has no failure detection by silence (FD_ALL3): pauses of this node are not watched");
            return;
        }
        long thresholdMs = Math.max(detectionMs / 2, 2 * io.tern.broker.NodeAvailability.PAUSE_TICK_MS);
        broker.availability().watchPauses(thresholdMs, settings.nanoClock(), gapMs -> takeover.checkAfterPause(gapMs, settings.checkTimeoutMs()));
    }

    public ClusterNode cluster() {
        return node;
    }

    /** The replicating store, or null if this node does not replicate. */
    public ReplicatingStore store() {
        return store;
    }

    /** The takeover, or null if this node does not replicate. */
    public Takeover takeover() {
        return takeover;
    }

    /** How many stored messages the check before serving discarded (this node had been taken over). */
    public int discardedOnStart() {
        return discardedOnStart;
    }

    /** Leaves the cluster (gracefully: the members note it, so it does not count against their quorum). */
    @Override
    public void close() {
        if (links != null) {
            links.close();
            mirrors.close();
        }
        if (takeover != null) {
            takeover.close();
        }
        node.close();
    }
}
