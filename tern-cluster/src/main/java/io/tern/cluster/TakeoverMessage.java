package io.tern.cluster;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * How the takeover's messages are written: a type letter, then fields in {@link DataOutputStream}
 * form. The grammar of each letter is in the class that handles it ({@link Takeover},
 * {@link GoneConfirmation}).
 */
final class TakeoverMessage {
    private TakeoverMessage() {
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
