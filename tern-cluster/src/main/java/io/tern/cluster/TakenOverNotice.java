package io.tern.cluster;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Telling members that they were taken over ('T'): when the takeover is done, at view changes, when
 * one hands this node something it no longer owns, and again every second while one is in the view
 * and has not said it discarded ('P', and the record goes). Those 'T's can all be lost (a member
 * merged back over a lossy link) or go unheeded (its discard failed), and no view change need follow:
 * it would go on serving messages its taker owns now.
 *
 * <pre>
 * message := 'T' epoch:i64 taker:utf
 * </pre>
 */
final class TakenOverNotice implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TakenOverNotice.class);
    /** How often, at most, this node tells a node that keeps handing it things that it was taken over. */
    private static final long TELL_EVERY_NS = 500_000_000L;
    /** How often a member this node recorded a takeover of is told again while it is in the view and has not discarded. */
    private static final long RETELL_EVERY_MS = 1_000;

    private final ClusterNode node;
    private final TakeoverRecords records;
    private final LongSupplier clock;
    /** Nodes not to tell again now: this node, and those being taken over (here, or waiting for a try). */
    private final Predicate<String> notNow;
    /** When this node last told a node that it was taken over: node id to clock ns. */
    private final Map<String, Long> told = new ConcurrentHashMap<>();
    // A thread of its own: a send to a member out of flow-control credit may block.
    private final ScheduledExecutorService retell = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "tern-retell");
        t.setDaemon(true);
        return t;
    });

    TakenOverNotice(ClusterNode node, TakeoverRecords records, LongSupplier nanoClock, Predicate<String> notNow) {
        this.node = node;
        this.records = records;
        this.clock = nanoClock;
        this.notNow = notNow;
        retell.scheduleWithFixedDelay(this::tellMembers, RETELL_EVERY_MS, RETELL_EVERY_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * {@code primary} replicated to this node, or handed it messages, although a takeover of it is
     * recorded here (it was paused or cut off and does not know yet): tell it now, so that it fails
     * its commits and discards at once instead of waiting for the merged view; at most every 0.5 s.
     */
    void tellTakenOver(String primary) {
        TakeoverRecords.Record r = records.get(primary);
        long now = clock.getAsLong();
        Long last = told.get(primary);
        if (r == null || (last != null && now - last < TELL_EVERY_NS)) {
            return;
        }
        told.put(primary, now);
        tell(primary, r);
    }

    /** Tells {@code nodeId} that it was taken over if a takeover of it is recorded and it is a member again. */
    void tellIfBack(String nodeId) {
        TakeoverRecords.Record r = records.get(nodeId);
        if (r != null && node.incarnation(nodeId) != null) {
            tell(nodeId, r);
        }
    }

    /** Tells {@code nodeId} that it was taken over, by {@code r}. */
    void tell(String nodeId, TakeoverRecords.Record r) {
        node.send(nodeId, ClusterCodec.encode('T', out -> {
            out.writeLong(r.epoch());
            out.writeUTF(r.taker());
        }));
    }

    private void tellMembers() {
        try {
            records.all().keySet().forEach(id -> {
                if (!notNow.test(id) && node.incarnation(id) != null) {
                    tellTakenOver(id);
                }
            });
        } catch (RuntimeException e) {
            LOG.warn("Could not tell the members taken over that they were: {}", e.toString()); // tried again in a second
        }
    }

    @Override
    public void close() {
        retell.shutdownNow();
    }
}
