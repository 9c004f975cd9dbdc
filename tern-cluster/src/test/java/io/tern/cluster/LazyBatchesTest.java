package io.tern.cluster;

import io.tern.broker.store.MessageStore;
import io.tern.broker.store.StoreBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Lazy batches of a {@link ReplicatingStore} wait for the one on its way and go together, never out
 * of order. The node here has no backup, so a lazy batch has landed when its local write completes:
 * the local store below completes its writes only when the test says.
 */
@Timeout(30)
class LazyBatchesTest {

    /** A local store that records each write and completes it when told. */
    private static final class HeldStore implements MessageStore {
        final List<StoreBatch> writes = new ArrayList<>();
        final List<Boolean> synced = new ArrayList<>();
        final List<CompletableFuture<Void>> done = new ArrayList<>();
        /** Writes from now on complete at once. */
        volatile boolean completeAtOnce;
        volatile boolean closed;

        @Override
        public synchronized CompletableFuture<Void> commit(StoreBatch batch) {
            return write(batch, true);
        }

        @Override
        public synchronized CompletableFuture<Void> commitLazily(StoreBatch batch) {
            return write(batch, false);
        }

        private CompletableFuture<Void> write(StoreBatch batch, boolean sync) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            writes.add(batch);
            synced.add(sync);
            done.add(f);
            if (completeAtOnce) {
                f.complete(null);
            }
            return f;
        }

        synchronized void complete(int write) {
            done.get(write).complete(null);
        }

        synchronized List<Long> removed(int write) {
            return writes.get(write).ops().stream().map(op -> op instanceof StoreBatch.RemoveMessage r ? r.sequence()
                    : op instanceof StoreBatch.AddMessage a ? -a.sequence() : 0L).toList();
        }

        synchronized int count() {
            return writes.size();
        }

        @Override
        public void recover(Recovery recovery) {
        }

        @Override
        public boolean isDurable() {
            return true;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private static StoreBatch removal(long seq) {
        return new StoreBatch().add(new StoreBatch.RemoveMessage("q", seq));
    }

    private static StoreBatch addition(long seq) {
        return new StoreBatch().add(new StoreBatch.AddMessage("q", seq, new byte[] {1}));
    }

    @Test
    void lazyBatchesThatComeWhileOneIsOnItsWayGoTogetherInOrderWhenItLands() {
        HeldStore local = new HeldStore();
        ReplicatingStore store = new ReplicatingStore(local);
        CompletableFuture<Void> first = store.commitLazily(removal(1));
        CompletableFuture<Void> second = store.commitLazily(removal(2));
        CompletableFuture<Void> third = store.commitLazily(removal(3));
        assertThat(local.count()).as("the second and third wait for the first").isEqualTo(1);

        local.complete(0);
        assertThat(first).isCompleted();
        await().until(() -> local.count() == 2); // they went as one, when the first landed (on the landings' thread)
        assertThat(local.removed(1)).containsExactly(2L, 3L);
        assertThat(local.synced.get(1)).isFalse();
        assertThat(second).isNotCompleted();

        local.complete(1);
        assertThat(second).isCompleted();
        assertThat(third).isCompleted();
        CompletableFuture<Void> fourth = store.commitLazily(removal(4));
        await().until(() -> local.count() == 3); // at once, or as soon as the second's landing is seen
        assertThat(local.removed(2)).containsExactly(4L);
        local.complete(2);
        assertThat(fourth).isCompleted();
    }

    @Test
    void aSyncedCommitSendsTheWaitingLazyBatchesJustAheadOfItself() {
        HeldStore local = new HeldStore();
        ReplicatingStore store = new ReplicatingStore(local);
        store.commitLazily(removal(1));
        CompletableFuture<Void> waited = store.commitLazily(removal(2));
        CompletableFuture<Void> synced = store.commit(addition(3));
        assertThat(local.count()).as("the waiting removal as a batch of its own, then the commit").isEqualTo(3);
        assertThat(local.removed(1)).containsExactly(2L);
        assertThat(local.synced.get(1)).isFalse();
        assertThat(local.removed(2)).containsExactly(-3L);
        assertThat(local.synced.get(2)).isTrue();

        local.complete(1);
        assertThat(waited).isCompleted();
        local.complete(2);
        assertThat(synced).isCompleted();
        local.complete(0);
        CompletableFuture<Void> next = store.commitLazily(removal(5));
        await().until(() -> local.count() == 4); // nothing waited when the first landed: the next goes once that is seen
        assertThat(local.removed(3)).containsExactly(5L);
        local.complete(3);
        assertThat(next).isCompleted();
    }

    @Test
    void aFailedLocalWriteFailsTheLazyBatchesItCarriedAndTheNextOnesStillGo() {
        HeldStore local = new HeldStore();
        ReplicatingStore store = new ReplicatingStore(local);
        store.commitLazily(removal(1));
        CompletableFuture<Void> carried = store.commitLazily(removal(2));
        store.commit(addition(3));
        local.done.get(1).completeExceptionally(new IllegalStateException("disk full"));
        assertThat(carried).isCompletedExceptionally();

        local.done.get(0).completeExceptionally(new IllegalStateException("disk full"));
        CompletableFuture<Void> after = store.commitLazily(removal(4));
        await().until(() -> local.count() == 4); // a failed landing is a landing: the next lazy batch goes at once
        local.complete(3);
        assertThat(after).isCompleted();
    }

    @Test
    void lazyBatchesStillWaitingWhenTheStoreClosesAreWrittenBeforeItAndLaterOnesGoAtOnce() {
        HeldStore local = new HeldStore();
        ReplicatingStore store = new ReplicatingStore(local);
        store.commitLazily(removal(1));
        CompletableFuture<Void> waiting = store.commitLazily(removal(2));
        local.completeAtOnce = true;
        store.close();
        assertThat(local.count()).isEqualTo(2);
        assertThat(local.removed(1)).as("handed to the local store, which writes and syncs it as it closes").containsExactly(2L);
        assertThat(waiting).isCompleted();
        assertThat(local.closed).isTrue();
        store.commitLazily(removal(3));
        assertThat(local.count()).as("nothing waits once the store closed (the first is still on its way)").isEqualTo(3);
    }
}
