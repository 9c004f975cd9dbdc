package io.tern.broker.store;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Store batches as bytes, for shipping to a backup node.
 *
 * <pre>
 * batch := count:i32 op*
 * op    := 1 queue:utf definition:bytes          -- PutQueue
 *        | 2 queue:utf                           -- DeleteQueue
 *        | 3 queue:utf sequence:i64 message:bytes -- AddMessage
 *        | 4 queue:utf sequence:i64              -- RemoveMessage
 *        | 5 bucket:i64 id:utf                   -- AddDuplicateId
 *        | 6 bucket:i64                          -- RemoveDuplicateBucket
 *        | 7 queue:utf sequence:i64 owner:utf     -- MarkDelivered
 *        | 8 queue:utf sequence:i64              -- MarkReturned
 *        | 9 key:utf                             -- ClientConnected
 *        | 10 key:utf                            -- ClientGone
 *        | 11 bucket:i64 id:utf                  -- RemoveDuplicateId
 * bytes := length:i32 byte*
 * </pre>
 */
public final class StoreBatchCodec {
    private static final int MAX_OPS = 10_000_000;

    private StoreBatchCodec() {
    }

    public static byte[] encode(StoreBatch batch) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(batch.ops().size());
            for (StoreBatch.Op op : batch.ops()) {
                if (op instanceof StoreBatch.PutQueue o) {
                    out.writeByte(1);
                    out.writeUTF(o.queue());
                    writeBytes(out, o.definition());
                } else if (op instanceof StoreBatch.DeleteQueue o) {
                    out.writeByte(2);
                    out.writeUTF(o.queue());
                } else if (op instanceof StoreBatch.AddMessage o) {
                    out.writeByte(3);
                    out.writeUTF(o.queue());
                    out.writeLong(o.sequence());
                    writeBytes(out, o.message());
                } else if (op instanceof StoreBatch.RemoveMessage o) {
                    out.writeByte(4);
                    out.writeUTF(o.queue());
                    out.writeLong(o.sequence());
                } else if (op instanceof StoreBatch.AddDuplicateId o) {
                    out.writeByte(5);
                    out.writeLong(o.bucket());
                    out.writeUTF(o.id());
                } else if (op instanceof StoreBatch.RemoveDuplicateId o) {
                    out.writeByte(11);
                    out.writeLong(o.bucket());
                    out.writeUTF(o.id());
                } else if (op instanceof StoreBatch.RemoveDuplicateBucket o) {
                    out.writeByte(6);
                    out.writeLong(o.bucket());
                } else if (op instanceof StoreBatch.MarkDelivered o) {
                    out.writeByte(7);
                    out.writeUTF(o.queue());
                    out.writeLong(o.sequence());
                    out.writeUTF(o.owner());
                } else if (op instanceof StoreBatch.MarkReturned o) {
                    out.writeByte(8);
                    out.writeUTF(o.queue());
                    out.writeLong(o.sequence());
                } else if (op instanceof StoreBatch.ClientConnected o) {
                    out.writeByte(9);
                    out.writeUTF(o.key());
                } else if (op instanceof StoreBatch.ClientGone o) {
                    out.writeByte(10);
                    out.writeUTF(o.key());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return bytes.toByteArray();
    }

    /** Decodes a batch; a truncated or unknown encoding is an IllegalArgumentException. */
    public static StoreBatch decode(byte[] data, int offset, int length) {
        StoreBatch batch = new StoreBatch();
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(data, offset, length))) {
            int count = in.readInt();
            if (count < 0 || count > MAX_OPS) {
                throw new IllegalArgumentException("bad op count " + count);
            }
            for (int i = 0; i < count; i++) {
                int type = in.readByte();
                switch (type) {
                    case 1 -> batch.add(new StoreBatch.PutQueue(in.readUTF(), readBytes(in)));
                    case 2 -> batch.add(new StoreBatch.DeleteQueue(in.readUTF()));
                    case 3 -> batch.add(new StoreBatch.AddMessage(in.readUTF(), in.readLong(), readBytes(in)));
                    case 4 -> batch.add(new StoreBatch.RemoveMessage(in.readUTF(), in.readLong()));
                    case 5 -> batch.add(new StoreBatch.AddDuplicateId(in.readLong(), in.readUTF()));
                    case 6 -> batch.add(new StoreBatch.RemoveDuplicateBucket(in.readLong()));
                    case 7 -> batch.add(new StoreBatch.MarkDelivered(in.readUTF(), in.readLong(), in.readUTF()));
                    case 8 -> batch.add(new StoreBatch.MarkReturned(in.readUTF(), in.readLong()));
                    case 9 -> batch.add(new StoreBatch.ClientConnected(in.readUTF()));
                    case 10 -> batch.add(new StoreBatch.ClientGone(in.readUTF()));
                    case 11 -> batch.add(new StoreBatch.RemoveDuplicateId(in.readLong(), in.readUTF()));
                    default -> throw new IllegalArgumentException("unknown store op " + type);
                }
            }
            if (in.available() > 0) {
                throw new IllegalArgumentException(in.available() + " stray bytes after the batch");
            }
        } catch (EOFException e) {
            throw new IllegalArgumentException("truncated store batch", e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return batch;
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.available()) {
            throw new IllegalArgumentException("bad length " + n);
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }
}
