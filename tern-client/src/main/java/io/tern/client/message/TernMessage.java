package io.tern.client.message;

import io.tern.client.TernDestination;
import io.tern.protocol.WireMessage;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Destination;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageFormatException;
import jakarta.jms.MessageNotWriteableException;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;

/** A message without a body, and the headers and properties every message has. */
public class TernMessage implements Message {
    /** Acknowledges on behalf of a received message (CLIENT_ACKNOWLEDGE sessions). */
    public interface Acknowledger {
        void acknowledge() throws JMSException;
    }

    /** Which link delivered it (server, link generation, delivery id): for diagnostics; null if sent here. */
    private volatile String deliveredVia;

    private String messageId;
    private long timestamp;
    private String correlationId;
    private Destination replyTo;
    private Destination destination;
    private int deliveryMode = DeliveryMode.PERSISTENT;
    private boolean redelivered;
    private String type;
    private long expiration;
    private long deliveryTime;
    private int priority = Message.DEFAULT_PRIORITY;
    private Map<String, Object> properties = new LinkedHashMap<>();
    private boolean propertiesReadOnly;
    protected boolean bodyReadOnly;
    private Acknowledger acknowledger;

    public TernMessage() {
    }

    protected byte bodyType() {
        return WireMessage.BODY_NONE;
    }

    /** The body as it goes on the wire. */
    protected byte[] encodeBody() throws JMSException {
        return null;
    }

    /** Fills the body from the wire; the message is then read-only. */
    protected void decodeBody(byte[] body) throws JMSException {
    }

    // ---- wire conversion ----------------------------------------------------------------------

    /** The message as it goes on the wire: a copy, so that changes made after the send do not reach it. */
    public WireMessage toWire() throws JMSException {
        return toWire(null);
    }

    /**
     * The message as it goes on the wire, with {@code duplicateId} as its duplicate-detection id when it
     * is persistent and has none of its own. The properties are copied (JMS 3.0 §4.6: the application
     * may change and resend the message as soon as the send returns, while the copy is still queued
     * for the connection's I/O thread or held for a resend after failover).
     */
    public WireMessage toWire(String duplicateId) throws JMSException {
        boolean persistent = deliveryMode == DeliveryMode.PERSISTENT;
        boolean addId = persistent && duplicateId != null && !properties.containsKey(WireMessage.DUPLICATE_ID);
        Map<String, Object> sent;
        if (properties.isEmpty() && !addId) {
            sent = Map.of();
        } else {
            sent = new LinkedHashMap<>(properties);
            if (addId) {
                sent.put(WireMessage.DUPLICATE_ID, duplicateId);
            }
        }
        return new WireMessage(messageId, bodyType(), TernDestination.toName(destination), TernDestination.toName(replyTo),
                correlationId, type, persistent, priority, timestamp, expiration, deliveryTime, sent, encodeBody());
    }

    /** A received message, read-only, with JMSXDeliveryCount and JMSRedelivered from the delivery. */
    public static TernMessage fromWire(WireMessage w, int deliveryCount, Acknowledger acknowledger) throws JMSException {
        TernMessage m = switch (w.bodyType()) {
            case WireMessage.BODY_TEXT -> new TernTextMessage();
            case WireMessage.BODY_BYTES -> new TernBytesMessage();
            case WireMessage.BODY_MAP -> new TernMapMessage();
            case WireMessage.BODY_OBJECT -> new TernObjectMessage();
            case WireMessage.BODY_STREAM -> new TernStreamMessage();
            default -> new TernMessage();
        };
        m.messageId = w.messageId();
        m.timestamp = w.timestamp();
        m.correlationId = w.correlationId();
        m.replyTo = TernDestination.of(w.replyTo());
        m.destination = TernDestination.of(w.destination());
        m.deliveryMode = w.persistent() ? DeliveryMode.PERSISTENT : DeliveryMode.NON_PERSISTENT;
        m.type = w.type();
        m.expiration = w.expiration();
        m.deliveryTime = w.deliveryTime();
        m.priority = w.priority();
        m.properties = new LinkedHashMap<>(w.properties());
        m.properties.put("JMSXDeliveryCount", deliveryCount);
        m.redelivered = deliveryCount > 1;
        m.decodeBody(w.body());
        m.propertiesReadOnly = true;
        m.bodyReadOnly = true;
        m.acknowledger = acknowledger;
        return m;
    }

