package io.tern.protocol;

import java.util.Objects;

/**
 * A client request. {@code topologyDigest} is the digest of the topology the client knows
 * (0 when it knows none); the server answers with the new topology only when it differs.
 */
public record RequestFrame(long correlationId, long topologyDigest, Request request) implements Frame {
    public RequestFrame {
        Objects.requireNonNull(request, "request");
    }
}
