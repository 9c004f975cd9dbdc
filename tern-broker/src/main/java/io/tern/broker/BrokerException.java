package io.tern.broker;

import io.tern.protocol.ErrorCode;

/** A request the broker refuses; the code and message go back to the client as an ERROR. */
public class BrokerException extends RuntimeException {
    private final ErrorCode code;

    public BrokerException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }
}
