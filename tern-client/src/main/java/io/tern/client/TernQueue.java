package io.tern.client;

import io.tern.protocol.DestinationName;
import jakarta.jms.Queue;

/** A queue, by name. */
public class TernQueue extends TernDestination implements Queue {
    private static final long serialVersionUID = 1L;

    public TernQueue(String name) {
        super(name);
    }

    @Override
    public DestinationName.Kind kind() {
        return DestinationName.Kind.QUEUE;
    }

    @Override
    public String getQueueName() {
        return name();
    }
}
