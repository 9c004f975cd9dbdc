package io.tern.broker;

import io.tern.protocol.WireMessage;

import java.lang.management.ManagementFactory;
import java.util.Map;

/**
 * What a message held in a queue costs the heap, for the memory limit: counted honestly, so that a
 * limit of half the heap leaves the other half free.
 *
 * <p>Two costs the message's wire size ({@link WireMessage#estimatedSize}) misses were measured on a
 * 512 MiB heap: a body of half a G1 region or more is a humongous object that takes whole regions
 * (a 1 MiB + 1 KiB body takes two 1 MiB regions, so 250 such messages filled the heap while 262 MB
 * were counted), and each property is a map entry with its key and its boxed value (many small
 * properties cost about three times their wire size).
 */
public final class HeapCost {
    /** Object header and the fields of a message with its queue entry. */
    private static final long MESSAGE = 160;
    /** A hash map entry and its table slot. */
    private static final long ENTRY = 48;
    /** The G1 region size, or 0 if the heap is not G1's (no humongous rounding then). */
    private static final long REGION = g1RegionBytes();

    private HeapCost() {
    }

    static long of(WireMessage m) {
        long cost = MESSAGE + string(m.messageId()) + string(m.correlationId()) + string(m.type());
        cost += m.body() == null ? 0 : array(m.body().length);
        for (Map.Entry<String, Object> e : m.properties().entrySet()) {
            cost += ENTRY + string(e.getKey()) + value(e.getValue());
        }
        return cost;
    }

    /** A byte array of {@code length}: its header and bytes, or whole regions if it is humongous. */
    public static long array(long length) {
        long bytes = align(16 + length);
        if (REGION > 0 && bytes >= REGION / 2) {
            return (bytes + REGION - 1) / REGION * REGION;
        }
        return bytes;
    }

    private static long string(String s) {
        return s == null ? 0 : 24 + array(s.length() * 2L); // two bytes a char unless compact: an upper bound
    }

    private static long value(Object v) {
        if (v instanceof String s) {
            return string(s);
        }
        if (v instanceof byte[] b) {
            return array(b.length);
        }
        return v instanceof Long || v instanceof Double ? 24 : 16;
    }

    private static long align(long bytes) {
        return (bytes + 7) & ~7L;
    }

    private static long g1RegionBytes() {
        try {
            com.sun.management.HotSpotDiagnosticMXBean hotspot =
                    ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            if (hotspot == null || !Boolean.parseBoolean(hotspot.getVMOption("UseG1GC").getValue())) {
                return 0;
            }
            return Long.parseLong(hotspot.getVMOption("G1HeapRegionSize").getValue());
        } catch (RuntimeException e) {
            return 1024 * 1024; // not a HotSpot VM: assume G1's smallest region, the cautious side
        }
    }

    /** The G1 region size this JVM's heap uses; 0 if its collector is not G1. For tests. */
    static long regionBytes() {
        return REGION;
    }
}
