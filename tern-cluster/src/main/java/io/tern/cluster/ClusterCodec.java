package io.tern.cluster;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The one encoding of the messages cluster members send each other (besides JGroups' own): an
 * envelope of the cluster protocol's version, then a type letter, then fields in
 * {@link DataOutputStream} form.
 *
 * <pre>
 * envelope := version:u8 message      -- version {@value #VERSION}; a member drops (and logs) any other
 * message  := type:u8 fields          -- the letter says which class handles it:
 *   RbAaFSCEZUDkwn replication      ({@link ReplicationMessage})
 *   OKNPTBWV   takeover                ({@link Takeover})
 *   QY         gone confirmation       ({@link GoneConfirmation})
 *   GHLIJM     replica hand-over       ({@link ReplicaHandover})
 *   Xx         a graceful leave, and its acknowledgement ({@link ClusterNode})
 *   lmde       clustered queues: cluster links and moves in doubt ({@link QueueLinks})
 *   hij        parts of other nodes' subscriptions and temporary queues ({@link DestinationMirrors})
 *   gopqry     which node owns each message group ({@link GroupOwnership})
 * </pre>
 *
 * The grammar of each letter's fields is in the class that handles it. A new field goes at the end
 * of a message (readers ignore what follows the fields they know); a change a reader of the
 * current version would misread takes a new {@link #VERSION}.
 */
final class ClusterCodec {
    /** The cluster protocol's version: members of one cluster must speak the same. */
    static final int VERSION = 2;

    private ClusterCodec() {
    }

    /** {@code message} (type letter first) in its envelope, ready to send. */
    static byte[] envelope(byte[] message) {
        byte[] framed = new byte[message.length + 1];
        framed[0] = (byte) VERSION;
        System.arraycopy(message, 0, framed, 1, message.length);
        return framed;
    }

    /** Writes a message's fields. */
    interface Body {
        void write(DataOutputStream out) throws IOException;
    }

    static byte[] encode(char type, Body body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(type);
            body.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** The fields of a message, after its type letter (which {@code in.readByte()} returns first). */
    static DataInputStream reader(byte[] payload, int offset, int length) {
        return new DataInputStream(new ByteArrayInputStream(payload, offset, length));
    }
}
