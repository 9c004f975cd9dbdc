package io.tern.broker;

import io.tern.protocol.Frame;

/** Where a connection's outgoing frames go: the Netty channel, or a test's recorder. */
public interface FrameSink {
    /** Queues a frame; it leaves on the next {@link #flush()}. */
    void write(Frame frame);

    void flush();

    /**
     * Queues a frame like {@link #write(Frame)} and runs {@code left} once it has left for the network
     * (or will never leave: the transport closed). Transports that hand frames on at once run it now.
     */
    default void write(Frame frame, Runnable left) {
        write(frame);
        left.run();
    }

    /** Closes the transport; the broker then sees {@link ServerConnection#closed()}. */
    void close();

    /** The peer's address for operators ({@code host:port}); "" where there is none. */
    default String remoteAddress() {
        return "";
    }

    /**
     * The user a verified TLS client certificate names (its subject's common name), or null: no TLS,
     * or the client showed no certificate.
     */
    default String certifiedUser() {
        return null;
    }

    /** The client is welcome: frames of any size up to the maximum may come now (before, only a HELLO's). */
    default void welcomed() {
    }
}
