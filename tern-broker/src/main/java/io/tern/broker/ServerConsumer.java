package io.tern.broker;

/**
 * A consumer on one queue. {@code credit}, {@code byteCredit}, {@code stopped} and {@code closed} are
 * touched only on the queue's executor.
 */
final class ServerConsumer {
    final long id;
    final ServerSession session;
    final MessageQueue queue;
    final SelectorFilter filter;
    final boolean noLocal;
    final int prefetch;
    /** The bytes of bodies the client buffers at most ({@link io.tern.protocol.Deliver#creditBytes}); 0: no bound. */
    final int windowBytes;
    /** A consumer of a cluster link: what it takes moves to another node. */
    final boolean remote;
    int credit;
    /** Bytes of bodies it may be given before the client grants more (unbounded without a window). */
    long byteCredit;
    boolean stopped;
    boolean closed;

    ServerConsumer(long id, ServerSession session, MessageQueue queue, SelectorFilter filter, boolean noLocal,
                   int prefetch, int windowBytes) {
        this.id = id;
        this.session = session;
        this.queue = queue;
        this.filter = filter;
        this.noLocal = noLocal;
        this.prefetch = prefetch;
        this.windowBytes = windowBytes;
        this.remote = session.connection.isLink();
        refill();
    }

    /** Credit as at its start: the prefetch, and the whole byte window. */
    void refill() {
        credit = prefetch;
        byteCredit = windowBytes > 0 ? windowBytes : Long.MAX_VALUE;
    }

    /** The client consumed what it was given: room for {@code messages} more deliveries and {@code bytes} more bytes. */
    void grant(int messages, int bytes) {
        credit += messages;
        if (windowBytes > 0) {
            byteCredit += bytes;
        }
    }

    /** The client gave back what it buffered: nothing more until it grants again. */
    void withdraw() {
        credit = 0;
        if (windowBytes > 0) {
            byteCredit = 0;
        }
    }

    /**
     * True if it may take a delivery now: it has credit (of messages and bytes), is not stopped, and
     * its connection has room for more unwritten bytes (if not, the queue is woken when it has).
     */
    boolean canTake() {
        return credit > 0 && byteCredit > 0 && !stopped && session.connection.window.roomOrWake();
    }

    /** It was given {@code entry}: counted against its credit and its connection's window. */
    void took(QueueEntry entry) {
        credit--;
        if (windowBytes > 0) {
            byteCredit -= io.tern.protocol.Deliver.creditBytes(entry.message);
        }
        session.connection.window.taken(entry.size);
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
