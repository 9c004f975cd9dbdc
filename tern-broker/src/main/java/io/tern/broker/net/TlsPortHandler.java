package io.tern.broker.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.tern.protocol.Handshake;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * First in the pipeline of a TLS port: a connection that opens with a TLS record gets the
 * {@link SslHandler} in this handler's place; a plaintext Tern client gets the handshake reply
 * {@link Handshake#TLS_REQUIRED} (its error says to use {@code terns://}) and is closed, as is
 * anything else. Each refusal, and each failed TLS handshake (no or a bad client certificate, a client
 * that does not trust this server), is logged with the peer's address and counted.
 */
final class TlsPortHandler extends ByteToMessageDecoder {
    private static final Logger LOG = LoggerFactory.getLogger(TlsPortHandler.class);
    /** A TLS record header: content type, version major and minor, length. */
    private static final int RECORD_HEADER = 5;

    private final SslContext context;
    private final BrokerAcceptor.Stats stats;

    TlsPortHandler(SslContext context, BrokerAcceptor.Stats stats) {
        this.context = context;
        this.stats = stats;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < RECORD_HEADER) {
            return;
        }
        if (SslHandler.isEncrypted(in, false)) {
            SslHandler ssl = context.newHandler(ctx.alloc());
            Object peer = ctx.channel().remoteAddress();
            ssl.handshakeFuture().addListener(f -> {
                if (!f.isSuccess()) {
                    stats.refusedHandshakes.increment();
                    LOG.warn("TLS handshake with the client at {} failed: {}", peer, f.cause().getMessage());
                }
            });
            ctx.pipeline().addAfter(ctx.name(), "ssl", ssl);
            ctx.pipeline().remove(this); // hands what it read on to the SslHandler
            return;
        }
        boolean tern = in.getInt(in.readerIndex()) == Handshake.MAGIC;
        in.skipBytes(in.readableBytes());
        stats.refusedHandshakes.increment();
        if (tern) {
            LOG.warn("Refused a plaintext client from {}: this port takes only TLS clients (terns://)", ctx.channel().remoteAddress());
            ByteBuf reply = ctx.alloc().buffer(Handshake.REPLY_LENGTH);
            Handshake.writeReply(reply, Handshake.TLS_REQUIRED);
            ctx.writeAndFlush(reply).addListener(ChannelFutureListener.CLOSE);
        } else {
            LOG.warn("Refused a connection from {}: neither TLS nor a Tern client", ctx.channel().remoteAddress());
            ctx.close();
        }
    }
}
