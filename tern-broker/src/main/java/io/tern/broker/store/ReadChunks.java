package io.tern.broker.store;

/**
 * How many paged messages to read back from disk in one go: at most {@code max}, and about {@code
 * bytes} by the mean size of the messages seen so far ({@code first} until one is known). 64 messages
 * of 256 KiB read at once took 16 MiB and their copies of a heap that was full already. Not
 * thread-safe: its owner serialises the calls.
 */
public final class ReadChunks {
    private final int max;
    private final long bytes;
    private final int first;
    private long seen;
    private long seenBytes;

    public ReadChunks(int max, long bytes, int first) {
        this.max = max;
        this.bytes = bytes;
        this.first = first;
    }

    /** A message of {@code size} bytes was paged or read back. */
    public void saw(long size) {
        seen++;
        seenBytes += size;
    }

    /** How many to read next. */
    public int next() {
        if (seen == 0) {
            return first;
        }
        long mean = Math.max(1, seenBytes / seen);
        return (int) Math.max(1, Math.min(max, bytes / mean));
    }
}
