package io.tern.broker;

import java.util.List;

/**
 * What one node holds at a moment, for the console and for operators: its queues and its client
 * connections, and what it refused since it started ({@code refusals}: failed logins, requests without
 * their permission, connections refused before their first frame, discovery packets dropped as
 * unsigned, forged, stale or replayed), and the messages placed in its queues and acknowledged out
 * of them since it started ({@code messagesIn}, {@code messagesOut}). Counts are read from each queue's own executor, so each is exact for its queue; the
 * whole is not one atomic snapshot.
 */
public record NodeView(String name, String nodeId, String state, int heldForRecovery, long memoryUsed,
                       List<QueueView> queues, List<ConnectionView> connections, java.util.Map<String, Long> refusals,
                       long messagesIn, long messagesOut) {

    /**
     * One queue, temporary queue or subscription (this node's part of it, with clustered queues).
     * {@code topic} is null for a queue; {@code movedIn} counts the messages other nodes moved here for
     * this node's consumers, {@code movedOut} the deliveries to other nodes' links (since the start).
     * {@code paged} of its {@code messages} are in the store only, not in memory. {@code messagesIn}
     * counts the messages placed in this node's part since the queue was made here (sent, moved in,
     * taken over), {@code messagesOut} those acknowledged out of it.
     */
    public record QueueView(String name, String kind, String topic, int messages, int inFlight, int paged, int consumers,
                            long movedIn, long movedOut, long messagesIn, long messagesOut) {
    }

    /**
     * One connection: {@code state} is "hello pending" until the client is welcomed, then "open";
     * {@code failedOverFrom} names the node whose client it was before a failover (null if none); an
     * administration connection is marked {@code admin}.
     */
    public record ConnectionView(long id, String state, String remote, String user, String clientName, String clientId,
                                 int sessions, int consumers, String failedOverFrom, boolean admin) {
    }
}
