package io.tern.broker;

import java.util.Arrays;

/**
 * The sequences of a queue's messages that are in the store and not in memory (paged), in order:
 * eight bytes a message instead of the message. Sequences come almost always in increasing order (a
 * node numbers its entries as it places them, and commits complete in order); one that comes late
 * is inserted in its place. Taken from the front. Not thread-safe: confined to the queue's executor.
 */
final class PagedSequences {
    /** What one paged message costs the heap here. */
    static final int BYTES_EACH = Long.BYTES;

    private long[] seqs = new long[16];
    /** The live sequences are {@code seqs[head..tail)}. */
    private int head;
    private int tail;

    int size() {
        return tail - head;
    }

    boolean isEmpty() {
        return head == tail;
    }

    void add(long seq) {
        if (tail == seqs.length) {
            makeRoom();
        }
        if (isEmpty() || seqs[tail - 1] < seq) {
            seqs[tail++] = seq;
            return;
        }
        int at = Arrays.binarySearch(seqs, head, tail, seq);
        if (at >= 0) {
            return; // known already
        }
        at = -at - 1;
        System.arraycopy(seqs, at, seqs, at + 1, tail - at);
        seqs[at] = seq;
        tail++;
    }

    /** Up to {@code max} sequences from the front, left in place. */
    long[] peek(int max) {
        return Arrays.copyOfRange(seqs, head, head + Math.min(max, size()));
    }

    /** Up to {@code max} sequences greater than {@code after}, in order, left in place. */
    long[] after(long after, int max) {
        int from = Arrays.binarySearch(seqs, head, tail, after);
        from = from >= 0 ? from + 1 : -from - 1;
        return Arrays.copyOfRange(seqs, from, from + Math.min(max, tail - from));
    }

    /** Drops the first {@code n} sequences (those {@link #peek} returned, read in). */
    void drop(int n) {
        head += Math.min(n, size());
        if (head == tail) {
            head = 0;
            tail = 0;
        }
        if (seqs.length > 1024 && size() < seqs.length / 4) {
            // Give back what a deep queue once needed: only the live sequences are counted against the memory limit.
            seqs = Arrays.copyOfRange(seqs, head, head + Math.max(16, size() * 2));
            tail -= head;
            head = 0;
        }
    }

    /** Removes all and returns how many there were. */
    int clear() {
        int n = size();
        seqs = new long[16];
        head = 0;
        tail = 0;
        return n;
    }

    private void makeRoom() {
        int n = size();
        if (head > 0 && n <= seqs.length / 2) {
            System.arraycopy(seqs, head, seqs, 0, n); // reuse the space the front left
        } else {
            seqs = Arrays.copyOfRange(seqs, head, head + Math.max(16, n * 2));
        }
        head = 0;
        tail = n;
    }
}
