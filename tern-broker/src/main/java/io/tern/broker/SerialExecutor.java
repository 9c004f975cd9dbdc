package io.tern.broker;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs tasks one at a time, in submission order, on threads borrowed from a shared pool.
 * Whatever a serial executor guards needs no lock: only its tasks touch it.
 */
public final class SerialExecutor implements Executor {
    private static final Logger LOG = LoggerFactory.getLogger(SerialExecutor.class);
    private static final int BATCH = 512;

    private final Executor pool;
    private final String name;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicInteger pending = new AtomicInteger();

    public SerialExecutor(Executor pool, String name) {
        this.pool = pool;
        this.name = name;
    }

    @Override
    public void execute(Runnable task) {
        tasks.add(task);
        if (pending.getAndIncrement() == 0) {
            pool.execute(this::drain);
        }
    }

    /** Runs the task in order; the future completes when it has run, or fails with what it threw. */
    public CompletableFuture<Void> submit(Runnable task) {
        return call(() -> {
            task.run();
            return null;
        });
    }

    /** Computes a value on this executor (so it may read state the executor guards). */
    public <T> CompletableFuture<T> call(java.util.function.Supplier<T> task) {
        CompletableFuture<T> done = new CompletableFuture<>();
        execute(() -> {
            try {
                done.complete(task.get());
            } catch (RuntimeException | Error e) {
                done.completeExceptionally(e);
            }
        });
        return done;
    }

    private void drain() {
        for (int i = 0; i < BATCH; i++) {
            Runnable task = tasks.poll();
            try {
                task.run();
            } catch (RuntimeException | Error e) {
                LOG.error("Task on {} failed", name, e);
            }
            if (pending.decrementAndGet() == 0) {
                return;
            }
        }
        pool.execute(this::drain);
    }
}
