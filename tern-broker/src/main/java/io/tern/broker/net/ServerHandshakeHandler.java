package io.tern.broker.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandler;
import io.tern.protocol.ErrorCode;
import io.tern.protocol.Handshake;
import io.tern.protocol.Response;
import io.tern.protocol.ResponseFrame;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/** Reads the client's handshake, answers it, and leaves the pipeline; a bad one closes the connection. */
final class ServerHandshakeHandler extends ByteToMessageDecoder {
    private static final Logger LOG = LoggerFactory.getLogger(ServerHandshakeHandler.class);

    private final BrokerAcceptor.Stats stats;

    ServerHandshakeHandler(BrokerAcceptor.Stats stats) {
        this.stats = stats;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < Handshake.HELLO_LENGTH) {
            return;
        }
        if (ctx.pipeline().get(SslHandler.class) == null && SslHandler.isEncrypted(in, false)) {
            in.skipBytes(in.readableBytes());
            stats.refusedHandshakes.increment();
            LOG.warn("Refused a TLS client from {}: this port takes only plaintext clients (tern://)", ctx.channel().remoteAddress());
            // The reply is not TLS, so the client's TLS layer reports that the port does not speak it.
            ByteBuf reply = ctx.alloc().buffer(Handshake.REPLY_LENGTH);
            Handshake.writeReply(reply, Handshake.REJECTED);
            ctx.writeAndFlush(reply).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        int magic = in.readInt();
        byte version = in.readByte();
        if (magic != Handshake.MAGIC) {
            in.skipBytes(in.readableBytes());
            stats.refusedHandshakes.increment();
            reject(ctx, ErrorCode.BAD_MAGIC, String.format("not a Tern client: handshake starts with 0x%08x", magic));
            return;
        }
        if (version != Handshake.VERSION) {
            in.skipBytes(in.readableBytes());
            ctx.write(ctx.alloc().buffer(Handshake.REPLY_LENGTH).writeInt(Handshake.MAGIC)
                    .writeByte(Handshake.VERSION).writeByte(Handshake.REJECTED));
            reject(ctx, ErrorCode.UNSUPPORTED_VERSION, "client speaks protocol version " + version
                    + ", this server speaks " + Handshake.VERSION);
            return;
        }
        ByteBuf reply = ctx.alloc().buffer(Handshake.REPLY_LENGTH);
        Handshake.writeReply(reply, Handshake.ACCEPTED);
        ctx.writeAndFlush(reply);
        ctx.pipeline().remove(this);
    }

    private static void reject(ChannelHandlerContext ctx, ErrorCode code, String message) {
        ctx.writeAndFlush(new ResponseFrame(0, null, new Response.Error(code, message)))
                .addListener(ChannelFutureListener.CLOSE);
    }
}
