package io.tern.broker.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.tern.broker.Broker;
import io.tern.broker.BrokerException;
import io.tern.broker.FrameSink;
import io.tern.broker.ServerConnection;
import io.tern.protocol.ErrorCode;
import io.tern.protocol.Frame;
import io.tern.protocol.FrameDecoder;
import io.tern.protocol.ProtocolException;
import io.tern.protocol.RequestFrame;
import io.tern.protocol.Response;
import io.tern.protocol.ResponseFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;

/** Hands decoded requests to the broker; turns protocol errors into an ERROR frame and a close. */
final class ConnectionHandler extends SimpleChannelInboundHandler<Frame> {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionHandler.class);

    private final Broker broker;
    private final BrokerAcceptor.Stats stats;
    private ServerConnection connection;

    ConnectionHandler(Broker broker, BrokerAcceptor.Stats stats) {
        this.broker = broker;
        this.stats = stats;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        Channel channel = ctx.channel();
        try {
            connection = BrokerAcceptor.connect(broker, new ChannelSink(channel));
        } catch (BrokerException e) {
            ctx.writeAndFlush(new ResponseFrame(0, null, new Response.Error(e.code(), e.getMessage())))
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.fireChannelActive();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
        if (frame instanceof RequestFrame request && connection != null) {
            connection.handle(request);
        } else {
            protocolError(ctx, ErrorCode.MALFORMED_FRAME, "clients may only send requests, got "
                    + frame.getClass().getSimpleName());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (connection != null) {
            connection.closed();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            LOG.info("Closing connection from {}: silent for longer than the connection TTL", ctx.channel().remoteAddress());
            ctx.close();
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (root instanceof ProtocolException p) {
            protocolError(ctx, p.code(), p.getMessage());
        } else if (root instanceof IOException) {
            LOG.debug("Connection from {} failed: {}", ctx.channel().remoteAddress(), root.getMessage());
            ctx.close();
        } else {
            LOG.warn("Closing connection from {} after an unexpected error", ctx.channel().remoteAddress(), root);
            protocolError(ctx, ErrorCode.INTERNAL, String.valueOf(root));
        }
    }

    private void protocolError(ChannelHandlerContext ctx, ErrorCode code, String message) {
        stats.protocolErrors.increment();
        LOG.warn("Protocol error from {}: {} ({}); closing the connection", ctx.channel().remoteAddress(), message, code);
        if (ctx.channel().isActive()) {
            ctx.writeAndFlush(new ResponseFrame(0, null, new Response.Error(code, message)))
                    .addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** Writes from any thread; Netty hands them to the event loop in order. */
    private record ChannelSink(Channel channel) implements FrameSink {
        @Override
        public void write(Frame frame) {
            channel.write(frame, channel.voidPromise());
        }

        @Override
        public void write(Frame frame, Runnable left) {
            channel.write(frame, channel.newPromise().addListener(written -> left.run()));
        }

        @Override
        public void flush() {
            channel.flush();
        }

        @Override
        public void close() {
            channel.close();
        }

        @Override
        public String remoteAddress() {
            return channel.remoteAddress() instanceof java.net.InetSocketAddress a
                    ? a.getAddress().getHostAddress() + ":" + a.getPort() : String.valueOf(channel.remoteAddress());
        }

        @Override
        public void welcomed() {
            FrameDecoder decoder = channel.pipeline().get(FrameDecoder.class);
            if (decoder != null) {
                decoder.open();
            }
        }

        @Override
        public String certifiedUser() {
            SslHandler ssl = channel.pipeline().get(SslHandler.class);
            if (ssl == null) {
                return null;
            }
            try {
                java.security.cert.Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
                return chain.length > 0 && chain[0] instanceof X509Certificate x
                        ? ClientCertificates.userOf(x.getSubjectX500Principal()) : null;
            } catch (SSLPeerUnverifiedException e) {
                return null; // the client showed no certificate (client authentication is optional)
            }
        }
    }
}
