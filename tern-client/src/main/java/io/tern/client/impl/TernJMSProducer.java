package io.tern.client.impl;

import jakarta.jms.BytesMessage;
import jakarta.jms.CompletionListener;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Destination;
import jakarta.jms.JMSException;
import jakarta.jms.JMSProducer;
import jakarta.jms.MapMessage;
import jakarta.jms.Message;
import jakarta.jms.MessageFormatRuntimeException;
import jakarta.jms.ObjectMessage;
import jakarta.jms.TextMessage;

import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** {@link JMSProducer}: fluent settings and properties applied to each message it sends. */
final class TernJMSProducer implements JMSProducer {
    private final TernJMSContext context;
    private final TernMessageProducer producer;
    private final Map<String, Object> properties = new LinkedHashMap<>();
    private int deliveryMode = DeliveryMode.PERSISTENT;
    private int priority = Message.DEFAULT_PRIORITY;
    private long timeToLive;
    private long deliveryDelay;
    private boolean disableMessageId;
    private boolean disableTimestamp;
    private String correlationId;
    private byte[] correlationIdBytes;
    private String type;
    private Destination replyTo;
    private CompletionListener async;

    TernJMSProducer(TernJMSContext context, TernMessageProducer producer) {
        this.context = context;
        this.producer = producer;
    }

    @Override
    public JMSProducer send(Destination destination, Message message) {
        if (message == null) {
            throw new MessageFormatRuntimeException("message must not be null");
        }
        TernJMSContext.unchecked(() -> {
            for (Map.Entry<String, Object> e : properties.entrySet()) {
                message.setObjectProperty(e.getKey(), e.getValue());
            }
            if (correlationIdBytes != null) {
                message.setJMSCorrelationIDAsBytes(correlationIdBytes);
            } else if (correlationId != null) {
                message.setJMSCorrelationID(correlationId);
            }
            if (type != null) {
                message.setJMSType(type);
            }
            if (replyTo != null) {
                message.setJMSReplyTo(replyTo);
            }
            producer.setDisableMessageID(disableMessageId);
            producer.setDisableMessageTimestamp(disableTimestamp);
            producer.setDeliveryDelay(deliveryDelay);
            if (async != null) {
                producer.send(destination, message, deliveryMode, priority, timeToLive, async);
            } else {
                producer.send(destination, message, deliveryMode, priority, timeToLive);
            }
            return null;
        });
        return this;
    }

    @Override
    public JMSProducer send(Destination destination, String body) {
        TextMessage m = context.createTextMessage(body);
        return send(destination, m);
    }

    @Override
    public JMSProducer send(Destination destination, Map<String, Object> body) {
        MapMessage m = context.createMapMessage();
        if (body != null) {
            TernJMSContext.unchecked(() -> {
                for (Map.Entry<String, Object> e : body.entrySet()) {
                    m.setObject(e.getKey(), e.getValue());
                }
                return null;
            });
        }
        return send(destination, m);
    }

    @Override
    public JMSProducer send(Destination destination, byte[] body) {
        BytesMessage m = context.createBytesMessage();
        if (body != null) {
            TernJMSContext.unchecked(() -> {
                m.writeBytes(body);
                return null;
            });
        }
        return send(destination, m);
    }

    @Override
    public JMSProducer send(Destination destination, Serializable body) {
        ObjectMessage m = context.createObjectMessage(body);
        return send(destination, m);
    }

    @Override
    public JMSProducer setDisableMessageID(boolean value) {
        disableMessageId = value;
        return this;
    }

    @Override public boolean getDisableMessageID() { return disableMessageId; }

    @Override
    public JMSProducer setDisableMessageTimestamp(boolean value) {
        disableTimestamp = value;
        return this;
    }

    @Override public boolean getDisableMessageTimestamp() { return disableTimestamp; }

    @Override
    public JMSProducer setDeliveryMode(int mode) {
        if (mode != DeliveryMode.PERSISTENT && mode != DeliveryMode.NON_PERSISTENT) {
            throw new jakarta.jms.JMSRuntimeException("delivery mode must be PERSISTENT or NON_PERSISTENT: " + mode);
        }
        deliveryMode = mode;
        return this;
    }

    @Override public int getDeliveryMode() { return deliveryMode; }

