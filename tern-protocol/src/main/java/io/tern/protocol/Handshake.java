package io.tern.protocol;

import io.netty.buffer.ByteBuf;

/**
 * The first bytes of a connection, before any frame.
 *
 * <pre>
 * hello := 'T' 'E' 'R' 'N' version:u8          -- client to server
 * reply := 'T' 'E' 'R' 'N' version:u8 status:u8 -- server to client; status 0 = accepted
 * </pre>
 * A server that does not speak the client's version replies with its own version and status 1,
 * sends an ERROR frame and closes. A TLS port answers a plaintext hello with status 2 and closes; a
 * plaintext port answers a TLS client's first record with its own hello bytes, which the client's TLS
 * layer reports as not TLS.
 */
public final class Handshake {
    public static final int MAGIC = 0x5445524E; // "TERN"
    public static final byte VERSION = 1;
    public static final int HELLO_LENGTH = 5;
    public static final int REPLY_LENGTH = 6;
    public static final byte ACCEPTED = 0;
    public static final byte REJECTED = 1;
    /** The port takes only TLS clients: the client should connect with {@code terns://}. */
    public static final byte TLS_REQUIRED = 2;
    public static final int DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

    private Handshake() {
    }

    public static void writeHello(ByteBuf out, byte version) {
        out.writeInt(MAGIC).writeByte(version);
    }

    public static void writeReply(ByteBuf out, byte status) {
        out.writeInt(MAGIC).writeByte(VERSION).writeByte(status);
    }
}
