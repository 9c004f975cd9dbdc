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

    /** Forgets every duplicate-detection id of a bucket (one range delete, no tombstone per id). */
    public record RemoveDuplicateBucket(long bucket) implements Op {
    }

    private final List<Op> ops = new ArrayList<>();

    public StoreBatch add(Op op) {
        ops.add(op);
        return this;
    }

    public List<Op> ops() {
        return ops;
    }

    public boolean isEmpty() {
        return ops.isEmpty();
    }
}
