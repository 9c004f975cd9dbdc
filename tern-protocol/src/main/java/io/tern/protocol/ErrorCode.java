package io.tern.protocol;

/** Error codes carried by {@link Response.Error}; the numbers are part of the wire format. */
public enum ErrorCode {
    INTERNAL(1),
    MALFORMED_FRAME(2),
    FRAME_TOO_LONG(3),
    UNSUPPORTED_VERSION(4),
    BAD_MAGIC(5),
    NOT_AUTHORIZED(6),
    INVALID_CLIENT_ID(7),
    INVALID_DESTINATION(8),
    INVALID_SELECTOR(9),
    ILLEGAL_STATE(10),
    RESOURCE_EXHAUSTED(11),
    TRANSACTION_ROLLED_BACK(12),
    UNKNOWN_SESSION(13),
    UNKNOWN_CONSUMER(14),
    SUBSCRIPTION_IN_USE(15),
    INVALID_SUBSCRIPTION(16),
    SHUTTING_DOWN(17),
    STORE_FAILURE(18),
    /** The node is in a partition without the quorum and accepts no sends; another node will. */
    NOT_IN_QUORUM(19),
    /** The node does not serve clients yet (it checks whether another node took it over); try another. */
    NOT_READY(20);

    private final int code;

    ErrorCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static ErrorCode of(int code) {
        for (ErrorCode c : values()) {
            if (c.code == code) {
                return c;
            }
        }
        return INTERNAL;
    }
}