    // ---- headers ------------------------------------------------------------------------------

    @Override public String getJMSMessageID() { return messageId; }
    @Override public void setJMSMessageID(String id) { messageId = id; }
    @Override public long getJMSTimestamp() { return timestamp; }
    @Override public void setJMSTimestamp(long t) { timestamp = t; }

    @Override
    public byte[] getJMSCorrelationIDAsBytes() {
        return correlationId == null ? null : correlationId.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void setJMSCorrelationIDAsBytes(byte[] id) {
        correlationId = id == null ? null : new String(id, StandardCharsets.ISO_8859_1);
    }

    @Override public void setJMSCorrelationID(String id) { correlationId = id; }
    @Override public String getJMSCorrelationID() { return correlationId; }
    @Override public Destination getJMSReplyTo() { return replyTo; }
    @Override public void setJMSReplyTo(Destination d) { replyTo = d; }
    @Override public Destination getJMSDestination() { return destination; }
    @Override public void setJMSDestination(Destination d) { destination = d; }
    @Override public int getJMSDeliveryMode() { return deliveryMode; }

    @Override
    public void setJMSDeliveryMode(int mode) throws JMSException {
        if (mode != DeliveryMode.PERSISTENT && mode != DeliveryMode.NON_PERSISTENT) {
            throw new JMSException("delivery mode must be PERSISTENT or NON_PERSISTENT: " + mode);
        }
        deliveryMode = mode;
    }

    @Override public boolean getJMSRedelivered() { return redelivered; }
    @Override public void setJMSRedelivered(boolean r) { redelivered = r; }
    @Override public String getJMSType() { return type; }
    @Override public void setJMSType(String t) { type = t; }
    @Override public long getJMSExpiration() { return expiration; }
    @Override public void setJMSExpiration(long e) { expiration = e; }
    @Override public long getJMSDeliveryTime() { return deliveryTime; }
    @Override public void setJMSDeliveryTime(long t) { deliveryTime = t; }
    @Override public int getJMSPriority() { return priority; }

    @Override
    public void setJMSPriority(int p) throws JMSException {
        if (p < 0 || p > 9) {
            throw new JMSException("priority must be 0..9: " + p);
        }
        priority = p;
    }

    // ---- properties ---------------------------------------------------------------------------

    @Override
    public void clearProperties() {
        properties.clear();
        propertiesReadOnly = false;
    }

    @Override public boolean propertyExists(String name) { return properties.containsKey(name); }
    @Override public boolean getBooleanProperty(String name) throws JMSException { return Conversions.toBoolean(properties.get(name)); }
    @Override public byte getByteProperty(String name) throws JMSException { return Conversions.toByte(properties.get(name)); }
    @Override public short getShortProperty(String name) throws JMSException { return Conversions.toShort(properties.get(name)); }
    @Override public int getIntProperty(String name) throws JMSException { return Conversions.toInt(properties.get(name)); }
    @Override public long getLongProperty(String name) throws JMSException { return Conversions.toLong(properties.get(name)); }
    @Override public float getFloatProperty(String name) throws JMSException { return Conversions.toFloat(properties.get(name)); }
    @Override public double getDoubleProperty(String name) throws JMSException { return Conversions.toDouble(properties.get(name)); }
    @Override public String getStringProperty(String name) throws JMSException { return Conversions.toStringValue(properties.get(name)); }
    @Override public Object getObjectProperty(String name) { return properties.get(name); }

    @Override
    public Enumeration<String> getPropertyNames() {
        return Collections.enumeration(properties.keySet().stream().toList());
    }

    @Override public void setBooleanProperty(String name, boolean v) throws JMSException { put(name, v); }
    @Override public void setByteProperty(String name, byte v) throws JMSException { put(name, v); }
    @Override public void setShortProperty(String name, short v) throws JMSException { put(name, v); }
    @Override public void setIntProperty(String name, int v) throws JMSException { put(name, v); }
    @Override public void setLongProperty(String name, long v) throws JMSException { put(name, v); }
    @Override public void setFloatProperty(String name, float v) throws JMSException { put(name, v); }
    @Override public void setDoubleProperty(String name, double v) throws JMSException { put(name, v); }
    @Override public void setStringProperty(String name, String v) throws JMSException { put(name, v); }

    @Override
    public void setObjectProperty(String name, Object v) throws JMSException {
        if (v != null && !Conversions.isPropertyType(v)) {
            throw new MessageFormatException("a property may not hold a " + v.getClass().getName());
        }
        put(name, v);
    }

    private void put(String name, Object v) throws JMSException {
        checkPropertyName(name);
        if (propertiesReadOnly) {
            throw new MessageNotWriteableException("properties of a received message are read-only until clearProperties()");
        }
        properties.put(name, v);
    }

    /**
     * Any name but null and empty, as the setters' javadoc says and other brokers accept: code that
     * runs against them runs here. A name that is not a selector identifier ({@code true},
     * {@code a-b}) is kept and delivered, and a selector cannot refer to it.
     */
    static void checkPropertyName(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("property name must not be null or empty");
        }
    }

