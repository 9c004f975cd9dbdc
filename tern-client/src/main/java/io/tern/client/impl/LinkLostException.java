package io.tern.client.impl;

import jakarta.jms.JMSException;

/**
 * The connection to the server broke (closed, reset, or silent past its heartbeats) without the
 * server saying why: a reason to fail over, unlike an error the server reported.
 */
final class LinkLostException extends JMSException {
    private static final long serialVersionUID = 1L;

    /** True if the server went silent past its heartbeats (it may be paused), not closed or reset. */
    final boolean silence;

    LinkLostException(String message, Throwable cause) {
        this(message, cause, false);
    }

    LinkLostException(String message, Throwable cause, boolean silence) {
        super(message);
        this.silence = silence;
        if (cause instanceof Exception e) {
            setLinkedException(e);
        }
        initCause(cause);
    }
}
