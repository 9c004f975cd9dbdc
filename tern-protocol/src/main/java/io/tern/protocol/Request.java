package io.tern.protocol;

import java.util.Objects;

/** Client-to-server requests. Each is answered by exactly one {@link ResponseFrame}. */
public sealed interface Request {

    /** Session acknowledge modes as the wire carries them. */
    int TRANSACTED = 0;
    int AUTO_ACKNOWLEDGE = 1;
    int CLIENT_ACKNOWLEDGE = 2;
    int DUPS_OK_ACKNOWLEDGE = 3;

    /** Subscription kinds of {@link CreateConsumer}. */
    byte SUB_NONE = 0;
    byte SUB_DURABLE = 1;
    byte SUB_SHARED = 2;
    byte SUB_SHARED_DURABLE = 3;

    record Hello(String user, String password, String clientName) implements Request {
    }

    record SetClientId(String clientId) implements Request {
        public SetClientId {
            Objects.requireNonNull(clientId, "clientId");
        }
    }

    record CreateSession(int sessionId, int ackMode) implements Request {
    }

    /**
     * {@code seen} lists the unacknowledged deliveries the application was given; the server returns
     * every other unacknowledged delivery without counting it as a redelivery.
     */
    record CloseSession(int sessionId, long[] seen) implements Request {
    }

    record CreateConsumer(int sessionId, long consumerId, DestinationName destination, String selector,
                          boolean noLocal, String subscriptionName, byte subscriptionKind,
                          int prefetch) implements Request {
    }

    record CloseConsumer(long consumerId, long[] seen) implements Request {
    }

    record Unsubscribe(String subscriptionName) implements Request {
    }

    record Send(int sessionId, WireMessage message) implements Request {
    }

    record Ack(int sessionId, long[] deliveryIds) implements Request {
    }

    record Recover(int sessionId, long[] seen) implements Request {
    }

    record Commit(int sessionId) implements Request {
    }

    record Rollback(int sessionId, long[] seen) implements Request {
    }

    record Browse(DestinationName queue, String selector, long afterSequence, int max) implements Request {
    }

    /**
     * Creates a temporary destination; {@code name} is null for a new one, or the name this
     * connection had on the server it failed over from, so that the destination keeps its name.
     */
    record CreateTemp(DestinationName.Kind kind, String name) implements Request {
        public CreateTemp(DestinationName.Kind kind) {
            this(kind, null);
        }
    }

    record DeleteTemp(DestinationName destination) implements Request {
    }

    /** Grants a consumer room for {@code messages} more deliveries. */
    record Credit(long consumerId, int messages) implements Request {
    }

    /** Answered only after every message the consumer may take now has been pushed. */
    record Pull(long consumerId) implements Request {
    }

    record Ping() implements Request {
    }
}
