package io.tern.broker;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The disk limit ({@link BrokerConfig.DiskLimit}): how much of it the store uses, looked at every
 * {@value #PERIOD_MS} ms. Past it, persistent sends wait for room or fail, as the memory limit's
 * policy says ({@link MemoryGovernor#diskFull}); acknowledgements go on, since they free space.
 * A node without a data directory has no disk to watch.
 */
final class DiskWatch {
    private static final Logger LOG = LoggerFactory.getLogger(DiskWatch.class);
    static final long PERIOD_MS = 500;

    private final BrokerConfig.DiskLimit limit;
    private final Path dir;
    private final MemoryGovernor memory;
    private volatile String usage = "";

    DiskWatch(BrokerConfig config, MemoryGovernor memory) {
        this.limit = config.maxDiskUsage();
        this.dir = config.dataDir();
        this.memory = memory;
    }

    void start(ScheduledExecutorService timer) {
        if (dir != null) {
            look();
            timer.scheduleWithFixedDelay(this::look, PERIOD_MS, PERIOD_MS, TimeUnit.MILLISECONDS);
        }
    }

    /** What the store uses against its limit, as the last look found it, for error messages. */
    String usage() {
        return usage;
    }

    private void look() {
        boolean over;
        try {
            if (limit.percent() > 0) {
                FileStore fs = Files.getFileStore(dir);
                // As df counts it: space reserved for the superuser is neither used nor available.
                long used = fs.getTotalSpace() - fs.getUnallocatedSpace();
                long size = used + fs.getUsableSpace();
                long percent = size == 0 ? 100 : used * 100 / size;
                over = percent >= limit.percent();
                usage = "the disk of " + dir + " is " + percent + "% full, its limit is " + limit
                        + " (--max-disk-usage)";
            } else {
                long used = bytesUnder(dir);
                over = used >= limit.bytes();
                usage = dir + " holds " + used + " bytes, its limit is " + limit + " (--max-disk-usage)";
            }
        } catch (IOException | RuntimeException e) {
            // Logged and looked at again: an exception out of a periodic task would end it for good.
            LOG.warn("Cannot tell how much disk {} uses: {}", dir, e.toString());
            return;
        }
        if (over != memory.diskFull()) {
            if (over) {
                LOG.warn("Disk limit reached: {}; persistent sends wait or fail until consumers make room", usage);
            } else {
                LOG.info("Below the disk limit again: {}", usage);
            }
            memory.diskFull(over);
        }
    }

    private static long bytesUnder(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.mapToLong(f -> {
                try {
                    return Files.isRegularFile(f) ? Files.size(f) : 0;
                } catch (IOException e) {
                    return 0; // removed while we looked (a compaction)
                }
            }).sum();
        }
    }
}
