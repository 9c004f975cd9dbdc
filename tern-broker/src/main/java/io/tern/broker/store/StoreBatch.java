package io.tern.broker.store;

import java.util.ArrayList;
import java.util.List;

/** Changes that become durable together, or not at all. */
public final class StoreBatch {

    /** One change; the store applies them in order. */
    public sealed interface Op {
    }

    public record PutQueue(String queue, byte[] definition) implements Op {
    }

    public record DeleteQueue(String queue) implements Op {
    }

    public record AddMessage(String queue, long sequence, byte[] message) implements Op {
    }

    public record RemoveMessage(String queue, long sequence) implements Op {
    }

    /** A duplicate-detection id, kept in a numbered bucket so old ids leave a bucket at a time. */
    public record AddDuplicateId(long bucket, String id) implements Op {
    }

    /**
     * Forgets one duplicate-detection id: the undo of a commit that failed after its backups may have
     * applied it (the message it stood for is removed by the same undo, so its id must go too).
     */
    public record RemoveDuplicateId(long bucket, String id) implements Op {
    }

    /** Forgets every duplicate-detection id of a bucket (one range delete, no tombstone per id). */
    public record RemoveDuplicateBucket(long bucket) implements Op {
    }

    /**
     * An op that a local store does not write: it only tells a node's backups what a node taking
     * this one over needs to know (which messages are out with which client session, which clients
     * are connected).
     */
    public sealed interface Mark extends Op {
    }

    /**
     * Not stored: a stored message went out to a client session ({@code owner} names it for the
     * session's whole life, across failovers). Replicated so that the node taking this one over
     * keeps the message for that session until it recovers. Local stores ignore it.
     */
    public record MarkDelivered(String queue, long sequence, String owner) implements Mark {
    }

    /** Not stored: a message marked delivered came back to its queue. Local stores ignore it. */
    public record MarkReturned(String queue, long sequence) implements Mark {
    }

    /**
     * Not stored: a client connection ({@code key}, the same for its whole life, across failovers)
     * was welcomed here. A node that takes this one over knows its clients by these keys, even
     * after this node is back.
     */
    public record ClientConnected(String key) implements Mark {
    }

    /** Not stored: the client connection {@code key} left this node. */
    public record ClientGone(String key) implements Mark {
    }

    private final List<Op> ops = new ArrayList<>();
    private boolean takesOver;

    /**
     * Marks this as the batch of a takeover: it stores another node's messages and duplicate ids as
     * this node's. Not kept in the store; replication says so to the backups, whose claims on ids
     * for this node's clients do not concern the other node's.
     */
    public StoreBatch takingOver() {
        takesOver = true;
        return this;
    }

    /** See {@link #takingOver()}. */
    public boolean takesOver() {
        return takesOver;
    }

    public StoreBatch add(Op op) {
        ops.add(op);
        return this;
    }

    public List<Op> ops() {
        return ops;
    }

    /** The bytes of the messages this batch stores. */
    public long messageBytes() {
        long bytes = 0;
        for (Op op : ops) {
            if (op instanceof AddMessage a) {
                bytes += a.message().length;
            }
        }
        return bytes;
    }

    public boolean isEmpty() {
        return ops.isEmpty();
    }

    /** True if every op is a delivery mark, which a local store has nothing to write for. */
    public boolean onlyMarks() {
        for (Op op : ops) {
            if (!(op instanceof Mark)) {
                return false;
            }
        }
        return true;
    }
}
