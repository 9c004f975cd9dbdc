package io.tern.broker.store;

import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The local message store, in RocksDB.
 *
 * <p>Key layout (one keyspace, ordered):
 * <pre>
 * 'Q' queue:utf8                     -> queue definition
 * 'M' queue:utf8 0x00 sequence:i64be -> encoded message
 * 'D' bucket:i64be duplicateId:utf8  -> empty   (ids leave a bucket at a time: one range delete)
 * </pre>
 * Queue names never contain 0x00 (the broker refuses them), so a queue's messages are one key range.
 *
 * <p>Group commit: callers enqueue batches; one writer thread takes every batch waiting, writes
 * them as one {@link WriteBatch} with {@code sync=true}, then completes their futures. A writer that
 * waits for nothing: under light load a batch is written at once, under heavy load one fsync serves many.
 * Lazy batches ({@link #commitLazily}) are written without a sync; the next synced write covers them,
 * and if none comes within {@value #LAZY_SYNC_DELAY_MS} ms the writer syncs the log itself.
 */
public final class RocksDbStore implements MessageStore {
    private static final Logger LOG = LoggerFactory.getLogger(RocksDbStore.class);
    private static final byte QUEUE = 'Q';
    private static final byte MESSAGE = 'M';
    private static final byte DUPLICATE = 'D';
    private static final byte[] EMPTY = new byte[0];
    /** Lazy writes are synced after this long without a synced write to cover them. */
    static final long LAZY_SYNC_DELAY_MS = 5;

    static {
        NativeLibrary.load();
    }

    private record Pending(StoreBatch batch, CompletableFuture<Void> done, boolean sync) {
    }

    private final Path dir;
    /** Replaced only by the writer thread, when it reopens the database after a failed write. */
    private volatile RocksDB db;
    /** Reads of paged messages hold it shared; a reopen or a close holds it alone (a closed database must not be read). */
    private final java.util.concurrent.locks.ReadWriteLock reopening = new java.util.concurrent.locks.ReentrantReadWriteLock();
    /** False while {@link #db} is closed (a reopen that failed, or the store closed); guarded by {@link #reopening}. */
    private boolean readable = true;
    private final Options options;
    private final WriteOptions syncWrite;
    private final WriteOptions lazyWrite;
    /** Written by the writer thread only: lazy writes not yet covered by a sync. */
    private boolean unsynced;
    /** Written by the writer thread only: the last write failed (a full disk), resume before the next. */
    private boolean failed;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Thread writer;
    private volatile boolean closed;
    private volatile long commits;
    private volatile long batches;

    public RocksDbStore(Path dir) {
        this.dir = dir;
        try {
            Files.createDirectories(dir);
            options = new Options().setCreateIfMissing(true).setIncreaseParallelism(2);
            db = RocksDB.open(options, dir.toString());
        } catch (Exception e) {
            throw new StoreException("cannot open the message store in " + dir + ": " + e.getMessage(), e);
        }
        syncWrite = new WriteOptions().setSync(true);
        lazyWrite = new WriteOptions().setSync(false);
        writer = new Thread(this::writeLoop, "tern-store-writer");
        writer.setDaemon(true);
        writer.start();
    }

    @Override
    public void recover(Recovery recovery) {
        try (ReadOptions ro = new ReadOptions()) {
            read(db, ro, recovery);
        }
    }

    @Override
    public Snapshot snapshot() {
        RocksDB d = db;
        org.rocksdb.Snapshot s = d.getSnapshot();
        return new Snapshot() {
            @Override
            public void read(Recovery recovery) {
                try (ReadOptions ro = new ReadOptions().setSnapshot(s)) {
                    RocksDbStore.this.read(d, ro, recovery);
                }
            }

            @Override
            public void close() {
                d.releaseSnapshot(s);
            }
        };
    }

    private void read(RocksDB d, ReadOptions ro, Recovery recovery) {
        try (RocksIterator it = d.newIterator(ro)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] key = it.key();
                switch (key[0]) {
                    case QUEUE -> recovery.queue(new String(key, 1, key.length - 1, StandardCharsets.UTF_8), it.value());
                    case MESSAGE -> {
                        int nul = key.length - 9;
                        String q = new String(key, 1, nul - 1, StandardCharsets.UTF_8);
                        long seq = ByteBuffer.wrap(key, nul + 1, 8).getLong();
                        if (recovery.wantsBody(q)) {
                            recovery.message(q, seq, it.value());
                        } else {
                            recovery.onDisk(q, seq);
                        }
                    }
                    case DUPLICATE -> recovery.duplicateId(ByteBuffer.wrap(key, 1, 8).getLong(),
                            new String(key, 9, key.length - 9, StandardCharsets.UTF_8));
                    default -> LOG.warn("Skipping unknown key type {} in {}", key[0], dir);
                }
            }
        }
    }

    @Override
    public List<byte[]> read(String queue, long[] sequences) {
        List<byte[]> keys = new ArrayList<>(sequences.length);
        for (long seq : sequences) {
            keys.add(messageKey(queue, seq));
        }
        reopening.readLock().lock();
        try {
            if (!readable) {
                throw new StoreException("the message store in " + dir + " is closed or being reopened", null);
            }
            return db.multiGetAsList(keys);
        } catch (RocksDBException e) {
            throw new StoreException("reading " + sequences.length + " message(s) of " + queue + " from the message store in "
                    + dir + " failed: " + e.getMessage(), e);
        } finally {
            reopening.readLock().unlock();
        }
    }

    @Override
    public CompletableFuture<Void> commit(StoreBatch batch) {
        return enqueue(batch, true);
    }

    @Override
    public CompletableFuture<Void> commitLazily(StoreBatch batch) {
        return enqueue(batch, false);
    }

    private CompletableFuture<Void> enqueue(StoreBatch batch, boolean sync) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (closed) {
            done.completeExceptionally(new StoreException("the message store in " + dir + " is closed", null));
        } else if (batch.onlyMarks()) {
            // Nothing of it is written here (marks are for backups): a delivery must not wait for a
            // sync of nothing, nor a send queue behind it.
            done.complete(null);
        } else {
            queue.add(new Pending(batch, done, sync));
        }
        return done;
    }

    @Override
    public boolean isDurable() {
        return true;
    }

    /** RocksDB's properties that tell an operator how big the store is and whether it keeps up. */
    private static final java.util.Map<String, String> FIGURES = java.util.Map.of(
            "live_data_bytes", "rocksdb.estimate-live-data-size",
            "sst_files_bytes", "rocksdb.total-sst-files-size",
            "memtable_bytes", "rocksdb.cur-size-all-mem-tables",
            "estimated_keys", "rocksdb.estimate-num-keys",
            "pending_compaction_bytes", "rocksdb.estimate-pending-compaction-bytes",
            "running_compactions", "rocksdb.num-running-compactions");

    @Override
    public java.util.Map<String, Long> figures() {
        java.util.Map<String, Long> figures = new java.util.TreeMap<>();
        // Under the read lock, and only while the database is open: a closed handle must never be read
        // (RocksJava would touch freed native memory), and a scrape may come while the store reopens or closes.
        reopening.readLock().lock();
        try {
            RocksDB d = db;
            if (!readable || d == null) {
                return figures;
            }
            FIGURES.forEach((name, property) -> {
                try {
                    figures.put(name, d.getLongProperty(property));
                } catch (RocksDBException e) {
                    // a property this build of RocksDB lacks: that figure is left out
                }
            });
        } finally {
            reopening.readLock().unlock();
        }
        return figures;
    }

    /** Number of synced writes so far and of batches they carried (group-commit efficiency). */
    public long[] commitCounts() {
        return new long[] {commits, batches};
    }

    private void writeLoop() {
        List<Pending> group = new ArrayList<>();
        while (!closed || !queue.isEmpty()) {
            try {
                Pending first = queue.poll(unsynced ? LAZY_SYNC_DELAY_MS : 100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    syncIdle();
                    continue;
                }
                group.add(first);
                queue.drainTo(group);
                writeGroup(group);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } finally {
                group.clear();
            }
        }
    }

    /**
     * RocksDB refuses every write after an I/O error (such as a full disk) until it is reopened;
     * the Java binding has no resume(). Retried before each write until it succeeds.
     */
    private void reopen() {
        reopening.writeLock().lock();
        try {
            readable = false;
            db.close();
            db = RocksDB.open(options, dir.toString());
            readable = true;
            failed = false;
            LOG.info("The message store in {} accepts writes again", dir);
        } catch (RocksDBException e) {
            LOG.warn("The message store in {} cannot be reopened yet: {}", dir, e.getMessage());
        } finally {
            reopening.writeLock().unlock();
        }
    }

    /** Nothing is waiting: make lazy writes durable now rather than at the next synced commit. */
    private void syncIdle() {
        if (!unsynced) {
            return;
        }
        try {
            db.flushWal(true);
            unsynced = false;
        } catch (RocksDBException e) {
            LOG.error("Syncing the write-ahead log in {} failed: {}", dir, e.getMessage(), e);
        }
    }

    private void writeGroup(List<Pending> group) {
        boolean sync = false;
        if (failed) {
            reopen();
        }
        try (WriteBatch wb = new WriteBatch()) {
            for (Pending p : group) {
                sync |= p.sync();
                for (StoreBatch.Op op : p.batch().ops()) {
                    apply(wb, op);
                }
            }
            db.write(sync ? syncWrite : lazyWrite, wb);
            unsynced = !sync;
            commits++;
            batches += group.size();
            group.forEach(p -> p.done().complete(null));
        } catch (RocksDBException | RuntimeException e) {
            StoreException failure = new StoreException("write to the message store in " + dir + " failed: "
                    + e.getMessage(), e);
            LOG.error("{}", failure.getMessage(), e);
            failed = true;
            group.forEach(p -> p.done().completeExceptionally(failure));
        }
    }

    private void apply(WriteBatch wb, StoreBatch.Op op) throws RocksDBException {
        if (op instanceof StoreBatch.PutQueue p) {
            wb.put(key(QUEUE, p.queue()), p.definition());
        } else if (op instanceof StoreBatch.DeleteQueue d) {
            wb.delete(key(QUEUE, d.queue()));
            wb.deleteRange(messagePrefix(d.queue(), (byte) 0), messagePrefix(d.queue(), (byte) 1));
        } else if (op instanceof StoreBatch.AddMessage a) {
            wb.put(messageKey(a.queue(), a.sequence()), a.message());
        } else if (op instanceof StoreBatch.RemoveMessage r) {
            wb.delete(messageKey(r.queue(), r.sequence()));
        } else if (op instanceof StoreBatch.AddDuplicateId a) {
            wb.put(duplicateKey(a.bucket(), a.id()), EMPTY);
        } else if (op instanceof StoreBatch.RemoveDuplicateId r) {
            wb.delete(duplicateKey(r.bucket(), r.id()));
        } else if (op instanceof StoreBatch.RemoveDuplicateBucket r) {
            wb.deleteRange(duplicateKey(r.bucket(), ""), duplicateKey(r.bucket() + 1, ""));
        }
    }

    private static byte[] key(byte type, String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        byte[] k = new byte[n.length + 1];
        k[0] = type;
        System.arraycopy(n, 0, k, 1, n.length);
        return k;
    }

    private static byte[] duplicateKey(long bucket, String id) {
        byte[] n = id.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(9 + n.length).put(DUPLICATE).putLong(bucket).put(n).array();
    }

    /** 'M', the queue's name, 0, the sequence: a message's key (also in a {@link PageFile}). */
    static byte[] messageKey(String queue, long sequence) {
        byte[] n = queue.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(n.length + 10);
        b.put(MESSAGE).put(n).put((byte) 0).putLong(sequence);
        return b.array();
    }

    /** 'M' queue terminator: with terminator 0 the first key of the queue's range, with 1 the bound after it. */
    private static byte[] messagePrefix(String queue, byte terminator) {
        byte[] n = queue.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(n.length + 2);
        b.put(MESSAGE).put(n).put(terminator);
        return b.array();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            writer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        syncIdle();
        reopening.writeLock().lock();
        try {
            readable = false;
            db.close();
        } finally {
            reopening.writeLock().unlock();
        }
        syncWrite.close();
        lazyWrite.close();
        options.close();
    }
}
