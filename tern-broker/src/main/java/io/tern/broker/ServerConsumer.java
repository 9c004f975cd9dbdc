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

    /**
     * Stops this consumer on its queue (or removes it, {@code remove}); completes when no more deliveries
     * can be written for it: none is dispatched any more, and every one dispatched before is written
     * (see {@link MessageQueue#writesSoFar}). Whoever then gives its deliveries back to the queue knows
     * the client has every frame of them before the answer that makes it drop what it buffered.
     */
    java.util.concurrent.CompletableFuture<Void> stop(boolean remove) {
        return queue.executor().call(() -> {
            stopped = true;
            if (remove) {
                queue.removeConsumer(this);
            }
            return queue.writesSoFar();
        }).thenCompose(written -> written);
    }
}
