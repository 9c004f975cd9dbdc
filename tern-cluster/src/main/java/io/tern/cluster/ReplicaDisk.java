package io.tern.cluster;

import io.tern.broker.store.MessageStore;
import io.tern.broker.store.RocksDbStore;
import io.tern.broker.store.StoreBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * A backup's copy of one primary's replica on its own disk ({@code --replica-store disk}): a
 * RocksDB store of its own per primary, written with every batch the replica applies (synced, by
 * the store's group commit) before the backup acknowledges the batch. After a restart of the
 * backup, the replica comes back from it ({@link #load}); it is what a takeover needs when the
 * primary is gone too. The store keeps what a primary's store keeps: queues, messages, duplicate
 * ids (not delivery marks: after such a restart, no client session can still recover them).
 */
final class ReplicaDisk {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaDisk.class);

    private final Path dir;
    private RocksDbStore store; // guarded by this

    ReplicaDisk(Path dir) {
        this.dir = dir;
        this.store = new RocksDbStore(dir);
    }

    Path dir() {
        return dir;
    }

    /** A snapshot of start {@code start} of the primary begins: what was here is replaced. */
    synchronized void clear(String start) {
        store.close();
        delete(dir);
        store = new RocksDbStore(dir);
        try {
            DurableFile.write(startFile(), start);
        } catch (IOException e) {
            LOG.warn("Could not note which start of its primary the replica in {} is of: {}", dir, e.toString());
        }
    }

    /** Which start of the primary the copy on disk is of: a file beside its store. */
    private Path startFile() {
        return dir.resolveSibling(dir.getFileName() + ".start");
    }

    /** Stores what {@code batch} changes (marks are not kept); completes once synced. */
    synchronized CompletableFuture<Void> write(StoreBatch batch) {
        StoreBatch kept = new StoreBatch();
        for (StoreBatch.Op op : batch.ops()) {
            if (!(op instanceof StoreBatch.Mark)) {
                kept.add(op);
            }
        }
        return store.commit(kept);
    }

    /** The replica as it was on disk, for a backup that restarted. */
    synchronized Replica load(io.tern.broker.store.PageFile pages) {
        Replica r = new Replica(this, pages);
        r.loading();
        store.recover(MessageStore.Recovery.asOps(r::loadedOp));
        String start = "";
        try {
            start = Files.isRegularFile(startFile()) ? Files.readString(startFile()).trim() : "";
        } catch (IOException | java.io.UncheckedIOException e) {
            LOG.warn("Could not read which start of its primary the replica in {} is of: {}", dir, e.toString());
        }
        r.loaded(start);
        return r;
    }

    synchronized void close() {
        store.close();
    }

    /** The replica is no longer needed (taken over, or its primary chose other backups): gone from disk. */
    synchronized void delete() {
        store.close();
        delete(dir);
        try {
            Files.deleteIfExists(startFile());
        } catch (IOException e) {
            LOG.warn("Could not delete {}: {}", startFile(), e.toString());
        }
    }

    private static void delete(Path dir) {
        try {
            io.tern.broker.store.PageFile.delete(dir);
        } catch (io.tern.broker.store.StoreException e) {
            LOG.error("Could not delete the replica in {}: {}", dir, e.getMessage());
        }
    }
}
