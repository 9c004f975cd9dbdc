package io.tern.protocol;

/** Thrown by codecs when bytes on the wire break the grammar; carries the code to send back. */
public class ProtocolException extends RuntimeException {
    private final ErrorCode code;

    public ProtocolException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }
}
