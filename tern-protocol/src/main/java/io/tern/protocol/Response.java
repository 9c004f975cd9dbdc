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

    Ok OK = new Ok();
}
