package io.tern.client;

import io.tern.protocol.DestinationName;
import jakarta.jms.IllegalStateException;
import jakarta.jms.JMSException;
import jakarta.jms.TemporaryTopic;

/** A topic that lives as long as the connection that created it. */
public class TernTemporaryTopic extends TernTopic implements TemporaryTopic {
    private static final long serialVersionUID = 1L;
    private final transient TemporaryDestinationOwner owner;

    public TernTemporaryTopic(String name, TemporaryDestinationOwner owner) {
        super(name);
        this.owner = owner;
    }

    @Override
    public DestinationName.Kind kind() {
        return DestinationName.Kind.TEMP_TOPIC;
    }

    @Override
    public void delete() throws JMSException {
        if (owner == null) {
            throw new IllegalStateException("only the connection that created a temporary topic may delete it");
        }
        owner.deleteTemporary(this);
    }
}
