package io.tern.cluster;

import io.netty.buffer.Unpooled;
import io.tern.protocol.FrameCodec;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

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
     * is tried again with the same round, and must find its own copies not taken.
     */
    Kept keep(Map<String, ? extends Map<Long, byte[]>> replica) {
        Map<String, Map<Long, byte[]>> messages = new LinkedHashMap<>();
        Map<String, Set<String>> here = new HashMap<>();
        int skipped = 0;
        for (Map.Entry<String, ? extends Map<Long, byte[]>> q : replica.entrySet()) {
            Set<String> before = taken.getOrDefault(q.getKey(), Set.of());
            Set<String> mine = here.computeIfAbsent(q.getKey(), k -> new HashSet<>());
            Map<Long, byte[]> keep = new TreeMap<>();
            for (Map.Entry<Long, byte[]> m : q.getValue().entrySet()) {
                String copy = FrameCodec.readMessage(Unpooled.wrappedBuffer(m.getValue())).moveDedupKey();
                if (copy != null && before.contains(copy)) {
                    skipped++;
                    continue;
                }
                keep.put(m.getKey(), m.getValue());
                if (copy != null) {
                    mine.add(copy);
                }
            }
            messages.put(q.getKey(), keep);
        }
        return new Kept(messages, skipped, here);
    }

    /** The takeover of {@code kept} stored its messages: a later replica of the round that repeats them gives them no more. */
    void takenOver(Kept kept) {
        kept.copies().forEach((q, copies) -> taken.computeIfAbsent(q, k -> new HashSet<>()).addAll(copies));
    }
}
