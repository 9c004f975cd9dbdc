/**
 * One Tern node. {@link io.tern.broker.Broker} is its face: it starts it from the store, and hands
 * each job to a class of its own: {@code PublishPipeline} (sends and acknowledgements stored in one
 * batch, then made visible, then answered; undone if the batch fails), {@code Destinations} (queues, temporary destinations, subscriptions,
 * where a message goes), {@code ConnectionRegistry} (client connections, client ids, connection
 * keys, drain, failback, lame duck), {@code MemoryGovernor} (the memory limit and the producers
 * waiting for room; {@code DiskWatch} tells it of the disk limit), {@code DeadLetters} (dead-letter and expiry queues), {@code TakeoverAdopter}
 * (what another node stored, taken over) and {@code RecoveryHolds} (taken-over messages kept for
 * the sessions that had them until they recover). Each
 * {@link io.tern.broker.MessageQueue} is served by its own {@link io.tern.broker.SerialExecutor}, so
 * queue state is only touched by one thread at a time and needs no locks (past the paging line a
 * queue keeps stored messages on disk only, as {@code PagedSequences}, and reads them back in order); each client connection
 * ({@link io.tern.broker.ServerConnection}) handles its requests in order on its own serial executor,
 * its HELLO in {@code Handshake}.
 * The Netty acceptor lives in {@code io.tern.broker.net} and only moves frames.
 *
 * <p>What the cluster plugs into, owned here: {@link io.tern.broker.ClusterPort}, the one interface it
 * knows the broker by, and through it {@link io.tern.broker.NodeAvailability} (the node's
 * one state machine, {@link io.tern.broker.NodeState}: the cluster holds the node while it starts,
 * reports the quorum, fences it while it discards; {@code PauseWatch} makes it check with the members
 * after its JVM was stopped, holding its clients' requests meanwhile), {@link io.tern.broker.ClusterPort#setAdmission}
 * (who serves a client that failed over from another node, answered with a
 * {@link io.tern.broker.FailoverAdmission}), {@link io.tern.broker.ClusterPort#adopt} (messages taken over),
 * {@link io.tern.broker.QueueMoves} (clustered queues: a queue's demand here, cluster links of
 * other nodes, messages moved here, and {@link io.tern.broker.MovesInDoubt} after a node death;
 * {@link io.tern.broker.GroupDirectory}, which node owns each message group, asked by {@code QueueGroups};
 * {@code MoveTrace} logs each message's life across nodes at TRACE),
 * and the {@link io.tern.broker.store.MessageStore} a replicating store wraps. Delivery marks and
 * client connection keys ({@link io.tern.broker.store.StoreBatch.Mark}) reach the store for its
 * backups; a local store ignores them.
 */
package io.tern.broker;
