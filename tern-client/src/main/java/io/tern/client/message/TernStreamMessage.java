package io.tern.client.message;

import io.tern.protocol.WireMessage;
import jakarta.jms.JMSException;
import jakarta.jms.MessageEOFException;
import jakarta.jms.MessageFormatException;
import jakarta.jms.MessageNotReadableException;
import jakarta.jms.StreamMessage;

import java.util.ArrayList;
import java.util.List;

/**
 * A message whose body is a sequence of typed values, read in order. A read that fails to convert
 * leaves the position where it was, as the specification asks.
 */
public class TernStreamMessage extends TernMessage implements StreamMessage {
    private List<Object> items = new ArrayList<>();
    private int position;
    /** Bytes of a byte[] item already handed out by readBytes; -1 when none is being read. */
    private int bytesOffset = -1;

    @Override
    protected byte bodyType() {
        return WireMessage.BODY_STREAM;
    }

    private interface Convert<T> {
        T apply(Object v) throws JMSException;
    }

    private <T> T read(Convert<T> convert) throws JMSException {
        if (!bodyReadOnly) {
            throw new MessageNotReadableException("the message is being written; call reset() to read it");
        }
        if (bytesOffset >= 0) {
            throw new MessageFormatException("finish reading the byte[] item with readBytes first");
        }
        if (position >= items.size()) {
            throw new MessageEOFException("end of the stream message");
        }
        T value = convert.apply(items.get(position));
        position++;
        return value;
    }

    @Override public boolean readBoolean() throws JMSException { return read(Conversions::toBoolean); }
    @Override public byte readByte() throws JMSException { return read(Conversions::toByte); }
    @Override public short readShort() throws JMSException { return read(Conversions::toShort); }
    @Override public char readChar() throws JMSException { return read(Conversions::toChar); }
    @Override public int readInt() throws JMSException { return read(Conversions::toInt); }
    @Override public long readLong() throws JMSException { return read(Conversions::toLong); }
    @Override public float readFloat() throws JMSException { return read(Conversions::toFloat); }
    @Override public double readDouble() throws JMSException { return read(Conversions::toDouble); }
    @Override public String readString() throws JMSException { return read(Conversions::toStringValue); }

    @Override
    public Object readObject() throws JMSException {
        return read(v -> v instanceof byte[] b ? b.clone() : v);
    }

    @Override
    public int readBytes(byte[] value) throws JMSException {
        if (!bodyReadOnly) {
            throw new MessageNotReadableException("the message is being written; call reset() to read it");
        }
        if (position >= items.size()) {
            throw new MessageEOFException("end of the stream message");
        }
        Object item = items.get(position);
        if (item == null) {
            position++;
            return -1;
        }
        if (!(item instanceof byte[] bytes)) {
            throw new MessageFormatException("the next item is a " + item.getClass().getSimpleName() + ", not byte[]");
        }
        int offset = Math.max(bytesOffset, 0);
        int n = Math.min(value.length, bytes.length - offset);
        if (n <= 0 && bytesOffset >= 0) {
            bytesOffset = -1;
            position++;
            return -1;
        }
        System.arraycopy(bytes, offset, value, 0, n);
        bytesOffset = offset + n;
        if (n < value.length) {
            bytesOffset = -1;
            position++;
        }
        return n;
    }

    private void write(Object v) throws JMSException {
        checkWritable();
        items.add(v);
    }

    @Override public void writeBoolean(boolean v) throws JMSException { write(v); }
    @Override public void writeByte(byte v) throws JMSException { write(v); }
    @Override public void writeShort(short v) throws JMSException { write(v); }
    @Override public void writeChar(char v) throws JMSException { write(v); }
    @Override public void writeInt(int v) throws JMSException { write(v); }
    @Override public void writeLong(long v) throws JMSException { write(v); }
    @Override public void writeFloat(float v) throws JMSException { write(v); }
    @Override public void writeDouble(double v) throws JMSException { write(v); }
    @Override public void writeString(String v) throws JMSException { write(v); }
    @Override public void writeBytes(byte[] v) throws JMSException { write(v == null ? null : v.clone()); }

    @Override
    public void writeBytes(byte[] v, int offset, int length) throws JMSException {
        byte[] part = new byte[length];
        System.arraycopy(v, offset, part, 0, length);
        write(part);
    }

    @Override
    public void writeObject(Object v) throws JMSException {
        if (!Conversions.isBodyValueType(v)) {
            throw new MessageFormatException("a stream message may not hold a " + v.getClass().getName());
        }
        write(v instanceof byte[] b ? b.clone() : v);
    }

    @Override
    public void reset() {
        bodyReadOnly = true;
        position = 0;
        bytesOffset = -1;
    }

    @Override
    public void clearBody() throws JMSException {
        super.clearBody();
        items = new ArrayList<>();
        position = 0;
        bytesOffset = -1;
    }

    @Override
    protected byte[] encodeBody() {
        return BodyValues.encodeList(items);
    }

    @Override
    protected void decodeBody(byte[] body) throws JMSException {
        items = BodyValues.decodeList(body);
        position = 0;
    }

    @Override
    public boolean isBodyAssignableTo(@SuppressWarnings("rawtypes") Class c) {
        return false;
    }

    @Override
    public <T> T getBody(Class<T> c) throws JMSException {
        throw new MessageFormatException("a stream message has no body that getBody can return");
    }
}
