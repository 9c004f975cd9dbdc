package io.tern.client.impl;

import jakarta.jms.JMSException;

/**
 * The connection to the server broke (closed, reset, or silent past its heartbeats) without the
 * server saying why: a reason to fail over, unlike an error the server reported.
 */
final class LinkLostException extends JMSException {
    private static final long serialVersionUID = 1L;

    LinkLostException(String message, Throwable cause) {
        super(message);
        if (cause instanceof Exception e) {
            setLinkedException(e);
        }
        initCause(cause);
    }
}
