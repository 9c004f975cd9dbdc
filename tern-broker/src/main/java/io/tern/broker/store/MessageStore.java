package io.tern.broker.store;

import java.util.concurrent.CompletableFuture;

/** Where a node keeps what must survive a crash. Implementations are thread-safe. */
public interface MessageStore extends AutoCloseable {

    /** What a store hands back on start, in key order: queues first, then their messages. */
    interface Recovery {
        void queue(String queue, byte[] definition);

        void message(String queue, long sequence, byte[] message);

        void duplicateId(long bucket, String id);

        /**
         * Whether {@link #message} wants the next stored message of {@code queue}, body and all; if
         * not, the store hands its sequence alone to {@link #onDisk} without reading its body (a
         * recovery that keeps the rest of a deep queue paged).
         */
        default boolean wantsBody(String queue) {
            return true;
        }

        /** A stored message whose body stays on disk (see {@link #wantsBody}). */
        default void onDisk(String queue, long sequence) {
            throw new UnsupportedOperationException("this recovery reads every message");
        }

        /**
         * A recovery that hands on what it reads as the store operations that would write it again
         * (a snapshot sent to a backup, a replica read back from disk).
         */
        static Recovery asOps(java.util.function.Consumer<StoreBatch.Op> into) {
            return new Recovery() {
                @Override
                public void queue(String queue, byte[] definition) {
                    into.accept(new StoreBatch.PutQueue(queue, definition));
                }

                @Override
                public void message(String queue, long sequence, byte[] message) {
                    into.accept(new StoreBatch.AddMessage(queue, sequence, message));
                }

                @Override
                public void duplicateId(long bucket, String id) {
                    into.accept(new StoreBatch.AddDuplicateId(bucket, id));
                }
            };
        }
    }

    /** Reads everything stored; called once before the broker serves. */
    void recover(Recovery recovery);

    /** Everything stored at one moment, readable later while commits go on. */
    interface Snapshot extends AutoCloseable {
        /** Hands back the snapshot's content as {@link #recover} does. */
        void read(Recovery recovery);

        @Override
        void close();
    }

    /**
     * A snapshot of what is stored now: every commit completed before the call is in it, and no
     * commit started after it. Taking one is cheap; reading it can be slow. A store that keeps
     * nothing returns an empty one.
     */
    default Snapshot snapshot() {
        return new Snapshot() {
            @Override
            public void read(Recovery recovery) {
            }

            @Override
            public void close() {
            }
        };
    }

    /**
     * The stored messages of {@code queue} with these sequences, in the same order; null for one that
     * is not stored. For messages a queue keeps on disk only (paged). Reads what this node's own store
     * holds; thread-safe, may block on the disk.
     */
    default java.util.List<byte[]> read(String queue, long[] sequences) {
        throw new UnsupportedOperationException("this store keeps no messages to read back");
    }

    /** Makes the batch durable; the future completes when it is (or fails with the cause). */
    CompletableFuture<Void> commit(StoreBatch batch);

    /**
     * Writes the batch without waiting for the disk: it becomes durable with the next synced commit,
     * or when the store next falls idle. For changes nobody waits for (acknowledgements of
     * AUTO_ACKNOWLEDGE sessions), so they do not each cost an fsync. Implementations may sync anyway.
     */
    default CompletableFuture<Void> commitLazily(StoreBatch batch) {
        return commit(batch);
    }

    /**
     * Completes once every commit called so far is written to this node's own store (whether or not
     * it completed), so that a snapshot taken then sees them: what a discard waits for before it
     * looks for what failed commits left behind.
     */
    default CompletableFuture<Void> written() {
        return CompletableFuture.completedFuture(null);
    }

    /**
     * True if the store wants {@link StoreBatch.MarkDelivered} and {@link StoreBatch.MarkReturned}:
     * a replicated store, whose backups keep delivered messages for their sessions at a takeover.
     */
    default boolean tracksDeliveries() {
        return false;
    }

    /**
     * True if other nodes hold what this store keeps in their memory (a replicating store's backups
     * hold their replicas there): then this node must not keep more stored than memory holds, and does
     * not page.
     */
    default boolean copiesHeldInMemory() {
        return false;
    }

    /**
     * The heap this node's copies of other nodes' stored messages take now (the replicas of the nodes it
     * backs up): the memory limit counts them beside this node's own queues. 0 if it holds none.
     */
    default long copiesHeldBytes() {
        return 0;
    }

    /**
     * The heap this node's copies of other nodes' stored messages may take before they page their
     * bodies to disk, where the store can (a replicating store with a page directory); ignored otherwise.
     * While {@code atPageLine} says the node's memory is at its paging line, they keep only an eighth
     * of {@code bytes} in memory: the copies give way before the node's own queues.
     */
    default void limitCopies(long bytes, java.util.function.BooleanSupplier atPageLine) {
    }

    /**
     * The node's memory limit, for the copies it holds of other nodes' messages: while {@code full} says
     * so, copies that would grow are refused (the other node's commit fails rather than run this node
     * out of heap); {@code shrunk} runs (on any thread, quickly) when they take less heap than before.
     */
    default void watchMemory(java.util.function.BooleanSupplier full, Runnable shrunk) {
    }

    /** False for a store that keeps nothing. */
    boolean isDurable();

    /**
     * The store's own figures for metrics, by name (for RocksDB: its size on disk, its memtables,
     * its estimated keys, compactions pending); none by default.
     */
    default java.util.Map<String, Long> figures() {
        return java.util.Map.of();
    }

    @Override
    void close();
}
