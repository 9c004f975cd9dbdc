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

    /**
     * The first request. {@code connectionKey} names the client connection for its whole life, across
     * failovers (null for clients that never recover); {@code fromNode} is the node id of the server
     * the connection failed over from (null on a first connect): a server that is not the current
     * owner of that node's messages answers {@link Response.Redirect}, and the owner holds the answer
     * until it has taken them over. {@code holdsNothing}: the connection only sends (no consumer) and
     * has no open transaction, so it has nothing to recover at the node it fails over from: that node's
     * failover node may serve it at once, even while the node is still in the view, and arbitrate the
     * sends it resends (sent last, as one byte; absent means false).
     */
    record Hello(String user, String password, String clientName, String connectionKey, String fromNode,
                 boolean holdsNothing) implements Request {
        /** The client name of an administration connection (tern drain): a drain does not move it away. */
        public static final String ADMIN_CLIENT = "tern-admin";

        public Hello(String user, String password, String clientName) {
            this(user, password, clientName, null, null, false);
        }
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

    /**
     * {@code prefetch}: how many deliveries the server may push before the client grants more;
     * {@code windowBytes}: how many bytes of bodies ({@link Deliver#creditBytes}) it may push, 0 for no
     * bound (sent last; absent means 0). The server stops at whichever runs out first.
     */
    record CreateConsumer(int sessionId, long consumerId, DestinationName destination, String selector,
                          boolean noLocal, String subscriptionName, byte subscriptionKind,
                          int prefetch, int windowBytes) implements Request {
        public CreateConsumer(int sessionId, long consumerId, DestinationName destination, String selector,
                              boolean noLocal, String subscriptionName, byte subscriptionKind, int prefetch) {
            this(sessionId, consumerId, destination, selector, noLocal, subscriptionName, subscriptionKind, prefetch, 0);
        }
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

    /**
     * Grants a consumer room for {@code messages} more deliveries and, if it has a byte window, for
     * {@code bytes} more bytes of bodies (sent last; absent means 0).
     */
    record Credit(long consumerId, int messages, int bytes) implements Request {
        public Credit(long consumerId, int messages) {
            this(consumerId, messages, 0);
        }
    }

    /**
     * A consumer gives back the deliveries it buffered and never showed the application (an idle
     * synchronous consumer must not hoard what others could take): they return to the queue, not
     * counted as delivered, and the consumer's credit drops to zero until it grants more.
     */
    record Release(long consumerId, long[] deliveryIds) implements Request {
    }

    /** Answered only after every message the consumer may take now has been pushed. */
    record Pull(long consumerId) implements Request {
    }

    record Ping() implements Request {
    }

    /**
     * Administration: drain the node named {@code nodeName} (the one this connection is on). It
     * accepts no new clients (they are redirected) and tells every other client to move away, as at
     * a graceful stop. Answered with {@link Response.Drained}; ask again to follow the progress.
     */
    record Drain(String nodeName) implements Request {
        public Drain {
            Objects.requireNonNull(nodeName, "nodeName");
        }
    }

    /** What a session held from the server it failed over from, as {@link RecoverSession} lists it. */
    enum Held {
        /** The application holds it unacknowledged (or in its open transaction): keep it for this session. */
        HELD,
        /** The session acknowledged it automatically; the acknowledgement may not have arrived. */
        ACKED,
        /** It was in the consumer's buffer; the application never saw it. */
        UNSEEN
    }

    /** One delivery a session had on the server it failed over from. */
    record HeldMessage(long consumerId, String messageId, Held state) {
        public HeldMessage {
            Objects.requireNonNull(messageId, "messageId");
            Objects.requireNonNull(state, "state");
        }
    }

    /**
     * After a failover, right after the session and its consumers were recreated: the deliveries the
     * session had on the old server. The server finds them among the messages it took over for this
     * session, keeps the {@code HELD} ones as deliveries of the session (the answer is
     * {@link Response.Recovered}), acknowledges the {@code ACKED} ones and gives every other one back
     * to its queue.
     */
    record RecoverSession(int sessionId, java.util.List<HeldMessage> messages) implements Request {
        public RecoverSession {
            messages = java.util.List.copyOf(messages);
        }
    }
}
