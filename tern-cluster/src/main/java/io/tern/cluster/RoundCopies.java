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

    /** What one replica gives: the messages to take over, by queue and replica sequence, and how many were dropped. */
    record Kept(Map<String, Map<Long, byte[]>> messages, int skipped) {
    }

    /** The replica's messages less the copies an earlier replica of the round gave; remembers the rest. */
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
        here.forEach((q, copies) -> taken.computeIfAbsent(q, k -> new HashSet<>()).addAll(copies));
        return new Kept(messages, skipped);
    }
}
