package io.tern.protocol;

import java.util.Objects;

/**
 * The answer to the request with the same correlation id. {@code topology} is null when the
 * client's digest was current (one flag byte on the wire), else the server's topology.
 */
public record ResponseFrame(long correlationId, ClusterTopology topology, Response response) implements Frame {
    public ResponseFrame {
        Objects.requireNonNull(response, "response");
    }
}
