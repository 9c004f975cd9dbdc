package io.tern.cluster;

import io.tern.broker.store.StoreBatch;
import io.tern.broker.store.StoreBatchCodec;

import java.util.function.Function;

/**
 * A replica's contents on their way to another member, {@value #CHUNK_OPS} ops a message: a new
 * backup's snapshot ({@link ReplicatingStore}), or a replica handed over to a taker
 * ({@link ReplicaHandover}). Each says how an encoded chunk becomes its message.
 */
final class SnapshotStream {
    private static final int CHUNK_OPS = 500;
    private final ClusterNode node;
    private final String to;
    private final Function<byte[], byte[]> chunkMessage;
    private StoreBatch chunk = new StoreBatch();
    private int sent;
    private boolean failed;

    /** @param chunkMessage the message that carries an encoded chunk ({@link StoreBatchCodec}) */
    SnapshotStream(ClusterNode node, String to, Function<byte[], byte[]> chunkMessage) {
        this.node = node;
        this.to = to;
        this.chunkMessage = chunkMessage;
    }

    void add(StoreBatch.Op op) {
        chunk.add(op);
        sent++;
        if (chunk.ops().size() >= CHUNK_OPS) {
            flush();
        }
    }

    void flush() {
        if (!chunk.isEmpty() && !failed) {
            failed = node.trySend(to, chunkMessage.apply(StoreBatchCodec.encode(chunk))) == ClusterNode.Sent.FAILED;
        }
        chunk = new StoreBatch();
    }

    /** True if a send to the member threw: the rest is not sent. */
    boolean failed() {
        return failed;
    }

    /** How many ops went out. */
    int sent() {
        return sent;
    }
}
