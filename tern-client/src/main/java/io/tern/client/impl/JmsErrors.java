package io.tern.client.impl;

import io.tern.protocol.Response;
import jakarta.jms.IllegalStateException;
import jakarta.jms.IllegalStateRuntimeException;
import jakarta.jms.InvalidClientIDException;
import jakarta.jms.InvalidClientIDRuntimeException;
import jakarta.jms.InvalidDestinationException;
import jakarta.jms.InvalidDestinationRuntimeException;
import jakarta.jms.InvalidSelectorException;
import jakarta.jms.InvalidSelectorRuntimeException;
import jakarta.jms.JMSException;
import jakarta.jms.JMSRuntimeException;
import jakarta.jms.JMSSecurityException;
import jakarta.jms.JMSSecurityRuntimeException;
import jakarta.jms.MessageFormatException;
import jakarta.jms.MessageFormatRuntimeException;
import jakarta.jms.MessageNotWriteableException;
import jakarta.jms.MessageNotWriteableRuntimeException;
import jakarta.jms.ResourceAllocationException;
import jakarta.jms.ResourceAllocationRuntimeException;
import jakarta.jms.TransactionInProgressException;
import jakarta.jms.TransactionInProgressRuntimeException;
import jakarta.jms.TransactionRolledBackException;
import jakarta.jms.TransactionRolledBackRuntimeException;

/** Maps server error codes to the JMS exceptions the specification names, and checked to unchecked. */
public final class JmsErrors {
    private JmsErrors() {
    }

    public static JMSException toJms(Response.Error error) {
        String code = error.code().name();
        String m = error.message();
        JMSException e = switch (error.code()) {
            case INVALID_DESTINATION -> new InvalidDestinationException(m, code);
            case INVALID_SELECTOR -> new InvalidSelectorException(m, code);
            case INVALID_CLIENT_ID -> new InvalidClientIDException(m, code);
            case NOT_AUTHORIZED -> new JMSSecurityException(m, code);
            case ILLEGAL_STATE, SUBSCRIPTION_IN_USE -> new IllegalStateException(m, code);
            case RESOURCE_EXHAUSTED -> new ResourceAllocationException(m, code);
            case TRANSACTION_ROLLED_BACK -> new TransactionRolledBackException(m, code);
            default -> new JMSException(m, code);
        };
        return e;
    }

    /**
     * A checked JMS exception for {@code cause}, with {@code message} first and the cause's own
     * message after it when it has one (a timeout has none: the message already says so).
     */
    public static JMSException wrap(String message, Throwable cause) {
        if (cause instanceof JMSException j) {
            return j;
        }
        String why = cause.getMessage();
        boolean says = why != null && !why.isBlank() && !(cause instanceof java.util.concurrent.TimeoutException);
        JMSException e = new JMSException(says ? message + ": " + why : message);
        e.setLinkedException(cause instanceof Exception ex ? ex : new RuntimeException(cause));
        e.initCause(cause);
        return e;
    }

    /** What to say when {@code request} to {@code server} got no answer in {@code timeoutMs}. */
    static String noAnswer(io.tern.protocol.Request request, String server, long timeoutMs) {
        String what = request.getClass().getSimpleName() + " to " + server + " got no answer in " + timeoutMs + " ms";
        return request instanceof io.tern.protocol.Request.Send
                ? what + ": the server holds a producer's sends while its queued messages exceed its memory limit "
                        + "(flow control, the server's --memory-limit), or it is stalled"
                : what + ": the server is stalled or overloaded";
    }

    /** The unchecked twin of a checked JMS exception, for the simplified API. */
    public static JMSRuntimeException unchecked(JMSException e) {
        String m = e.getMessage();
        String c = e.getErrorCode();
        JMSRuntimeException r;
        if (e instanceof IllegalStateException) {
            r = new IllegalStateRuntimeException(m, c, e);
        } else if (e instanceof InvalidDestinationException) {
            r = new InvalidDestinationRuntimeException(m, c, e);
        } else if (e instanceof InvalidSelectorException) {
            r = new InvalidSelectorRuntimeException(m, c, e);
        } else if (e instanceof InvalidClientIDException) {
            r = new InvalidClientIDRuntimeException(m, c, e);
        } else if (e instanceof JMSSecurityException) {
            r = new JMSSecurityRuntimeException(m, c, e);
        } else if (e instanceof MessageFormatException) {
            r = new MessageFormatRuntimeException(m, c, e);
        } else if (e instanceof MessageNotWriteableException) {
            r = new MessageNotWriteableRuntimeException(m, c, e);
        } else if (e instanceof ResourceAllocationException) {
            r = new ResourceAllocationRuntimeException(m, c, e);
        } else if (e instanceof TransactionInProgressException) {
            r = new TransactionInProgressRuntimeException(m, c, e);
        } else if (e instanceof TransactionRolledBackException) {
            r = new TransactionRolledBackRuntimeException(m, c, e);
        } else {
            r = new JMSRuntimeException(m, c, e);
        }
        return r;
    }

}
