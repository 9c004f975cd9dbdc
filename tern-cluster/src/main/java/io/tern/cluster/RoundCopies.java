package io.tern.cluster;

import io.netty.buffer.Unpooled;
import io.tern.protocol.FrameCodec;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The copies of messages a takeover round took over so far, by queue. A failover node that died
 * taking a node over stored that node's messages as they were, so when both are taken over in one
 * round the replica of the one repeats messages of the other: each is taken over once. A copy is
 * named by its move key and move count ({@link io.tern.protocol.WireMessage#moveDedupKey()}), not by
 * its message id: one replica may hold two copies of one message that are both the node's (a move
 * in doubt, and the same message come back by a later move, one count higher), and a replica's own
 * copies are never weighed against each other. Confined to the takeover's thread.
 */
final class RoundCopies {
    private final Map<String, Set<String>> taken = new HashMap<>();

    /**
     * What one replica gives: the messages to take over, by queue and replica sequence, how many were
     * dropped, and the copies kept (by queue), which the round remembers once they are taken over.
     */
    record Kept(Map<String, Map<Long, byte[]>> messages, int skipped, Map<String, Set<String>> copies) {
    }

    /**
     * The replica's messages less the copies an earlier replica of the round gave. Remembers nothing:
     * see {@link #takenOver}, once the takeover of what it kept has stored them. A takeover that fails
     * is tried again with the same round, and must find its own copies not taken. The messages kept
     * are a view of {@code replica} without the ones dropped: a deep replica that reads its paged
     * bodies back as it is iterated is read once here and once by its taker, never held whole.
     */
    Kept keep(Map<String, ? extends Map<Long, byte[]>> replica) {
        Map<String, Map<Long, byte[]>> messages = new LinkedHashMap<>();
        Map<String, Set<String>> here = new HashMap<>();
        int skipped = 0;
        for (Map.Entry<String, ? extends Map<Long, byte[]>> q : replica.entrySet()) {
            Set<String> before = taken.getOrDefault(q.getKey(), Set.of());
            Set<String> mine = here.computeIfAbsent(q.getKey(), k -> new HashSet<>());
            Set<Long> dropped = new HashSet<>();
            for (Map.Entry<Long, byte[]> m : q.getValue().entrySet()) {
                String copy = FrameCodec.readMessage(Unpooled.wrappedBuffer(m.getValue())).moveDedupKey();
                if (copy != null && before.contains(copy)) {
                    skipped++;
                    dropped.add(m.getKey());
                    continue;
                }
                if (copy != null) {
                    mine.add(copy);
                }
            }
            messages.put(q.getKey(), without(q.getValue(), dropped));
        }
        return new Kept(messages, skipped, here);
    }

    /** {@code all} without the entries of {@code dropped}, as a view (iterated in the order of {@code all}). */
    static <V> Map<Long, V> without(Map<Long, V> all, Set<Long> dropped) {
        if (dropped.isEmpty()) {
            return java.util.Collections.unmodifiableMap(all);
        }
        return new java.util.AbstractMap<>() {
            @Override
            public boolean containsKey(Object key) {
                return !dropped.contains(key) && all.containsKey(key);
            }

            @Override
            public V get(Object key) {
                return dropped.contains(key) ? null : all.get(key);
            }

            @Override
            public Set<Map.Entry<Long, V>> entrySet() {
                return new java.util.AbstractSet<>() {
                    @Override
                    public int size() {
                        return all.size() - dropped.size();
                    }

                    @Override
                    public java.util.Iterator<Map.Entry<Long, V>> iterator() {
                        java.util.Iterator<Map.Entry<Long, V>> it = all.entrySet().iterator();
                        return new java.util.Iterator<>() {
                            private Map.Entry<Long, V> next = advance();

                            private Map.Entry<Long, V> advance() {
                                while (it.hasNext()) {
                                    Map.Entry<Long, V> e = it.next();
                                    if (!dropped.contains(e.getKey())) {
                                        return e;
                                    }
                                }
                                return null;
                            }

                            @Override
                            public boolean hasNext() {
                                return next != null;
                            }

                            @Override
                            public Map.Entry<Long, V> next() {
                                if (next == null) {
                                    throw new java.util.NoSuchElementException();
                                }
                                Map.Entry<Long, V> e = next;
                                next = advance();
                                return e;
                            }
                        };
                    }
                };
            }
        };
    }

    /** The takeover of {@code kept} stored its messages: a later replica of the round that repeats them gives them no more. */
    void takenOver(Kept kept) {
        kept.copies().forEach((q, copies) -> taken.computeIfAbsent(q, k -> new HashSet<>()).addAll(copies));
    }
}
