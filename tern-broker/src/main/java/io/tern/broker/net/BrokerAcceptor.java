package io.tern.broker.net;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.tern.broker.Broker;
import io.tern.broker.FrameSink;
import io.tern.broker.ServerConnection;
import io.tern.protocol.FrameBudget;
import io.tern.protocol.FrameDecoder;
import io.tern.protocol.FrameEncoder;
import io.tern.protocol.Sockets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Listens for clients on one TCP address. Pipeline: on a TLS port the {@link TlsPortHandler} (which
 * becomes the {@code SslHandler}), then flush consolidation (many small answers and
 * deliveries leave in one write), encoder, handshake (removes itself), frame decoder with the maximum
 * frame size, idle timer, connection handler.
 */
public final class BrokerAcceptor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerAcceptor.class);

    /** Counters an operator (and a test) can read. */
    public static final class Stats {
        final LongAdder protocolErrors = new LongAdder();
        final LongAdder refusedHandshakes = new LongAdder();

        public long protocolErrors() {
            return protocolErrors.sum();
        }

        /** Connections refused before their first frame: plaintext on a TLS port, TLS on a plaintext one, not Tern. */
        public long refusedHandshakes() {
            return refusedHandshakes.sum();
        }
    }

    private final Broker broker;
    private final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, Sockets.ioHandlers());
    private final EventLoopGroup workers = new MultiThreadIoEventLoopGroup(Sockets.ioHandlers());
    private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final Stats stats = new Stats();
    private Channel server;
    private volatile FrameBudget frameBudget;

    public BrokerAcceptor(Broker broker) {
        this.broker = broker;
    }

    static ServerConnection connect(Broker broker, FrameSink sink) {
        return broker.connect(sink);
    }

    /** Binds and returns the address actually bound (port 0 picks a free port). */
    public InetSocketAddress start() throws InterruptedException {
        int maxFrame = broker.config().maxFrameSize();
        SslContext tls = broker.config().tls() == null ? null : broker.config().tls().serverContext();
        // Large frames half received hold at most a quarter of the heap (at least two of the largest).
        FrameBudget budget = new FrameBudget(Math.max(2L * maxFrame, Runtime.getRuntime().maxMemory() / 4));
        frameBudget = budget;
        long ttlMs = broker.config().connectionTtlMs();
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(Sockets.serverSocketChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        channels.add(ch);
                        if (tls != null) {
                            ch.pipeline().addLast("tls", new TlsPortHandler(tls, stats));
                        }
                        ch.pipeline()
                                .addLast("flush", new FlushConsolidationHandler(256, true))
                                .addLast("encoder", FrameEncoder.INSTANCE)
                                .addLast("handshake", new ServerHandshakeHandler(stats))
                                .addLast("decoder", new FrameDecoder(maxFrame, FrameDecoder.HELLO_LIMIT, budget))
                                .addLast("idle", new IdleStateHandler(ttlMs, 0, 0, TimeUnit.MILLISECONDS))
                                .addLast("connection", new ConnectionHandler(broker, stats));
                    }
                });
        server = b.bind(broker.config().bindAddress(), broker.config().port()).sync().channel();
        InetSocketAddress bound = (InetSocketAddress) server.localAddress();
        LOG.info("Accepting clients on {}://{}:{} ({}){}", broker.config().scheme(), bound.getHostString(), bound.getPort(),
                Sockets.describe(),
                tls == null ? "" : " (TLS " + String.join(", ", io.tern.protocol.TlsSettings.PROTOCOLS) + ", client certificates "
                        + broker.config().tls().clientAuth().name().toLowerCase(java.util.Locale.ROOT) + ")");
        return bound;
    }

    public Stats stats() {
        return stats;
    }

    /** What large frames half received hold now; null before {@link #start()}. */
    public FrameBudget frameBudget() {
        return frameBudget;
    }

    /** Stops accepting new connections; existing ones stay open. */
    public void stopAccepting() {
        if (server != null) {
            server.close().syncUninterruptibly();
        }
    }

    @Override
    public void close() {
        stopAccepting();
        channels.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
