package io.tern.cluster;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The takeovers this node knows of, kept in a file of its data directory: one line per node taken
 * over, {@code nodeId epoch takerId}. The epoch is the id of the view in which the taker found the
 * node gone (see {@link ClusterNode#viewId}). Every change is written to a new file, synced, renamed
 * over the old one, and the directory synced, before anything depends on it; a change that cannot
 * be saved throws.
 */
public final class TakeoverRecords {
    private static final Logger LOG = LoggerFactory.getLogger(TakeoverRecords.class);

    /** A takeover of a node: in which view (the epoch), and by which node. */
    public record Record(long epoch, String taker) {
    }

    private final Path file;
    private final Map<String, Record> records = new TreeMap<>(); // guarded by this

    /** @param file where the records are kept (null: in memory only); records found there are loaded */
    TakeoverRecords(Path file) {
        this.file = file;
        if (file != null && Files.exists(file)) {
            load();
        }
    }

    private void load() {
        try {
            for (String line : Files.readAllLines(file)) {
                String[] parts = line.trim().split(" ");
                if (parts.length >= 2) {
                    records.put(parts[0], new Record(Long.parseLong(parts[1]), parts.length > 2 ? parts[2] : ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            throw new IllegalStateException("cannot read the takeover records in " + file, e);
        }
    }

    synchronized Record get(String nodeId) {
        return records.get(nodeId);
    }

    synchronized boolean contains(String nodeId) {
        return records.containsKey(nodeId);
    }

    synchronized Map<String, Record> all() {
        return Map.copyOf(records);
    }

    /**
     * Records a takeover of {@code nodeId}, durably; throws UncheckedIOException if it cannot be
     * saved, and then keeps what it held before (a record only in memory would have the node told to
     * discard for a takeover that was undone).
     */
    synchronized void put(String nodeId, Record r) {
        Record before = records.put(nodeId, r);
        try {
            save();
        } catch (UncheckedIOException e) {
            if (before == null) {
                records.remove(nodeId);
            } else {
                records.put(nodeId, before);
            }
            throw e;
        }
    }

    /** Forgets the takeover of {@code nodeId} (it discarded what was taken over), durably. */
    synchronized void remove(String nodeId) {
        if (records.remove(nodeId) != null) {
            save();
        }
    }

    private void save() {
        if (file == null) {
            return;
        }
        StringBuilder b = new StringBuilder();
        records.forEach((id, r) -> b.append(id).append(' ').append(r.epoch()).append(' ').append(r.taker()).append('\n'));
        try {
            DurableFile.write(file, b.toString());
        } catch (IOException e) {
            LOG.error("Cannot save the takeover records in {}: {}", file, e.toString());
            throw new UncheckedIOException("cannot save the takeover records in " + file, e);
        }
    }
}