    /** Which link delivered this message (server#generation and delivery id); null for a message not received. */
    public String deliveredVia() {
        return deliveredVia;
    }

    public void deliveredVia(String via) {
        this.deliveredVia = via;
    }

    // ---- acknowledgement and body --------------------------------------------------------------

    @Override
    public void acknowledge() throws JMSException {
        if (acknowledger != null) {
            acknowledger.acknowledge();
        }
    }

    @Override
    public void clearBody() throws JMSException {
        bodyReadOnly = false;
    }

    protected void checkWritable() throws MessageNotWriteableException {
        if (bodyReadOnly) {
            throw new MessageNotWriteableException("the body of a received message is read-only until clearBody()");
        }
    }

    @Override
    public <T> T getBody(Class<T> c) throws JMSException {
        if (!isBodyAssignableTo(c)) {
            throw new MessageFormatException("body cannot be read as " + c.getName());
        }
        return c.cast(bodyObject());
    }

    /** The body as {@link #getBody} returns it; null for no body. */
    protected Object bodyObject() throws JMSException {
        return null;
    }

    @Override
    @SuppressWarnings("rawtypes")
    public boolean isBodyAssignableTo(Class c) throws JMSException {
        Object body = bodyObject();
        return body == null || c.isInstance(body);
    }

    /** Copies the headers and properties of any provider's message into this one. */
    protected void copyHeaders(Message from) throws JMSException {
        setJMSMessageID(from.getJMSMessageID());
        setJMSTimestamp(from.getJMSTimestamp());
        setJMSCorrelationID(from.getJMSCorrelationID());
        setJMSReplyTo(from.getJMSReplyTo() == null ? null : TernDestination.from(from.getJMSReplyTo()));
        setJMSDeliveryMode(from.getJMSDeliveryMode());
        setJMSType(from.getJMSType());
        setJMSExpiration(from.getJMSExpiration());
        setJMSPriority(from.getJMSPriority());
        for (Enumeration<?> e = from.getPropertyNames(); e.hasMoreElements(); ) {
            String name = (String) e.nextElement();
            if (!name.startsWith("JMSX") || name.equals("JMSXGroupID") || name.equals("JMSXGroupSeq")) {
                setObjectProperty(name, from.getObjectProperty(name)); // of the JMSX ones, a sender sets only these
            }
        }
    }

}
