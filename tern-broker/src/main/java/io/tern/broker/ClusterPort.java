package io.tern.broker;

import io.tern.broker.store.StoreBatch;
import io.tern.protocol.ClusterTopology;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiPredicate;
import java.util.function.Function;

/**
 * What a node's cluster (tern-cluster) may ask of its broker and tell it: the interface the broker
 * owns and the cluster plugs into, implemented by {@link Broker}. Nothing of the cluster is known
 * here: the broker works alone when nothing plugs in.
 *
 * <ul>
 *   <li>the node's state: {@link #availability()} (holds, fences, quorum, pauses);</li>
 *   <li>what clients are told: {@link #setTopology}, and who decides a client failing over
 *       ({@link #setAdmission}, {@link #issuedHere});</li>
 *   <li>replication's needs: {@link #setDuplicateIdsElsewhere}, {@link #outstandingDeliveries};</li>
 *   <li>takeover and its undoing: {@link #adopt}, {@link #discardStoredMessages}, {@link #discards},
 *       {@link #closeAllConnections};</li>
 *   <li>planned moves of clients: {@link #failBack}, {@link #spreadTo}, {@link #setNextServer};</li>
 *   <li>clustered destinations: {@link #moves()}, {@link #setGroupDirectory}, {@link #groupChanged},
 *       {@link #beforeStoreCloses};</li>
 *   <li>the timeline: {@link #events()}.</li>
 * </ul>
 */
public interface ClusterPort {
    /** The node's id, kept in its data directory. */
    String nodeId();

    /** This node's availability: what it does for clients now, and the events that change it. */
    NodeAvailability availability();

    /** What happened in the cluster as this node saw it (the console's timeline). */
    ClusterEvents events();

    /** Replaces what clients are told about the cluster; they learn it on their next request. */
    void setTopology(ClusterTopology topology);

    /** Sets who decides a Hello from a client that failed over from another node. */
    void setAdmission(Function<FailoverAdmission.Request, CompletableFuture<FailoverAdmission>> admission);

    /** True if this node welcomed a client connection with {@code key} since it started or last discarded. */
    boolean issuedHere(String key);

    /**
     * Whether a duplicate-detection id is known elsewhere: given an id and the node whose client
     * sent it (null: none), true if the send must be dropped.
     */
    void setDuplicateIdsElsewhere(BiPredicate<String, String> known);

    /** The deliveries not yet acknowledged, as marks: what a new backup needs besides the store's snapshot. */
    List<StoreBatch.Mark> outstandingDeliveries();

    /**
     * Takes over what another node stored (queue definitions, messages by queue and sequence, its
     * duplicate ids, the owners of messages out with sessions), running {@code onStored} once they
     * are stored and before any is delivered; completes with the number of messages taken. Fails with
     * {@link NotUndone} if the takeover failed and what it stored could not be undone.
     */
    CompletableFuture<Integer> adopt(Map<String, byte[]> definitions, Map<String, ? extends Map<Long, byte[]>> messages,
                                     Collection<String> duplicateIds, Map<String, ? extends Map<Long, String>> owners,
                                     Runnable onStored);

    /** This node was taken over while it was gone: drops every stored message; returns how many. */
    int discardStoredMessages();

    /** How often this node discarded its messages since it started. */
    long discards();

    /** Closes every client connection; completes when each has rolled back and returned its deliveries. */
    CompletableFuture<Void> closeAllConnections();

    /** Where clients of this node go when it stops or drains: a client URI, "" if none is known. */
    void setNextServer(java.util.function.Supplier<String> next);

    /** Node {@code nodeId} serves again at {@code uri}: its clients here move back; returns how many were told. */
    int failBack(String nodeId, String uri);

    /** A member serves at {@code uri}: a share of this node's clients moves there; returns how many were told. */
    int spreadTo(String uri, int members);

    /** Where clustered queues plug in: demand, cluster links, moved messages. */
    QueueMoves moves();

    /** Who owns message groups across the cluster. */
    void setGroupDirectory(GroupDirectory groups);

    /** The directory learnt that {@code group} of {@code queue} was claimed or released. */
    void groupChanged(String queue, String group, boolean released);

    /** Runs {@code stop} first when this node closes, while its store is still open. */
    void beforeStoreCloses(Runnable stop);

    /**
     * What {@link #adopt} fails with when the takeover failed and what its store may have written of it
     * could not be undone: tried again, it would store the dead node's messages twice.
     */
    final class NotUndone extends RuntimeException {
        public NotUndone(String why) {
            super(why + "; what it stored could not be undone, so it is not tried again");
        }
    }
}
