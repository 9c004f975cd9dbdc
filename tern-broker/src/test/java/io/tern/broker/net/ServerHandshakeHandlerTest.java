package io.tern.broker.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.tern.protocol.ErrorCode;
import io.tern.protocol.FrameCodec;
import io.tern.protocol.FrameEncoder;
import io.tern.protocol.Handshake;
import io.tern.protocol.Response;
import io.tern.protocol.ResponseFrame;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

@Timeout(10)
class ServerHandshakeHandlerTest {

    @Test
    void aGoodHelloIsAcceptedAndTheHandlerLeaves() {
        EmbeddedChannel ch = new EmbeddedChannel(FrameEncoder.INSTANCE, new ServerHandshakeHandler(new BrokerAcceptor.Stats()));
        ByteBuf hello = Unpooled.buffer();
        Handshake.writeHello(hello, Handshake.VERSION);
        hello.writeBytes(new byte[] {1, 2, 3});
        ch.writeInbound(hello);
        ByteBuf reply = ch.readOutbound();
        assertThat(reply.readInt()).isEqualTo(Handshake.MAGIC);
        assertThat(reply.readByte()).isEqualTo(Handshake.VERSION);
        assertThat(reply.readByte()).isEqualTo(Handshake.ACCEPTED);
        assertThat(ch.pipeline().get(ServerHandshakeHandler.class)).isNull();
        ByteBuf rest = ch.readInbound();
        assertThat(rest.readableBytes()).as("bytes after the hello pass on").isEqualTo(3);
        assertThat(ch.isActive()).isTrue();
        ch.finishAndReleaseAll();
    }

    @Test
    void badMagicGetsAnErrorFrameAndTheChannelCloses() {
        EmbeddedChannel ch = new EmbeddedChannel(FrameEncoder.INSTANCE, new ServerHandshakeHandler(new BrokerAcceptor.Stats()));
        ch.writeInbound(Unpooled.wrappedBuffer("HELLO".getBytes()));
        ByteBuf out = ch.readOutbound();
        out.readInt();
        ResponseFrame f = (ResponseFrame) FrameCodec.decode(out);
        assertThat(((Response.Error) f.response()).code()).isEqualTo(ErrorCode.BAD_MAGIC);
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void anUnknownVersionIsRejectedWithTheServerVersion() {
        EmbeddedChannel ch = new EmbeddedChannel(FrameEncoder.INSTANCE, new ServerHandshakeHandler(new BrokerAcceptor.Stats()));
        ByteBuf hello = Unpooled.buffer();
        Handshake.writeHello(hello, (byte) 42);
        ch.writeInbound(hello);
        ByteBuf reply = ch.readOutbound();
        reply.skipBytes(4);
        assertThat(reply.readByte()).isEqualTo(Handshake.VERSION);
        assertThat(reply.readByte()).isEqualTo(Handshake.REJECTED);
        ByteBuf error = ch.readOutbound();
        error.readInt();
        ResponseFrame f = (ResponseFrame) FrameCodec.decode(error);
        assertThat(((Response.Error) f.response()).message()).contains("42");
        assertThat(ch.isOpen()).isFalse();
    }
}
