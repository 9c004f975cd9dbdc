package io.tern.protocol;

import java.util.Objects;

/**
 * A frame the server pushes without being asked. {@link Kind#LAME_DUCK}: this server is shutting
 * down gracefully; move to {@code target} (a client URI such as {@code tern://127.0.0.1:5446}, or
 * empty when the server knows no other) and leave this connection once nothing is left on it.
 * {@link Kind#FAILBACK}: the node this connection failed over from is back at {@code target}; move
 * there when the connection holds no unacknowledged message.
 */
public record Notice(Kind kind, String target) implements Frame {
    public enum Kind {
        LAME_DUCK,
        FAILBACK
    }

    public Notice {
        Objects.requireNonNull(kind, "kind");
        target = target == null ? "" : target;
    }
}
