package io.tern.client;

import io.tern.protocol.DestinationName;
import jakarta.jms.Destination;
import jakarta.jms.InvalidDestinationException;
import jakarta.jms.JMSException;
import jakarta.jms.Queue;
import jakarta.jms.Topic;

import java.io.Serializable;
import java.util.Objects;

/** A destination of this provider: a name and its kind. Serializable so it can be bound in JNDI. */
public abstract class TernDestination implements Destination, Serializable {
    private static final long serialVersionUID = 1L;
    private final String name;

    protected TernDestination(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("destination name must not be empty");
        }
        this.name = name;
    }

    public String name() {
        return name;
    }

    public abstract DestinationName.Kind kind();

    public DestinationName toName() {
        return new DestinationName(kind(), name);
    }

    public static DestinationName toName(Destination d) throws JMSException {
        return d == null ? null : from(d).toName();
    }

    /** Ours as is; another provider's queue or topic by its name. */
    public static TernDestination from(Destination d) throws JMSException {
        if (d instanceof TernDestination t) {
            return t;
        }
        if (d instanceof Queue q) {
            return new TernQueue(q.getQueueName());
        }
        if (d instanceof Topic t) {
            return new TernTopic(t.getTopicName());
        }
        throw new InvalidDestinationException("not a queue or topic: " + d);
    }

    public static TernDestination of(DestinationName n) {
        if (n == null) {
            return null;
        }
        return switch (n.kind()) {
            case QUEUE -> new TernQueue(n.name());
            case TOPIC -> new TernTopic(n.name());
            case TEMP_QUEUE -> new TernTemporaryQueue(n.name(), null);
            case TEMP_TOPIC -> new TernTemporaryTopic(n.name(), null);
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TernDestination d && d.kind() == kind() && d.name.equals(name);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind(), name);
    }

    @Override
    public String toString() {
        return toName().toString();
    }
}
