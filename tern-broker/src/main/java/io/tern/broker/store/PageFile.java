package io.tern.broker.store;

import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Message bodies moved out of the heap into a directory of their own, which need not survive a
 * restart: a RocksDB database without a write-ahead log, written and read on the caller's thread,
 * opened at the first write and deleted when closed (and when a new one opens on the same directory).
 * A backup pages the bodies of its replicas here when they would take more than their share of its
 * memory. Not thread-safe: its owner serialises the calls.
 */
public final class PageFile implements AutoCloseable {
    static {
        NativeLibrary.load();
    }

    private final Path dir;
    private Options options;
    private WriteOptions writeOptions;
    private RocksDB db;
    private long count;
    /** Closed for good: a late write must not open a database nobody closes. */
    private boolean closed;

    public PageFile(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /** Bodies held here now. */
    public long count() {
        return count;
    }

    /** Writes the bodies (queue to sequence to body); throws {@link StoreException} if they could not be written. */
    public void put(Map<String, ? extends Map<Long, byte[]>> bodies) {
        open();
        int added = 0;
        try (WriteBatch batch = new WriteBatch()) {
            for (Map.Entry<String, ? extends Map<Long, byte[]>> q : bodies.entrySet()) {
                for (Map.Entry<Long, byte[]> m : q.getValue().entrySet()) {
                    batch.put(RocksDbStore.messageKey(q.getKey(), m.getKey()), m.getValue());
                    added++;
                }
            }
            db.write(writeOptions, batch);
        } catch (RocksDBException e) {
            throw new StoreException("cannot page " + added + " message(s) out to " + dir + ": " + e.getMessage(), e);
        }
        count += added;
    }

    /** The bodies of {@code sequences} of {@code queue}, in their order; null where none is held. */
    public List<byte[]> get(String queue, long[] sequences) {
        if (db == null) {
            return new ArrayList<>(java.util.Collections.nCopies(sequences.length, null));
        }
        List<byte[]> keys = new ArrayList<>(sequences.length);
        for (long seq : sequences) {
            keys.add(RocksDbStore.messageKey(queue, seq));
        }
        try {
            return db.multiGetAsList(keys);
        } catch (RocksDBException e) {
            throw new StoreException("cannot read " + sequences.length + " paged message(s) of " + queue + " from " + dir
                    + ": " + e.getMessage(), e);
        }
    }

    /** Forgets the bodies of {@code sequences} of {@code queue}, which were held here. */
    public void remove(String queue, Iterable<Long> sequences) {
        if (db == null) {
            return;
        }
        int removed = 0;
        try (WriteBatch batch = new WriteBatch()) {
            for (long seq : sequences) {
                batch.delete(RocksDbStore.messageKey(queue, seq));
                removed++;
            }
            db.write(writeOptions, batch);
        } catch (RocksDBException e) {
            // What stays is garbage in a file deleted with the replica, never read again (its index entry is gone).
            throw new StoreException("cannot remove " + removed + " paged message(s) of " + queue + " from " + dir + ": "
                    + e.getMessage(), e);
        }
        count -= removed;
    }

    /** Keys of records ({@link #putRecord}) start with this byte; message keys start with 'M'. */
    private static final byte RECORD = (byte) 0xFF;

    /**
     * Writes {@code data} as record {@code index}: what its owner keeps in order out of the heap besides
     * message bodies (a replica's batches that wait for its snapshot). Read back with {@link #records}.
     */
    public void putRecord(long index, byte[] data) {
        open();
        try {
            db.put(writeOptions, recordKey(index), data);
        } catch (RocksDBException e) {
            throw new StoreException("cannot write record " + index + " to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Passes the records to {@code each} in the order of their indexes, then removes them. */
    public void drainRecords(java.util.function.Consumer<byte[]> each) {
        if (db == null) {
            return;
        }
        try (org.rocksdb.RocksIterator it = db.newIterator()) {
            for (it.seek(new byte[] {RECORD}); it.isValid() && it.key()[0] == RECORD; it.next()) {
                each.accept(it.value());
            }
            it.status(); // a read that failed part way is an error, not the end of the records
        } catch (RocksDBException e) {
            throw new StoreException("cannot read the records in " + dir + ": " + e.getMessage(), e);
        }
        try {
            db.deleteRange(writeOptions, new byte[] {RECORD}, new byte[] {RECORD, RECORD, RECORD, RECORD, RECORD, RECORD, RECORD,
                    RECORD, RECORD, RECORD});
        } catch (RocksDBException e) {
            throw new StoreException("cannot remove the records read from " + dir + ": " + e.getMessage(), e);
        }
    }

    private static byte[] recordKey(long index) {
        return ByteBuffer.allocate(9).put(RECORD).putLong(index).array();
    }

    private void open() {
        if (db != null) {
            return;
        }
        if (closed) {
            throw new StoreException("the page file in " + dir + " is closed", null);
        }
        delete(dir);
        try {
            Files.createDirectories(dir);
            // Small memtables: one page file per replica, and their native memory is outside the heap's limit.
            options = new Options().setCreateIfMissing(true).setWriteBufferSize(4 << 20).setMaxWriteBufferNumber(2);
            writeOptions = new WriteOptions().setDisableWAL(true);
            db = RocksDB.open(options, dir.toString());
        } catch (IOException | RocksDBException e) {
            closeHandles();
            throw new StoreException("cannot open the page file in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Deletes what was written here; the page file can be written again. */
    public void clear() {
        closeHandles();
        count = 0;
        delete(dir);
    }

    /** Closes and deletes what was written here, for good: a later write fails. */
    @Override
    public void close() {
        closed = true;
        clear();
    }

    private void closeHandles() {
        if (db != null) {
            db.close();
            db = null;
        }
        if (writeOptions != null) {
            writeOptions.close();
            writeOptions = null;
        }
        if (options != null) {
            options.close();
            options = null;
        }
    }

    /** Deletes {@code dir} and what is in it, if it exists. */
    public static void delete(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new StoreException("cannot delete " + dir + ": " + e.getMessage(), e);
        }
    }
}
