package io.tern.client.message;

import io.tern.protocol.WireMessage;
import jakarta.jms.BytesMessage;
import jakarta.jms.JMSException;
import jakarta.jms.MessageEOFException;
import jakarta.jms.MessageFormatException;
import jakarta.jms.MessageNotReadableException;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.Arrays;

/** A message whose body is a stream of bytes, written then {@link #reset()} to read. */
public class TernBytesMessage extends TernMessage implements BytesMessage {
    private ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private DataOutputStream out = new DataOutputStream(buffer);
    private byte[] data;
    private DataInputStream in;

    @Override
    protected byte bodyType() {
        return WireMessage.BODY_BYTES;
    }

    private DataOutputStream out() throws JMSException {
        checkWritable();
        return out;
    }

    private DataInputStream in() throws MessageNotReadableException {
        if (!bodyReadOnly) {
            throw new MessageNotReadableException("the message is being written; call reset() to read it");
        }
        return in;
    }

    private interface Read<T> {
        T read(DataInputStream in) throws IOException;
    }

    private <T> T read(Read<T> r) throws JMSException {
        DataInputStream s = in();
        try {
            return r.read(s);
        } catch (EOFException e) {
            throw new MessageEOFException("end of the bytes message");
        } catch (IOException e) {
            throw new MessageFormatException(e.getMessage());
        }
    }

    private interface Write {
        void write(DataOutputStream out) throws IOException;
    }

    private void write(Write w) throws JMSException {
        try {
            w.write(out());
        } catch (IOException e) {
            throw new MessageFormatException(e.getMessage());
        }
    }

    @Override
    public long getBodyLength() throws JMSException {
        in();
        return data.length;
    }

    @Override public boolean readBoolean() throws JMSException { return read(DataInputStream::readBoolean); }
    @Override public byte readByte() throws JMSException { return read(DataInputStream::readByte); }
    @Override public int readUnsignedByte() throws JMSException { return read(DataInputStream::readUnsignedByte); }
    @Override public short readShort() throws JMSException { return read(DataInputStream::readShort); }
    @Override public int readUnsignedShort() throws JMSException { return read(DataInputStream::readUnsignedShort); }
    @Override public char readChar() throws JMSException { return read(DataInputStream::readChar); }
    @Override public int readInt() throws JMSException { return read(DataInputStream::readInt); }
    @Override public long readLong() throws JMSException { return read(DataInputStream::readLong); }
    @Override public float readFloat() throws JMSException { return read(DataInputStream::readFloat); }
    @Override public double readDouble() throws JMSException { return read(DataInputStream::readDouble); }
    @Override public String readUTF() throws JMSException { return read(s -> s.readUTF()); }

    @Override
    public int readBytes(byte[] value) throws JMSException {
        return readBytes(value, value.length);
    }

    @Override
    public int readBytes(byte[] value, int length) throws JMSException {
        if (length < 0 || length > value.length) {
            throw new IndexOutOfBoundsException("length must be 0.." + value.length + ": " + length);
        }
        return read(s -> {
            int n = s.read(value, 0, length);
            return n <= 0 && length > 0 ? -1 : Math.max(n, 0);
        });
    }

    @Override public void writeBoolean(boolean v) throws JMSException { write(o -> o.writeBoolean(v)); }
    @Override public void writeByte(byte v) throws JMSException { write(o -> o.writeByte(v)); }
    @Override public void writeShort(short v) throws JMSException { write(o -> o.writeShort(v)); }
    @Override public void writeChar(char v) throws JMSException { write(o -> o.writeChar(v)); }
    @Override public void writeInt(int v) throws JMSException { write(o -> o.writeInt(v)); }
    @Override public void writeLong(long v) throws JMSException { write(o -> o.writeLong(v)); }
    @Override public void writeFloat(float v) throws JMSException { write(o -> o.writeFloat(v)); }
    @Override public void writeDouble(double v) throws JMSException { write(o -> o.writeDouble(v)); }
    @Override public void writeUTF(String v) throws JMSException { write(o -> o.writeUTF(v)); }
    @Override public void writeBytes(byte[] v) throws JMSException { write(o -> o.write(v)); }
    @Override public void writeBytes(byte[] v, int off, int len) throws JMSException { write(o -> o.write(v, off, len)); }

    @Override
    public void writeObject(Object v) throws JMSException {
        if (v == null) {
            throw new NullPointerException("writeObject(null)");
        }
        if (v instanceof Boolean b) writeBoolean(b);
        else if (v instanceof Byte b) writeByte(b);
        else if (v instanceof Short s) writeShort(s);
        else if (v instanceof Character c) writeChar(c);
        else if (v instanceof Integer i) writeInt(i);
        else if (v instanceof Long l) writeLong(l);
        else if (v instanceof Float f) writeFloat(f);
        else if (v instanceof Double d) writeDouble(d);
        else if (v instanceof String s) writeUTF(s);
        else if (v instanceof byte[] b) writeBytes(b);
        else throw new MessageFormatException("cannot write a " + v.getClass().getName() + " to a bytes message");
    }

    @Override
    public void reset() {
        if (!bodyReadOnly) {
            data = buffer.toByteArray();
        }
        bodyReadOnly = true;
        in = new DataInputStream(new ByteArrayInputStream(data));
    }

    @Override
    public void clearBody() throws JMSException {
        super.clearBody();
        buffer = new ByteArrayOutputStream();
        out = new DataOutputStream(buffer);
        data = null;
        in = null;
    }

    @Override
    protected byte[] encodeBody() {
        return bodyReadOnly ? data : buffer.toByteArray();
    }

    @Override
    protected void decodeBody(byte[] body) {
        data = body == null ? new byte[0] : body;
        in = new DataInputStream(new ByteArrayInputStream(data));
    }

    @Override
    protected Object bodyObject() {
        byte[] b = encodeBody();
        reset(); // getBody resets the message before and after use (Message javadoc)
        return b == null || b.length == 0 ? null : Arrays.copyOf(b, b.length);
    }
}
