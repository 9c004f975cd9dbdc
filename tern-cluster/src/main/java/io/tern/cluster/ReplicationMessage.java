package io.tern.cluster;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The messages of replication between a primary and its backups, in the cluster's one encoding
 * ({@link ClusterCodec}). Every message is a type letter and a 64-bit batch sequence number, and some carry a batch
 * ({@link io.tern.broker.store.StoreBatchCodec}):
 *
 * <pre>
 * message := 'R' seq:i64 batch   -- primary: a batch to keep
 *          | 'b' seq:i64 batch   -- primary: a batch to keep that takes another node over (its ids are that node's)
 *          | 'A' seq:i64         -- backup: batch seq is kept
 *          | 'a' last:i64 first:i64 -- backup: batches first to last are kept (the acknowledgements of
 *                                   batches that came in one bundle, sent as one)
 *          | 'F' seq:i64         -- backup: batch seq is refused, the primary was taken over
 *          | 'S' cut:i64 discarded:i64 view:i64 incarnation:utf -- primary: a snapshot at batch cut
 *                                       follows; the newest takeover of the primary it discarded for (an older
 *                                       record of one is stale); the primary's view when it began (a backup
 *                                       that missed views before that one holds it fresh all the same); which
 *                                       start of the primary it is (the backup may not have its view yet)
 *          | 'C' cut:i64 batch   -- primary: part of that snapshot
 *          | 'E' cut:i64         -- primary: the snapshot is complete
 *          | 'Z' cut:i64         -- backup: the snapshot is kept, with every batch up to cut
 *          | 'U' seq:i64         -- backup: batch seq is not the next one (it missed some): not kept,
 *                                   nothing is acknowledged until a new snapshot
 *          | 'w' seq:i64         -- backup: batch (or snapshot cut) seq could not be written to the replica's
 *                                   disk: not kept there, the primary's commits waiting for this backup fail
 *                                   and a new snapshot follows
 *          | 'k' seq:i64         -- backup: batch seq stores a message this backup stored as its own (a client
 *                                   of the primary resent it here): refused, the primary's commit of it fails
 *          | 'n' seq:i64         -- backup: batch seq stores messages while this backup is at its memory limit
 *                                   (its own queues and its replicas fill it): refused, the commit fails
 *          | 'D' seq:i64 incarnation:utf8 -- primary (that start of it): this node does not back it up
 *                                   (any more): its replica of that start goes (seq: its last batch)
 * </pre>
 */
sealed interface ReplicationMessage {
    /** The type letters, for {@link ClusterNode#addPayloadHandler}. */
    String TYPES = "RbAaFSCEZUDkwn";

    /** {@code takesOver}: see {@link io.tern.broker.store.StoreBatch#takingOver()}. */
    record Batch(long seq, byte[] batch, boolean takesOver) implements ReplicationMessage {
        Batch(long seq, byte[] batch) {
            this(seq, batch, false);
        }

        @Override
        public byte[] encode() {
            return frame(takesOver ? 'b' : 'R', seq, batch);
        }

        @Override
        public String toString() {
            return "Batch[" + seq + ", " + batch.length + " bytes" + (takesOver ? ", takes a node over]" : "]");
        }
    }

    record Ack(long seq) implements ReplicationMessage {
        @Override
        public byte[] encode() {
            return frame('A', seq, null);
        }
    }

    /** Batches {@code first} to {@code last} are kept: see {@link Replicas#batchEnd}. */
    record AckRange(long first, long last) implements ReplicationMessage {
        @Override
        public byte[] encode() {
            return frame('a', last, ByteBuffer.allocate(8).putLong(first).array());
        }
    }

    record Refused(long seq) implements ReplicationMessage {
        @Override
        public byte[] encode() {
            return frame('F', seq, null);
        }
    }

    record Conflict(long seq) implements ReplicationMessage {
        @Override
        public byte[] encode() {
            return frame('k', seq, null);
        }
    }

    record NoRoom(long seq) implements ReplicationMessage {
        @Override
        public byte[] encode() {
            return frame('n', seq, null);
        }
    }

