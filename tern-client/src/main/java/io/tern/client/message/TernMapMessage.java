package io.tern.client.message;

import io.tern.protocol.WireMessage;
import jakarta.jms.JMSException;
import jakarta.jms.MapMessage;
import jakarta.jms.MessageFormatException;

import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;

/** A message whose body is a map of names to typed values. */
public class TernMapMessage extends TernMessage implements MapMessage {
    private Map<String, Object> map = new LinkedHashMap<>();

    @Override
    protected byte bodyType() {
        return WireMessage.BODY_MAP;
    }

    private void set(String name, Object v) throws JMSException {
        checkWritable();
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("map entry name must not be null or empty");
        }
        map.put(name, v instanceof byte[] b ? b.clone() : v);
    }

    @Override public boolean getBoolean(String n) throws JMSException { return Conversions.toBoolean(map.get(n)); }
    @Override public byte getByte(String n) throws JMSException { return Conversions.toByte(map.get(n)); }
    @Override public short getShort(String n) throws JMSException { return Conversions.toShort(map.get(n)); }
    @Override public char getChar(String n) throws JMSException { return Conversions.toChar(map.get(n)); }
    @Override public int getInt(String n) throws JMSException { return Conversions.toInt(map.get(n)); }
    @Override public long getLong(String n) throws JMSException { return Conversions.toLong(map.get(n)); }
    @Override public float getFloat(String n) throws JMSException { return Conversions.toFloat(map.get(n)); }
    @Override public double getDouble(String n) throws JMSException { return Conversions.toDouble(map.get(n)); }
    @Override public String getString(String n) throws JMSException { return Conversions.toStringValue(map.get(n)); }

    @Override
    public byte[] getBytes(String n) throws JMSException {
        byte[] b = Conversions.toBytes(map.get(n));
        return b == null ? null : b.clone();
    }

    @Override
    public Object getObject(String n) {
        Object v = map.get(n);
        return v instanceof byte[] b ? b.clone() : v;
    }

    @Override
    public Enumeration<String> getMapNames() {
        return Collections.enumeration(map.keySet().stream().toList());
    }

    @Override public void setBoolean(String n, boolean v) throws JMSException { set(n, v); }
    @Override public void setByte(String n, byte v) throws JMSException { set(n, v); }
    @Override public void setShort(String n, short v) throws JMSException { set(n, v); }
    @Override public void setChar(String n, char v) throws JMSException { set(n, v); }
    @Override public void setInt(String n, int v) throws JMSException { set(n, v); }
    @Override public void setLong(String n, long v) throws JMSException { set(n, v); }
    @Override public void setFloat(String n, float v) throws JMSException { set(n, v); }
    @Override public void setDouble(String n, double v) throws JMSException { set(n, v); }
    @Override public void setString(String n, String v) throws JMSException { set(n, v); }
    @Override public void setBytes(String n, byte[] v) throws JMSException { set(n, v); }

    @Override
    public void setBytes(String n, byte[] v, int offset, int length) throws JMSException {
        byte[] part = new byte[length];
        System.arraycopy(v, offset, part, 0, length);
        set(n, part);
    }

    @Override
    public void setObject(String n, Object v) throws JMSException {
        if (!Conversions.isBodyValueType(v)) {
            throw new MessageFormatException("a map message may not hold a " + v.getClass().getName());
        }
        set(n, v);
    }

    @Override
    public boolean itemExists(String n) {
        return map.containsKey(n);
    }

    @Override
    public void clearBody() throws JMSException {
        super.clearBody();
        map = new LinkedHashMap<>();
    }

    @Override
    protected byte[] encodeBody() {
        return BodyValues.encodeMap(map);
    }

    @Override
    protected void decodeBody(byte[] body) throws JMSException {
        map = BodyValues.decodeMap(body);
    }

    @Override
    protected Object bodyObject() {
        return map.isEmpty() ? null : Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }
}
