package io.tern.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tern.protocol.Deliver;
import io.tern.protocol.Frame;
import io.tern.protocol.FrameCodec;
import io.tern.protocol.Handshake;
import io.tern.protocol.Request;
import io.tern.protocol.RequestFrame;
import io.tern.protocol.Response;
import io.tern.protocol.ResponseFrame;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;

/** Writes raw bytes to a server and reads its frames back: for tests of bad input and wire overhead. */
public final class RawClient implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private long bytesWritten;
    private long bytesRead;

    public RawClient(int port) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(10_000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    public void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        bytesWritten += bytes.length;
    }

    /** Sends a good handshake and checks the reply. */
    public RawClient handshake() throws IOException {
        ByteBuf b = Unpooled.buffer();
        Handshake.writeHello(b, Handshake.VERSION);
        write(bytes(b));
        byte[] reply = readBytes(Handshake.REPLY_LENGTH);
        if (reply[5] != Handshake.ACCEPTED) {
            throw new IOException("handshake refused");
        }
        return this;
    }

    public void send(long correlation, long digest, Request request) throws IOException {
        write(encode(new RequestFrame(correlation, digest, request)));
    }

    public static byte[] encode(Frame frame) {
        ByteBuf body = Unpooled.buffer();
        FrameCodec.encode(frame, body);
        ByteBuf framed = Unpooled.buffer();
        framed.writeInt(body.readableBytes()).writeBytes(body);
        return bytes(framed);
    }

    private static byte[] bytes(ByteBuf b) {
        byte[] a = new byte[b.readableBytes()];
        b.readBytes(a);
        return a;
    }

    public byte[] readBytes(int n) throws IOException {
        byte[] b = new byte[n];
        in.readFully(b);
        bytesRead += n;
        return b;
    }

    /** The next frame, or null if the server closed the connection. */
    public Frame readFrame() throws IOException {
        try {
            int length = in.readInt();
            byte[] body = readBytes(length);
            bytesRead += 4;
            return FrameCodec.decode(Unpooled.wrappedBuffer(body));
        } catch (EOFException e) {
            return null;
        }
    }

    /** The answer to the request of correlation {@code id}, skipping other frames. */
    public Response answer(long id) throws IOException {
        while (true) {
            if (nextFrame() instanceof ResponseFrame r && r.correlationId() == id) {
                return r.response();
            }
        }
    }

    /** The next delivery to one of this connection's consumers, skipping other frames. */
    public Deliver nextDelivery() throws IOException {
        while (true) {
            if (nextFrame() instanceof Deliver d) {
                return d;
            }
        }
    }

    private Frame nextFrame() throws IOException {
        Frame f = readFrame();
        if (f == null) {
            throw new EOFException("the server closed the connection");
        }
        return f;
    }

    /** True once the server has closed the connection (reads hit end of stream). */
    public boolean isClosedByServer() throws IOException {
        try {
            while (in.read() >= 0) {
                bytesRead++;
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    public long bytesWritten() {
        return bytesWritten;
    }

    public long bytesRead() {
        return bytesRead;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
