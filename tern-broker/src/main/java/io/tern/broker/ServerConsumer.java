package io.tern.broker;

/**
 * A consumer on one queue. {@code credit}, {@code stopped} and {@code closed} are touched only on the
 * queue's executor.
 */
final class ServerConsumer {
    final long id;
    final ServerSession session;
    final MessageQueue queue;
    final SelectorFilter filter;
    final boolean noLocal;
    final int prefetch;
    /** A consumer of a cluster link: what it takes moves to another node. */
    final boolean remote;
    int credit;
    boolean stopped;
    boolean closed;

    ServerConsumer(long id, ServerSession session, MessageQueue queue, SelectorFilter filter, boolean noLocal,
                   int prefetch) {
        this.id = id;
        this.session = session;
        this.queue = queue;
        this.filter = filter;
        this.noLocal = noLocal;
        this.prefetch = prefetch;
        this.credit = prefetch;
        this.remote = session.connection.isLink();
    }

    boolean accepts(QueueEntry entry) {
        if (noLocal && entry.origin == session.connection) {
            return false;
        }
        return filter == null || filter.matches(entry.message, entry.deliveryCount);
    }
}
