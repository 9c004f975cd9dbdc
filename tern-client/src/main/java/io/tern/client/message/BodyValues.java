package io.tern.client.message;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tern.protocol.ProtocolException;
import io.tern.protocol.Wire;
import jakarta.jms.JMSException;
import jakarta.jms.MessageFormatException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Encodes map and stream bodies with the protocol's typed values. */
final class BodyValues {
    private BodyValues() {
    }

    static byte[] encodeMap(Map<String, Object> map) {
        ByteBuf buf = Unpooled.buffer();
        try {
            Wire.writeMap(buf, map);
            return bytes(buf);
        } finally {
            buf.release();
        }
    }

    static Map<String, Object> decodeMap(byte[] body) throws JMSException {
        if (body == null) {
            return new java.util.LinkedHashMap<>();
        }
        try {
            return Wire.readMap(Unpooled.wrappedBuffer(body));
        } catch (ProtocolException | IndexOutOfBoundsException e) {
            throw new MessageFormatException("corrupt map message body: " + e.getMessage());
        }
    }

    static byte[] encodeList(List<Object> items) {
        ByteBuf buf = Unpooled.buffer();
        try {
            buf.writeInt(items.size());
            items.forEach(v -> Wire.writeValue(buf, v));
            return bytes(buf);
        } finally {
            buf.release();
        }
    }

    static List<Object> decodeList(byte[] body) throws JMSException {
        List<Object> items = new ArrayList<>();
        if (body == null) {
            return items;
        }
        try {
            ByteBuf buf = Unpooled.wrappedBuffer(body);
            int n = Wire.readCount(buf, 1);
            for (int i = 0; i < n; i++) {
                items.add(Wire.readValue(buf));
            }
            return items;
        } catch (ProtocolException | IndexOutOfBoundsException e) {
            throw new MessageFormatException("corrupt stream message body: " + e.getMessage());
        }
    }

    private static byte[] bytes(ByteBuf buf) {
        byte[] b = new byte[buf.readableBytes()];
        buf.readBytes(b);
        return b;
    }
}
