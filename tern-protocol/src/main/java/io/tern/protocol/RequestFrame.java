package io.tern.protocol;

import java.util.Objects;

/**
 * A client request. {@code topologyDigest} is the digest of the topology the client knows
 * (0 when it knows none); the server answers with the new topology only when it differs.
 * Correlation id {@link #ONE_WAY} asks for no answer unless the request fails: then an ERROR
 * frame with correlation 0 comes back. Clients use it for requests nobody waits for
 * (acknowledgements of automatic sessions, credit).
 */
public record RequestFrame(long correlationId, long topologyDigest, Request request) implements Frame {
    public static final long ONE_WAY = 0;

    public RequestFrame {
        Objects.requireNonNull(request, "request");
    }

    public boolean oneWay() {
        return correlationId == ONE_WAY;
    }
}
