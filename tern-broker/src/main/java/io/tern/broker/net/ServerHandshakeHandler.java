package io.tern.broker.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.tern.protocol.ErrorCode;
import io.tern.protocol.Handshake;
import io.tern.protocol.Response;
import io.tern.protocol.ResponseFrame;

import java.util.List;

/** Reads the client's handshake, answers it, and leaves the pipeline; a bad one closes the connection. */
final class ServerHandshakeHandler extends ByteToMessageDecoder {

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < Handshake.HELLO_LENGTH) {
            return;
        }
        int magic = in.readInt();
        byte version = in.readByte();
        if (magic != Handshake.MAGIC) {
            in.skipBytes(in.readableBytes());
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
