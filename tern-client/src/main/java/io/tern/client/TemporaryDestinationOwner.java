package io.tern.client;

import jakarta.jms.JMSException;

/** The connection that created a temporary destination; it alone may delete it. */
public interface TemporaryDestinationOwner {
    void deleteTemporary(TernDestination destination) throws JMSException;
}
