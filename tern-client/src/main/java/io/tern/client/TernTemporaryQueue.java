package io.tern.client;

import io.tern.protocol.DestinationName;
import jakarta.jms.IllegalStateException;
import jakarta.jms.JMSException;
import jakarta.jms.TemporaryQueue;

/** A queue that lives as long as the connection that created it. */
public class TernTemporaryQueue extends TernQueue implements TemporaryQueue {
    private static final long serialVersionUID = 1L;
    private final transient TemporaryDestinationOwner owner;

    public TernTemporaryQueue(String name, TemporaryDestinationOwner owner) {
        super(name);
        this.owner = owner;
    }

    @Override
    public DestinationName.Kind kind() {
        return DestinationName.Kind.TEMP_QUEUE;
    }

    @Override
    public void delete() throws JMSException {
        if (owner == null) {
            throw new IllegalStateException("only the connection that created a temporary queue may delete it");
        }
        owner.deleteTemporary(this);
    }
}
