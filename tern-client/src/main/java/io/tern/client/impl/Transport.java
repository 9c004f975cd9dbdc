package io.tern.client.impl;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.tern.protocol.Deliver;
import io.tern.protocol.Frame;
import io.tern.protocol.FrameDecoder;
import io.tern.protocol.FrameEncoder;
import io.tern.protocol.Handshake;
import io.tern.protocol.Notice;
import io.tern.protocol.Request;
import io.tern.protocol.RequestFrame;
import io.tern.protocol.Response;
import io.tern.protocol.ResponseFrame;
import io.tern.protocol.ErrorCode;
import jakarta.jms.JMSException;
import jakarta.jms.JMSSecurityException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One TCP connection to a server: handshake, request/response correlation, the topology digest on
 * every request, heartbeats, and deliveries handed to a listener. Thread-safe.
 */
public final class Transport implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Transport.class);
    private static volatile EventLoopGroup group;

    /** What the transport tells its owner; called on a Netty thread, so keep it short. */
    public interface Listener {
        void onDeliver(Deliver deliver);

        /** The server pushed a notice (a lame-duck notice: it is shutting down). */
        void onNotice(Notice notice);

        /** The connection closed; {@code cause} is a {@link LinkLostException} unless the server said why. */
        void onClosed(Throwable cause);
    }

    private final Channel channel;
    private final TopologyHolder topology;
    private final Listener listener;
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();

    /** A request waiting for its answer; {@code onArrival} runs on the I/O thread, in frame order, first. */
    private record Pending(CompletableFuture<Response> future, Runnable onArrival) {
    }
    private final AtomicLong correlation = new AtomicLong(RequestFrame.ONE_WAY);
    private final String remote;
    /** {@code tern} or {@code terns}, for messages. */
    private final String scheme;
    private volatile Throwable closeCause;
    /** The listener was told this link is lost (on a close, or when the server went silent). */
    private volatile boolean reportedClosed;
    /** The last error the server reported without a request to answer; the likely cause of a close. */
    private volatile JMSException lastServerError;

    private Transport(Channel channel, TopologyHolder topology, Listener listener, String remote, String scheme) {
        this.channel = channel;
        this.scheme = scheme;
        this.topology = topology;
        this.listener = listener;
        this.remote = remote;
    }

    private static EventLoopGroup group() {
        EventLoopGroup g = group;
        if (g == null) {
            synchronized (Transport.class) {
                g = group;
                if (g == null) {
                    g = new MultiThreadIoEventLoopGroup(Math.min(4, Runtime.getRuntime().availableProcessors()),
                            new DefaultThreadFactory("tern-client-io", true), io.tern.protocol.Sockets.ioHandlers());
                    group = g;
                }
            }
        }
        return g;
    }

    /**
     * Connects ({@code tls}: in TLS, checking the server's certificate and host name; null: plaintext),
     * completes the handshake, and returns a transport ready for requests. Waits up to
     * {@code handshakeTimeoutMs} for the server's side of the handshake: a paused server accepts the TCP
     * connection (its kernel does) and never answers.
     */
    public static Transport connect(String host, int port, ClientTls tls, int connectTimeoutMs, long handshakeTimeoutMs,
                                    long heartbeatMs, TopologyHolder topology, Listener listener) throws JMSException {
        CompletableFuture<Void> handshake = new CompletableFuture<>();
        Transport[] self = new Transport[1];
        String scheme = tls != null ? "terns" : "tern";
        Bootstrap b = new Bootstrap().group(group()).channel(io.tern.protocol.Sockets.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMs)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast("ssl", tls.context().newHandler(ch.alloc(), host, port));
                        }
                        ch.pipeline()
                                .addLast("flush", new FlushConsolidationHandler(256, true))
                                .addLast("encoder", FrameEncoder.INSTANCE)
                                .addLast("handshake", new HandshakeReplyHandler(handshake, scheme + "://" + host + ":" + port,
                                        tls != null && tls.hasCertificate()))
                                .addLast("decoder", new FrameDecoder(Handshake.DEFAULT_MAX_FRAME_SIZE))
                                .addLast("idle", new IdleStateHandler(heartbeatMs * 3, heartbeatMs, 0, TimeUnit.MILLISECONDS))
                                .addLast("handler", new Handler(self));
                    }
                });
        String remote = host + ":" + port;
        String uri = scheme + "://" + remote;
        ChannelFuture connect = b.connect(host, port);
        if (!connect.awaitUninterruptibly(connectTimeoutMs + 1000L) || !connect.isSuccess()) {
            connect.channel().close();
            Throwable cause = connect.cause();
            throw JmsErrors.wrap("cannot connect to " + uri,
                    cause != null ? cause : new TimeoutException("connect timed out after " + connectTimeoutMs + " ms"));
        }
        Channel ch = connect.channel();
        self[0] = new Transport(ch, topology, listener, remote, scheme);
        if (tls != null) {
            awaitTls(ch, uri, host, handshakeTimeoutMs);
        }
        ByteBuf hello = ch.alloc().buffer(Handshake.HELLO_LENGTH);
        Handshake.writeHello(hello, Handshake.VERSION);
        ch.writeAndFlush(hello);
        try {
            handshake.get(handshakeTimeoutMs, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            ch.close();
            throw JmsErrors.wrap("handshake with " + uri + " failed", e instanceof ExecutionException ? e.getCause() : e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ch.close();
            throw JmsErrors.wrap("interrupted while connecting to " + uri, e);
        }
        return self[0];
    }

    /** Waits for the TLS handshake; a failure says what the client could not accept, or that the port is plaintext. */
    private static void awaitTls(Channel ch, String uri, String host, long timeoutMs) throws JMSException {
        Future<Channel> done = ch.pipeline().get(SslHandler.class).handshakeFuture();
        if (!done.awaitUninterruptibly(timeoutMs)) {
            ch.close();
            throw JmsErrors.wrap("TLS handshake with " + uri + " got no answer in " + timeoutMs + " ms",
                    new TimeoutException());
        }
        if (!done.isSuccess()) {
            ch.close();
            JMSSecurityException e = new JMSSecurityException("TLS handshake with " + uri + " failed: "
                    + TlsFailures.explain(done.cause(), host), ErrorCode.NOT_AUTHORIZED.name());
            e.setLinkedException(done.cause() instanceof Exception x ? x : new Exception(done.cause()));
            e.initCause(done.cause());
            throw e;
        }
    }

    public String remote() {
        return remote;
    }

    public boolean isOpen() {
        return channel.isActive() && closeCause == null;
    }

    /** Sends a request; the future completes with the server's response (an ERROR too). */
    public CompletableFuture<Response> request(Request request) {
        return request(request, null);
    }

    /**
     * Sends a request; {@code onArrival} (may be null) runs on the I/O thread when the answer arrives,
     * before any frame that follows it is handled.
     */
    public CompletableFuture<Response> request(Request request, Runnable onArrival) {
        long id = correlation.incrementAndGet();
        CompletableFuture<Response> future = new CompletableFuture<>();
        Throwable cause = closeCause;
        if (cause != null) {
            future.completeExceptionally(cause);
            return future;
        }
        pending.put(id, new Pending(future, onArrival));
        channel.writeAndFlush(new RequestFrame(id, topology.digest(), request)).addListener(f -> {
            if (!f.isSuccess() && pending.remove(id) != null) {
                Throwable c = closeCause;
                future.completeExceptionally(c != null ? c : new LinkLostException("write to " + scheme + "://" + remote + " failed", f.cause()));
            }
        });
        if (closeCause != null && pending.remove(id) != null) {
            future.completeExceptionally(closeCause);
        }
        return future;
    }

    /** Sends a request that gets no answer unless it fails (then the server reports it with correlation 0). */
    public void send(Request request) {
        if (closeCause == null) {
            channel.writeAndFlush(new RequestFrame(RequestFrame.ONE_WAY, topology.digest(), request), channel.voidPromise());
        }
    }

    /** Sends a request and waits for its answer; an ERROR answer is thrown as the matching JMSException. */
    public Response call(Request request, long timeoutMs) throws JMSException {
        return call(request, null, timeoutMs);
    }

    /** As {@link #call(Request, long)}, running {@code onArrival} on the I/O thread as the answer arrives. */
    public Response call(Request request, Runnable onArrival, long timeoutMs) throws JMSException {
        CompletableFuture<Response> future = request(request, onArrival);
        Response r;
        try {
            r = future.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw JmsErrors.wrap(request.getClass().getSimpleName() + " to " + scheme + "://" + remote + " failed", e.getCause());
        } catch (TimeoutException e) {
            throw JmsErrors.wrap(JmsErrors.noAnswer(request, scheme + "://" + remote, timeoutMs), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw JmsErrors.wrap("interrupted waiting for " + scheme + "://" + remote, e);
        }
        if (r instanceof Response.Error error) {
            throw JmsErrors.toJms(error);
        }
        return r;
    }

    /** Requests sent and not yet answered. */
    public int inFlight() {
        return pending.size();
    }

    /** Waits up to {@code timeoutMs} until every request sent has its answer; true if none is left. */
    public boolean awaitIdle(long timeoutMs) throws InterruptedException {
        long deadlineNs = System.nanoTime() + timeoutMs * 1_000_000L;
        for (Pending p : List.copyOf(pending.values())) {
            long leftNs = deadlineNs - System.nanoTime();
            try {
                p.future().get(Math.max(0, leftNs), TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                // answered with a failure: no longer in flight
            } catch (TimeoutException e) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    private void received(Frame frame) {
        if (frame instanceof Deliver d) {
            listener.onDeliver(d);
        } else if (frame instanceof Notice n) {
            listener.onNotice(n);
        } else if (frame instanceof ResponseFrame r) {
            if (r.topology() != null) {
                topology.update(r.topology());
            }
            Pending p = pending.remove(r.correlationId());
            if (p != null) {
                if (p.onArrival() != null) {
                    p.onArrival().run();
                }
                p.future().complete(r.response());
            } else if (r.response() instanceof Response.Error e) {
                // A one-way request failed, or the server reports a protocol error before closing.
                LOG.warn("Server {}://{} reports: {} ({})", scheme, remote, e.message(), e.code());
                lastServerError = JmsErrors.toJms(e);
            }
        }
    }

    /**
     * The server stopped answering heartbeats: this link is lost to the connection (requests in flight
     * fail as on a close, nothing more is written), but the socket stays open. A server that was only
     * stalled finds the connection still there when it resumes, so that it keeps what the client holds
     * until the client comes back on a new connection and claims it; the connection closes this
     * transport once it has moved on.
     */
    private void suspended(Throwable cause) {
        if (closeCause != null) {
            return;
        }
        closeCause = cause;
        reportedClosed = true;
        failPending(cause);
        listener.onClosed(cause);
    }

    private void closed(Throwable cause) {
        if (closeCause == null) {
            closeCause = lastServerError != null ? lastServerError : cause;
        }
        if (reportedClosed) {
            return; // suspended before: the connection knows
        }
        reportedClosed = true;
        Throwable c = closeCause;
        failPending(c);
        listener.onClosed(c);
    }

    private void failPending(Throwable c) {
        for (Long id : List.copyOf(pending.keySet())) {
            Pending p = pending.remove(id);
            if (p != null) {
                p.future().completeExceptionally(c);
            }
        }
    }

    private static final class Handler extends SimpleChannelInboundHandler<Frame> {
        private final Transport[] self;
        private Throwable failure;

        Handler(Transport[] self) {
            this.self = self;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
            self[0].received(frame);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent idle) {
                if (idle.state() == IdleState.WRITER_IDLE) {
                    self[0].request(new Request.Ping());
                } else if (idle.state() == IdleState.READER_IDLE && self[0] != null) {
                    failure = new java.io.IOException("the server stopped answering heartbeats");
                    self[0].suspended(new LinkLostException("connection to " + self[0].scheme + "://" + self[0].remote + " failed: "
                            + failure.getMessage(), failure, true));
                }
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            failure = cause;
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (self[0] != null) {
                String remote = self[0].scheme + "://" + self[0].remote;
                self[0].closed(failure == null ? new LinkLostException("connection to " + remote + " closed", null)
                        : new LinkLostException("connection to " + remote + " failed: " + failure.getMessage(), failure));
            }
        }
    }

    /** Waits for the server's handshake reply, then leaves the pipeline. */
    private static final class HandshakeReplyHandler extends ByteToMessageDecoder {
        private final CompletableFuture<Void> done;
        private final String uri;
        private final boolean hasCertificate;

        HandshakeReplyHandler(CompletableFuture<Void> done, String uri, boolean hasCertificate) {
            this.done = done;
            this.uri = uri;
            this.hasCertificate = hasCertificate;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            if (in.readableBytes() < Handshake.REPLY_LENGTH) {
                return;
            }
            int magic = in.readInt();
            byte version = in.readByte();
            byte status = in.readByte();
            if (magic != Handshake.MAGIC) {
                done.completeExceptionally(new JMSException("the server is not a Tern server"));
                ctx.close();
            } else if (status == Handshake.TLS_REQUIRED) {
                done.completeExceptionally(new JMSSecurityException(uri + " takes only TLS clients: connect with terns://",
                        ErrorCode.NOT_AUTHORIZED.name()));
                ctx.close();
            } else if (status != Handshake.ACCEPTED) {
                done.completeExceptionally(new JMSException("the server speaks protocol version " + version
                        + ", this client speaks " + Handshake.VERSION));
                ctx.close();
            } else {
                ctx.pipeline().remove(this);
                done.complete(null);
            }
        }

        /** A TLS alert from the server after the client's side of the TLS handshake (TLS 1.3 checks the client's certificate then). */
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!done.isDone() && (cause instanceof javax.net.ssl.SSLException || cause.getCause() instanceof javax.net.ssl.SSLException)) {
                done.completeExceptionally(new JMSSecurityException("TLS handshake with " + uri + " failed: "
                        + TlsFailures.refusedByServer(cause, hasCertificate), ErrorCode.NOT_AUTHORIZED.name()));
            }
            ctx.fireExceptionCaught(cause);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            done.completeExceptionally(new JMSException("the server closed the connection during the handshake"));
            super.channelInactive(ctx);
        }
    }
}
