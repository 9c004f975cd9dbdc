package io.tern.cluster;

import io.tern.broker.store.StoreBatch;

import java.util.concurrent.CompletableFuture;

/**
 * Lazily committed batches (the acknowledgements of AUTO_ACKNOWLEDGE and DUPS_OK sessions, messages
 * coming back to their queue, client connections coming and going: what no client waits for) go to the backups one at a time: while one is on
 * its way, those that come meanwhile wait and go together with the next, which leaves when the one on
 * its way has landed, or sooner, as a batch of its own just ahead of the next synced commit. Eight consumers each
 * acknowledging every message made one replication message (and one answer) per message; now it is
 * one per round trip to the backups, the way the store's writer groups its syncs.
 *
 * <p>Nothing is reordered: a waiting op always leaves ahead of every op committed after it, and nobody
 * waits for these batches. What a lazy batch risks by waiting, a node dying before its backups have
 * it, it risked before while its message was on the wire: a client that failed over says what it
 * acknowledged ({@code RecoverSession}), and the taker removes it.
 *
 * <p>Thread-safe; {@link ReplicatingStore} calls {@link #take} and {@link #takeOrIdle} under its order lock.
 */
final class LazyBatches {
    /** Lazy batches that came while one was on its way, and what completes when they are written. */
    record Waiting(StoreBatch batch, CompletableFuture<Void> done) {
    }

    private StoreBatch waiting = new StoreBatch();                              // guarded by this
    private CompletableFuture<Void> waitingDone = new CompletableFuture<>();   // guarded by this
    /** A lazy batch is on its way to the backups (or a lazy commit is about to send one). */
    private boolean inFlight;                                                    // guarded by this
    private boolean closed;                                                      // guarded by this

    /** The store closes: from now on every lazy batch goes at once. */
    synchronized void close() {
        closed = true;
    }

    /**
     * Null if {@code batch} is to be sent now (nothing lazy is on its way; from now on it is); else it
     * waits, and the result completes once it is written with the batch that takes it.
     */
    synchronized CompletableFuture<Void> holdBack(StoreBatch batch) {
        if (closed) {
            return null; // the store closes: nothing waits any more
        }
        if (!inFlight) {
            inFlight = true;
            return null;
        }
        batch.ops().forEach(waiting::add);
        return waitingDone;
    }

    /** The lazy batches waiting now, taken to go ahead of a batch being sent; null if none. */
    synchronized Waiting take() {
        if (waiting.isEmpty()) {
            return null;
        }
        Waiting w = new Waiting(waiting, waitingDone);
        waiting = new StoreBatch();
        waitingDone = new CompletableFuture<>();
        return w;
    }

    /** As {@link #take}, and if none waits, nothing lazy is on its way any more. */
    synchronized Waiting takeOrIdle() {
        Waiting w = take();
        if (w == null) {
            inFlight = false;
        }
        return w;
    }

    /**
     * The lazy batch on its way has landed (or failed): true if others wait, which the caller sends
     * now (still in flight); false if none waits, and nothing is in flight any more.
     */
    synchronized boolean landed() {
        if (waiting.isEmpty()) {
            inFlight = false;
            return false;
        }
        return true;
    }

    /**
     * Nothing lazy leaves now (commits pause, or the lazy commit that was to go was interrupted): the
     * next commit takes what waits, or {@link #resume} sends it. True if any waits.
     */
    synchronized boolean release() {
        inFlight = false;
        return !waiting.isEmpty();
    }

    /** True if lazy batches wait with none on its way: the caller sends them now (then they are in flight). */
    synchronized boolean resume() {
        if (inFlight || waiting.isEmpty()) {
            return false;
        }
        inFlight = true;
        return true;
    }
}
