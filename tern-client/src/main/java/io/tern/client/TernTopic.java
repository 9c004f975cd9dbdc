package io.tern.client;

import io.tern.protocol.DestinationName;
import jakarta.jms.Topic;

/** A topic, by name. */
public class TernTopic extends TernDestination implements Topic {
    private static final long serialVersionUID = 1L;

    public TernTopic(String name) {
        super(name);
    }

    @Override
    public DestinationName.Kind kind() {
        return DestinationName.Kind.TOPIC;
    }

    @Override
    public String getTopicName() {
        return name();
    }
}
