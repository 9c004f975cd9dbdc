/**
 * Cluster membership, replication and takeover.
 *
 * <ul>
 *   <li>{@link io.tern.cluster.ClusterNode}: a JGroups channel whose addresses carry each node's
 *       {@link io.tern.protocol.NodeInfo}; on every view a {@link io.tern.cluster.FailoverPolicy} (by
 *       default {@link io.tern.cluster.RingFailoverPolicy}) computes each node's failover nodes, and
 *       the quorum rule says whether this node's partition may accept sends. Stacks ship as
 *       resources under {@code tern/jgroups/}. {@code MergeWatch} keeps JGroups' merge tasks alive, so
 *       that a healed split is merged back.</li>
 *   <li>{@link io.tern.cluster.ReplicatingStore}: the primary side of replication (a commit waits
 *       for every failover node of the map, and for former ones still standing in while new ones
 *       sync); {@code BackupSet}: who the backups are and how far each one is; {@code WaitingCommits}:
 *       the commits waiting for them; {@code SnapshotStream}: a snapshot on its way to a new backup;
 *       {@link io.tern.cluster.Replicas} and {@code Replica}: the backup side;
 *       {@link io.tern.cluster.ReplicationMessage}: their messages.</li>
 *   <li>{@link io.tern.cluster.Takeover}: who takes over a dead, paused or restarted node (the
 *       planner, on view changes), and the takeover itself; {@code ReplicaHandover}: getting the
 *       best replica the members hold before it; {@code SelfDiscard}: the check a node makes
 *       before it serves and after its JVM was stopped, and its discard when it learns it was taken
 *       over; {@code AbsentReplicas}: replicas on disk of nodes that left while this node was down
 *       (dropped, kept or taken over); {@code AdmissionDesk}:
 *       which node serves a client of a taken-over node; {@link io.tern.cluster.TakeoverRecords}:
 *       the synced record of takeovers; {@code GoneConfirmation}: the majority's word that a node
 *       is gone; {@code MemberPoll}: asking every other member and waiting for enough answers;
 *       {@code ClusterCodec}: the one versioned encoding of every message members send each other.</li>
 *   <li>{@link io.tern.cluster.QueueLinks}: clustered queues (docs/CLUSTERING.md): cluster links
 *       pull messages to the node whose consumers want them, and moves in doubt after a node death
 *       are given to whoever holds that node's messages ({@code InDoubtMoves}); {@code DestinationMirrors}
 *       keeps parts of other nodes' subscriptions and temporary queues; {@code GroupOwnership} says
 *       which node owns each message group, so that a group has one consumer cluster-wide.</li>
 *   <li>{@link io.tern.cluster.ClusteredNode}: assembles all of it around a broker, for the server
 *       and for the tests alike.</li>
 * </ul>
 */
package io.tern.cluster;
