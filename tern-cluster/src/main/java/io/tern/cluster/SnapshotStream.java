package io.tern.cluster;

import io.tern.broker.store.StoreBatch;
import io.tern.broker.store.StoreBatchCodec;

import io.tern.broker.store.MessageStore.Recovery;
import io.tern.broker.store.MessageStore.Snapshot;

import java.util.List;
import java.util.function.Function;

/**
 * A replica's contents on their way to another member, {@value #CHUNK_OPS} ops or about
 * {@value #CHUNK_BYTES} bytes of messages a message: a new
 * backup's snapshot ({@link ReplicatingStore}), or a replica handed over to a taker
 * ({@link ReplicaHandover}). Each says how an encoded chunk becomes its message.
 */
final class SnapshotStream {
    private static final int CHUNK_OPS = 500;
    /**
     * A chunk goes once its messages come to this many bytes, also with fewer than {@value #CHUNK_OPS}
     * ops: 500 messages of 256 KiB made one chunk of 128 MiB, which ran a node of 128 MiB heap out of
     * memory. Kept under half of G1's smallest region (1 MiB), so that a chunk and its copies on the way
     * out are no humongous objects, which need free regions side by side in a heap full of queued messages.
     */
    static final int CHUNK_BYTES = 256 << 10;
    private final ClusterNode node;
    private final String to;
    private final Function<byte[], byte[]> chunkMessage;
    private StoreBatch chunk = new StoreBatch();
    private int sent;
    private long bytes;
    private boolean failed;

    /** @param chunkMessage the message that carries an encoded chunk ({@link StoreBatchCodec}) */
    SnapshotStream(ClusterNode node, String to, Function<byte[], byte[]> chunkMessage) {
        this.node = node;
        this.to = to;
        this.chunkMessage = chunkMessage;
    }

    /**
     * Streams a new backup's snapshot at batch {@code cut} to {@code to}: the store's contents, then
     * the delivery marks outstanding at the cut ({@code marks}, after the messages they mark), then
     * the end. Closes the snapshot. Returns how many ops went out, or -1 if a send threw.
     */
    static int snapshot(ClusterNode node, String to, long cut, Snapshot snapshot, List<StoreBatch.Mark> marks) {
        try (Snapshot streaming = snapshot) {
            SnapshotStream chunks = new SnapshotStream(node, to, batch -> new ReplicationMessage.SnapshotChunk(cut, batch).encode());
            streaming.read(Recovery.asOps(chunks::add));
            marks.forEach(chunks::add);
            chunks.flush();
            if (chunks.failed() || node.trySend(to, new ReplicationMessage.SnapshotEnd(cut).encode()) == ClusterNode.Sent.FAILED) {
                return -1;
            }
            return chunks.sent();
        }
    }

    void add(StoreBatch.Op op) {
        chunk.add(op);
        sent++;
        if (op instanceof StoreBatch.AddMessage a) {
            bytes += a.message().length;
        }
        if (chunk.ops().size() >= CHUNK_OPS || bytes >= CHUNK_BYTES) {
            flush();
        }
    }

    void flush() {
        if (!chunk.isEmpty() && !failed) {
            failed = node.trySend(to, chunkMessage.apply(StoreBatchCodec.encode(chunk))) == ClusterNode.Sent.FAILED;
        }
        chunk = new StoreBatch();
        bytes = 0;
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
