package io.tern.cluster;

import io.tern.broker.store.StoreBatch;
import io.tern.broker.store.StoreBatchCodec;

/** A snapshot of {@link ReplicatingStore} on its way to a backup, sent {@value #CHUNK_OPS} ops at a time. */
final class SnapshotStream {
    private static final int CHUNK_OPS = 500;
    private final ClusterNode node;
    private final String backup;
    private final long cut;
    private StoreBatch chunk = new StoreBatch();
    private int sent;
    private boolean failed;

    SnapshotStream(ClusterNode node, String backup, long cut) {
        this.node = node;
        this.backup = backup;
        this.cut = cut;
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
            byte[] m = new ReplicationMessage.SnapshotChunk(cut, StoreBatchCodec.encode(chunk)).encode();
            failed = node.trySend(backup, m) == ClusterNode.Sent.FAILED;
        }
        chunk = new StoreBatch();
    }

    /** True if a send to the backup threw: the rest is not sent. */
    boolean failed() {
        return failed;
    }

    /** How many ops went out. */
    int sent() {
        return sent;
    }
}
