package io.tern.cluster;

import org.jgroups.Address;
import org.jgroups.util.ExtendedUUID;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which start of a node an address belongs to. A node restarted before its previous start was
 * suspected is in the view twice, and the later start is the live one. The view's order does not
 * say which: a join appends, but a merge orders its members by subgroup. So each address carries its
 * start: a number kept in the node's data directory, greater at every start, and the wall-clock
 * time it began (both starts ran on the node's machine; the clock decides only where a number is
 * missing, as for a node started without a data directory).
 *
 * @param number the start's number, -1 if the node keeps none
 * @param wallMs when the start began, milliseconds of the epoch
 */
record NodeStart(long number, long wallMs) {
    /** The key of the start in an address (an {@link ExtendedUUID}); its value is readable in JGroups' logs. */
    static final String KEY = "tern-start";
    private static final String FILE = "starts";

    /** The start beginning now, numbered from the file {@value #FILE} in {@code dir} (null: no number). */
    static NodeStart now(Path dir) {
        long number = -1;
        if (dir != null) {
            try {
                number = next(dir.resolve(FILE));
            } catch (UncheckedIOException e) {
                LoggerFactory.getLogger(NodeStart.class).warn("{} ({}): this start is told from the others by the clock alone",
                        e.getMessage(), e.getCause().getMessage());
            }
        }
        return new NodeStart(number, System.currentTimeMillis());
    }

    byte[] encode() {
        return (number + "/" + wallMs).getBytes(StandardCharsets.US_ASCII);
    }

    /** The start an address carries; null if none (a node of an earlier version) or malformed. */
    static NodeStart of(Address a) {
        byte[] value = a instanceof ExtendedUUID e ? e.get(KEY) : null;
        if (value == null) {
            return null;
        }
        String s = new String(value, StandardCharsets.US_ASCII);
        int slash = s.indexOf('/');
        try {
            return slash < 0 ? null : new NodeStart(Long.parseLong(s.substring(0, slash)), Long.parseLong(s.substring(slash + 1)));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** True if this start began after {@code other}, a start of the same node; false if they cannot be told apart. */
    boolean after(NodeStart other) {
        if (number >= 0 && other.number >= 0 && number != other.number) {
            return number > other.number;
        }
        return wallMs > other.wallMs;
    }

    /**
     * Of two starts of one node, whether {@code a} is the later: starts that cannot be told apart
     * (equal, or one carries none) keep the view's order, in which {@code a} comes later.
     */
    static boolean later(Address a, Address other) {
        NodeStart sa = of(a);
        NodeStart so = of(other);
        return sa == null || so == null || !so.after(sa);
    }

    /**
     * The next start's number, kept in {@code file} durably before it is used: one more than the last,
     * and at least the clock's milliseconds, so that a count that went back (a data directory restored
     * from a backup) still gives a start numbered after one that ran since. Content that is not a
     * number is written over.
     */
    private static long next(Path file) {
        long last = -1;
        try {
            if (Files.exists(file)) {
                String s = Files.readString(file, StandardCharsets.US_ASCII).trim();
                try {
                    last = Long.parseLong(s);
                } catch (NumberFormatException e) {
                    LoggerFactory.getLogger(NodeStart.class).warn("The start count in {} is not a number ('{}'): counted again "
                            + "from the clock", file, s.length() > 40 ? s.substring(0, 40) + "..." : s);
                }
            }
            long n = Math.max(last + 1, System.currentTimeMillis());
            DurableFile.write(file, n + "\n");
            return n;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot count this start of the node in " + file, e);
        }
    }
}
