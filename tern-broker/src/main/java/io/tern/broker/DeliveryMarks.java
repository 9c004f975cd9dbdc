package io.tern.broker;

import io.tern.broker.store.MessageStore;
import io.tern.broker.store.StoreBatch;

import java.util.concurrent.CompletableFuture;

/**
 * Ships delivery marks to the store (its backups) with at most one batch in flight: marks that
 * arrive meanwhile, from every queue, wait and go together in the next batch. Under load this turns
 * one replication round trip per dispatch into one per round trip, the way the store's writer
 * groups commits. Batches complete in the order they were sent, so each queue's deliveries, which
 * wait for their marks, still leave in dispatch order.
 */
final class DeliveryMarks {
    private final MessageStore store;
    private StoreBatch waiting = new StoreBatch();                                   // guarded by this
    private CompletableFuture<Void> waitingDone = new CompletableFuture<>();        // guarded by this
    private boolean inFlight;                                                         // guarded by this

    DeliveryMarks(MessageStore store) {
        this.store = store;
    }

    /** Completes when the backups have {@code marks} (or when shipping them failed). */
    CompletableFuture<Void> ship(StoreBatch marks) {
        CompletableFuture<Void> done;
        synchronized (this) {
            marks.ops().forEach(waiting::add);
            done = waitingDone;
            if (inFlight) {
                return done;
            }
        }
        sendWaiting();
        return done;
    }

    private void sendWaiting() {
        StoreBatch batch;
        CompletableFuture<Void> done;
        synchronized (this) {
            if (waiting.isEmpty()) {
                inFlight = false;
                return;
            }
            batch = waiting;
            done = waitingDone;
            waiting = new StoreBatch();
            waitingDone = new CompletableFuture<>();
            inFlight = true;
        }
        store.commit(batch).whenComplete((ok, failure) -> {
            if (failure != null) {
                done.completeExceptionally(failure);
            } else {
                done.complete(null);
            }
            sendWaiting();
        });
    }
}
