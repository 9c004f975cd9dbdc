package io.tern.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tern.protocol.DestinationName;
import io.tern.protocol.FrameCodec;
import io.tern.protocol.WireMessage;

import java.util.Map;

/** Messages as a store and a replica hold them (encoded), for the tests of this package. */
final class TestMessages {
    private TestMessages() {
    }

    /** A persistent text message to queue {@code queue} with these properties, moved {@code moves} times, encoded. */
    static byte[] encoded(String messageId, String queue, Map<String, Object> properties, int moves) {
        WireMessage m = new WireMessage(messageId, WireMessage.BODY_TEXT, DestinationName.queue(queue), null, null, null,
                true, 4, 0, 0, 0, properties, new byte[] {1});
        for (int i = 0; i < moves; i++) {
            m = m.moved();
        }
        ByteBuf buf = Unpooled.buffer();
        FrameCodec.writeMessage(m, buf);
        byte[] encoded = new byte[buf.readableBytes()];
        buf.readBytes(encoded);
        return encoded;
    }
}
