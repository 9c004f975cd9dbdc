package io.tern.client;

import java.util.List;

/**
 * One step of a connection's move between servers.
 *
 * @param kind              what happened
 * @param from              the server left, as {@code host:port}
 * @param to                the server now used ({@link Kind#COMPLETED} only), else empty
 * @param reason            why the move started, or why it failed
 * @param planned           true when the server asked the client to move (a graceful shutdown)
 * @param inDoubtMessageIds persistent messages that were in flight when {@code from} failed and were
 *                          resent to {@code to}: if {@code from} stored one before it died and comes
 *                          back, that message exists twice. Empty after a planned move, or when the
 *                          client came back to the same server, whose duplicate detection drops the resend.
 */
public record FailoverEvent(Kind kind, String from, String to, String reason, boolean planned,
                            List<String> inDoubtMessageIds) {
    public enum Kind {
        /** The connection broke (or the server sent a lame-duck notice); requests wait. */
        STARTED,
        /** Sessions, consumers and temporary destinations are recreated on {@code to}; requests resume. */
        COMPLETED,
        /** No server could be reached; the connection is failed and the exception listener is told. */
        FAILED
    }

    public FailoverEvent {
        to = to == null ? "" : to;
        inDoubtMessageIds = List.copyOf(inDoubtMessageIds);
    }
}
