package io.tern.protocol;

import java.util.List;
import java.util.Objects;

/** Server answers to {@link Request}s. */
public sealed interface Response {

    record Ok() implements Response {
    }

    record Error(ErrorCode code, String message) implements Response {
        public Error {
            Objects.requireNonNull(code, "code");
            message = message == null ? code.name() : message;
        }
    }

    record Welcome(String serverName, String nodeId, int maxFrameSize) implements Response {
    }

    record Browsed(long sequence, WireMessage message) {
    }

    record BrowseBatch(List<Browsed> messages, boolean more) implements Response {
    }

    record TempCreated(DestinationName destination) implements Response {
    }

    /** Answer to a Hello: this server is not the right one; the client goes to {@code uri} instead. */
    record Redirect(String uri, String reason) implements Response {
        public Redirect {
            Objects.requireNonNull(uri, "uri");
        }
    }

    /**
     * Answer to {@link Request.RecoverSession}, in the request's order: for a message listed as held,
     * its new delivery id; for one listed as acknowledged, 1 once this node has stored that
     * acknowledgement; 0 where this node kept no such message for the session (and for one listed as
     * unseen).
     */
    record Recovered(long[] deliveryIds) implements Response {
    }

    /** Answer to {@link Request.Drain}: client connections still on the node, besides the asking one. */
    record Drained(int remaining) implements Response {
    }

    Ok OK = new Ok();
}
