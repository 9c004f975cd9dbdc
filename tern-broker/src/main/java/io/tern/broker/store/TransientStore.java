package io.tern.broker.store;

import java.util.concurrent.CompletableFuture;

/** A store that keeps nothing: for brokers started without a data directory. */
public final class TransientStore implements MessageStore {
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    @Override
    public void recover(Recovery recovery) {
    }

    @Override
    public CompletableFuture<Void> commit(StoreBatch batch) {
        return DONE;
    }

    @Override
    public boolean isDurable() {
        return false;
    }

    @Override
    public void close() {
    }
}
