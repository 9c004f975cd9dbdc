package io.tern.protocol;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Primitive encodings shared by every codec. Lengths are checked against the bytes actually
 * present before anything is allocated, so a forged length can never make us allocate.
 *
 * <pre>
 * string := len:i32 (-1 = null) utf8[len]
 * bytes  := len:i32 (-1 = null) byte[len]
 * value  := tag:u8 payload     (tags: see {@code T_*})
 * map    := count:i32 (string value)*
 * </pre>
 */
public final class Wire {
    public static final byte T_NULL = 0;
    public static final byte T_BOOLEAN = 1;
    public static final byte T_BYTE = 2;
    public static final byte T_SHORT = 3;
    public static final byte T_CHAR = 4;
    public static final byte T_INT = 5;
    public static final byte T_LONG = 6;
    public static final byte T_FLOAT = 7;
    public static final byte T_DOUBLE = 8;
    public static final byte T_STRING = 9;
    public static final byte T_BYTES = 10;

    private Wire() {
    }

    public static void writeString(ByteBuf buf, String s) {
        if (s == null) {
            buf.writeInt(-1);
            return;
        }
        int lengthIndex = buf.writerIndex();
        buf.writeInt(0);
        int written = buf.writeCharSequence(s, StandardCharsets.UTF_8);
        buf.setInt(lengthIndex, written);
    }

    public static String readString(ByteBuf buf) {
        int len = readLength(buf);
        if (len < 0) {
            return null;
        }
        String s = buf.toString(buf.readerIndex(), len, StandardCharsets.UTF_8);
        buf.skipBytes(len);
        return s;
    }

    public static void writeBytes(ByteBuf buf, byte[] b) {
        if (b == null) {
            buf.writeInt(-1);
        } else {
            buf.writeInt(b.length);
            buf.writeBytes(b);
        }
    }

    public static byte[] readBytes(ByteBuf buf) {
        int len = readLength(buf);
        if (len < 0) {
            return null;
        }
        byte[] b = new byte[len];
        buf.readBytes(b);
        return b;
    }

    public static void writeLongs(ByteBuf buf, long[] values) {
        buf.writeInt(values.length);
        for (long v : values) {
            buf.writeLong(v);
        }
    }

    public static long[] readLongs(ByteBuf buf) {
        int count = readCount(buf, 8);
        long[] values = new long[count];
        for (int i = 0; i < count; i++) {
            values[i] = buf.readLong();
        }
        return values;
    }

    /** Reads a count of items that each take at least {@code minItemSize} bytes, and checks it. */
    public static int readCount(ByteBuf buf, int minItemSize) {
        need(buf, 4);
        int count = buf.readInt();
        if (count < 0 || (long) count * minItemSize > buf.readableBytes()) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME,
                    "count " + count + " exceeds the " + buf.readableBytes() + " bytes left in the frame");
        }
        return count;
    }

    private static int readLength(ByteBuf buf) {
        need(buf, 4);
        int len = buf.readInt();
        if (len < -1 || len > buf.readableBytes()) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME,
                    "length " + len + " exceeds the " + buf.readableBytes() + " bytes left in the frame");
        }
        return len;
    }

    public static void need(ByteBuf buf, int bytes) {
        if (buf.readableBytes() < bytes) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME,
                    "frame ends early: need " + bytes + " bytes, have " + buf.readableBytes());
        }
    }

    public static void writeValue(ByteBuf buf, Object v) {
        if (v == null) {
            buf.writeByte(T_NULL);
        } else if (v instanceof Boolean b) {
            buf.writeByte(T_BOOLEAN).writeBoolean(b);
        } else if (v instanceof Byte b) {
            buf.writeByte(T_BYTE).writeByte(b);
        } else if (v instanceof Short s) {
            buf.writeByte(T_SHORT).writeShort(s);
        } else if (v instanceof Character c) {
            buf.writeByte(T_CHAR).writeChar(c);
        } else if (v instanceof Integer i) {
            buf.writeByte(T_INT).writeInt(i);
        } else if (v instanceof Long l) {
            buf.writeByte(T_LONG).writeLong(l);
        } else if (v instanceof Float f) {
            buf.writeByte(T_FLOAT).writeFloat(f);
        } else if (v instanceof Double d) {
            buf.writeByte(T_DOUBLE).writeDouble(d);
        } else if (v instanceof String s) {
            buf.writeByte(T_STRING);
            writeString(buf, s);
        } else if (v instanceof byte[] b) {
            buf.writeByte(T_BYTES);
            writeBytes(buf, b);
        } else {
            throw new IllegalArgumentException("value type not allowed on the wire: " + v.getClass().getName());
        }
    }

    public static Object readValue(ByteBuf buf) {
        need(buf, 1);
        byte tag = buf.readByte();
        return switch (tag) {
            case T_NULL -> null;
            case T_BOOLEAN -> { need(buf, 1); yield buf.readBoolean(); }
            case T_BYTE -> { need(buf, 1); yield buf.readByte(); }
            case T_SHORT -> { need(buf, 2); yield buf.readShort(); }
            case T_CHAR -> { need(buf, 2); yield buf.readChar(); }
            case T_INT -> { need(buf, 4); yield buf.readInt(); }
            case T_LONG -> { need(buf, 8); yield buf.readLong(); }
            case T_FLOAT -> { need(buf, 4); yield buf.readFloat(); }
            case T_DOUBLE -> { need(buf, 8); yield buf.readDouble(); }
            case T_STRING -> readString(buf);
            case T_BYTES -> readBytes(buf);
            default -> throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "unknown value tag " + tag);
        };
    }

    public static void writeMap(ByteBuf buf, Map<String, Object> map) {
        buf.writeInt(map.size());
        for (Map.Entry<String, Object> e : map.entrySet()) {
            writeString(buf, e.getKey());
            writeValue(buf, e.getValue());
        }
    }

    public static Map<String, Object> readMap(ByteBuf buf) {
        int count = readCount(buf, 5);
        Map<String, Object> map = new LinkedHashMap<>(Math.max(4, count * 2));
        for (int i = 0; i < count; i++) {
            String key = readString(buf);
            if (key == null) {
                throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "null map key");
            }
            map.put(key, readValue(buf));
        }
        return map;
    }

    public static void writeDestination(ByteBuf buf, DestinationName d) {
        if (d == null) {
            buf.writeByte(-1);
            return;
        }
        buf.writeByte(d.kind().ordinal());
        writeString(buf, d.name());
    }

    public static DestinationName readDestination(ByteBuf buf) {
        need(buf, 1);
        byte kind = buf.readByte();
        if (kind == -1) {
            return null;
        }
        DestinationName.Kind[] kinds = DestinationName.Kind.values();
        if (kind < 0 || kind >= kinds.length) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "unknown destination kind " + kind);
        }
        String name = readString(buf);
        if (name == null || name.isEmpty()) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "destination without a name");
        }
        return new DestinationName(kinds[kind], name);
    }
}