    @Override
    public JMSProducer setPriority(int p) {
        if (p < 0 || p > 9) {
            throw new jakarta.jms.JMSRuntimeException("priority must be 0..9: " + p);
        }
        priority = p;
        return this;
    }

    @Override public int getPriority() { return priority; }

    @Override
    public JMSProducer setTimeToLive(long ttl) {
        timeToLive = ttl;
        return this;
    }

    @Override public long getTimeToLive() { return timeToLive; }

    @Override
    public JMSProducer setDeliveryDelay(long delay) {
        deliveryDelay = delay;
        return this;
    }

    @Override public long getDeliveryDelay() { return deliveryDelay; }

    @Override
    public JMSProducer setAsync(CompletionListener listener) {
        async = listener;
        return this;
    }

    @Override public CompletionListener getAsync() { return async; }

    private JMSProducer property(String name, Object value) {
        try {
            io.tern.client.message.TernMessage probe = new io.tern.client.message.TernMessage();
            probe.setObjectProperty(name, value);
        } catch (JMSException e) {
            throw new MessageFormatRuntimeException(e.getMessage());
        }
        properties.put(name, value);
        return this;
    }

    @Override public JMSProducer setProperty(String n, boolean v) { return property(n, v); }
    @Override public JMSProducer setProperty(String n, byte v) { return property(n, v); }
    @Override public JMSProducer setProperty(String n, short v) { return property(n, v); }
    @Override public JMSProducer setProperty(String n, int v) { return property(n, v); }
    @Override public JMSProducer setProperty(String n, long v) { return property(n, v); }
    @Override public JMSProducer setProperty(String n, float v) { return property(n, v); }
    @Override public JMSProducer setProperty(String n, double v) { return property(n, v); }
    @Override public JMSProducer setProperty(String n, String v) { return property(n, v); }
    @Override public JMSProducer setProperty(String n, Object v) { return property(n, v); }

    @Override
    public JMSProducer clearProperties() {
        properties.clear();
        return this;
    }

    @Override public boolean propertyExists(String name) { return properties.containsKey(name); }

    private <T> T read(Conv<T> c, String name) {
        try {
            return c.apply(properties.get(name));
        } catch (JMSException e) {
            throw new MessageFormatRuntimeException(e.getMessage());
        }
    }

    private interface Conv<T> {
        T apply(Object v) throws JMSException;
    }

    @Override public boolean getBooleanProperty(String n) { return read(io.tern.client.message.Conversions::toBoolean, n); }
    @Override public byte getByteProperty(String n) { return read(io.tern.client.message.Conversions::toByte, n); }
    @Override public short getShortProperty(String n) { return read(io.tern.client.message.Conversions::toShort, n); }
    @Override public int getIntProperty(String n) { return read(io.tern.client.message.Conversions::toInt, n); }
    @Override public long getLongProperty(String n) { return read(io.tern.client.message.Conversions::toLong, n); }
    @Override public float getFloatProperty(String n) { return read(io.tern.client.message.Conversions::toFloat, n); }
    @Override public double getDoubleProperty(String n) { return read(io.tern.client.message.Conversions::toDouble, n); }
    @Override public String getStringProperty(String n) { return read(io.tern.client.message.Conversions::toStringValue, n); }
    @Override public Object getObjectProperty(String n) { return properties.get(n); }
    @Override public Set<String> getPropertyNames() { return Collections.unmodifiableSet(new java.util.LinkedHashSet<>(properties.keySet())); }

    @Override
    public JMSProducer setJMSCorrelationIDAsBytes(byte[] id) {
        correlationIdBytes = id;
        correlationId = null;
        return this;
    }

    @Override public byte[] getJMSCorrelationIDAsBytes() { return correlationIdBytes; }

    @Override
    public JMSProducer setJMSCorrelationID(String id) {
        correlationId = id;
        correlationIdBytes = null;
        return this;
    }

    @Override public String getJMSCorrelationID() { return correlationId; }

    @Override
    public JMSProducer setJMSType(String t) {
        type = t;
        return this;
    }

    @Override public String getJMSType() { return type; }

    @Override
    public JMSProducer setJMSReplyTo(Destination d) {
        replyTo = d;
        return this;
    }

    @Override public Destination getJMSReplyTo() { return replyTo; }
}