    /** {@code incarnation}: the primary's start, as {@link ClusterNode#incarnation} (empty from a node that did not say). */
    record SnapshotBegin(long cut, long discardedEpoch, long viewId, String incarnation) implements ReplicationMessage {
        @Override
        public byte[] encode() {
            return ClusterCodec.encode('S', out -> {
                out.writeLong(cut);
                out.writeLong(discardedEpoch);
                out.writeLong(viewId);
                out.writeUTF(incarnation); // with its length: a field after it stays readable
            });
        }
    }

    record SnapshotChunk(long cut, byte[] batch) implements ReplicationMessage {
        @Override
        public byte[] encode() {
            return frame('C', cut, batch);
        }

        @Override
        public String toString() {
            return "SnapshotChunk[" + cut + ", " + batch.length + " bytes]";
        }
    }

    record SnapshotEnd(long cut) implements ReplicationMessage {
        @Override
        public byte[] encode() {
            return frame('E', cut, null);
        }
    }

    record InSync(long cut) implements ReplicationMessage {
        @Override
        public byte[] encode() {
            return frame('Z', cut, null);
        }
    }

    record NotWritten(long seq) implements ReplicationMessage {
        @Override
        public byte[] encode() {
            return frame('w', seq, null);
        }
    }

    record OutOfSync(long seq) implements ReplicationMessage {
        @Override
        public byte[] encode() {
            return frame('U', seq, null);
        }
    }

    record Retired(long seq, String incarnation) implements ReplicationMessage {
        @Override
        public byte[] encode() {
            return frame('D', seq, incarnation.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    byte[] encode();

    private static byte[] frame(char type, long seq, byte[] body) {
        return ClusterCodec.encode(type, out -> {
            out.writeLong(seq);
            if (body != null) {
                out.write(body);
            }
        });
    }

    /** The start a SnapshotBegin names at {@code offset} of its body (a UTF string with its length). */
    private static String startIn(byte[] body, int offset) {
        try {
            return new java.io.DataInputStream(new java.io.ByteArrayInputStream(body, offset, body.length - offset)).readUTF();
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("a snapshot's start that cannot be read: " + e.getMessage());
        }
    }

    /** Reads one message; throws IllegalArgumentException if it is not one. */
    static ReplicationMessage decode(byte[] payload, int offset, int length) {
        if (length < 9) {
            throw new IllegalArgumentException("a replication message has at least 9 bytes, not " + length);
        }
        ByteBuffer in = ByteBuffer.wrap(payload, offset, length);
        char type = (char) in.get();
        long seq = in.getLong();
        byte[] body = Arrays.copyOfRange(payload, offset + 9, offset + length);
        return switch (type) {
            case 'R' -> new Batch(seq, body);
            case 'b' -> new Batch(seq, body, true);
            case 'A' -> new Ack(seq);
            case 'a' -> {
                if (body.length < 8) {
                    throw new IllegalArgumentException("an acknowledgement of a range of batches names its first batch");
                }
                long first = ByteBuffer.wrap(body).getLong();
                if (first > seq) {
                    throw new IllegalArgumentException("an acknowledgement of batches " + first + " to " + seq);
                }
                yield new AckRange(first, seq);
            }
            case 'F' -> new Refused(seq);
            case 'k' -> new Conflict(seq);
            case 'n' -> new NoRoom(seq);
            case 'S' -> new SnapshotBegin(seq, body.length >= 8 ? ByteBuffer.wrap(body).getLong() : -1,
                    body.length >= 16 ? ByteBuffer.wrap(body).getLong(8) : -1,
                    body.length >= 18 ? startIn(body, 16) : "");
            case 'C' -> new SnapshotChunk(seq, body);
            case 'E' -> new SnapshotEnd(seq);
            case 'Z' -> new InSync(seq);
            case 'U' -> new OutOfSync(seq);
            case 'w' -> new NotWritten(seq);
            case 'D' -> new Retired(seq, new String(body, java.nio.charset.StandardCharsets.UTF_8));
            default -> throw new IllegalArgumentException("unknown replication message type " + type);
        };
    }
}
