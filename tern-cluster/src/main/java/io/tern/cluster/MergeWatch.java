package io.tern.cluster;

import org.jgroups.JChannel;
import org.jgroups.protocols.MERGE3;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Keeps JGroups' merge alive on this node. MERGE3 stops both of its tasks (sending its view id to
 * the others, and checking theirs against its own) when a temporary view passes down the stack, and
 * starts them again only when a view is installed; when that view is dropped instead (this node is
 * not in it, or its id is not newer), the tasks stay stopped. A node left in that state and then cut
 * off (paused past failure detection) is never merged back: the others hear nothing from it, and it
 * checks nothing: by a reading of JGroups 5.4.13's MERGE3 and GMS, the likely cause of a member that
 * kept its old view for minutes in one of Tern's 100-cycle chaos runs.
 *
 * <p>Every {@link #PERIOD_MS}, if the tasks have been stopped for two periods in a row while the
 * channel is connected, this node sends its view id itself and, every fourth period, checks the
 * view ids it heard, until a view change starts the tasks again. Both calls are MERGE3's own public
 * operations (what its JMX interface offers).
 */
final class MergeWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MergeWatch.class);
    static final long PERIOD_MS = 2_000;

    private final JChannel channel;
    private final ScheduledExecutorService timer;
    private int stoppedPeriods; // only the timer's thread

    private MergeWatch(JChannel channel, String node) {
        this.channel = channel;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tern-merge-watch-" + node);
            t.setDaemon(true);
            return t;
        });
    }

    /** Watches the channel's MERGE3, if its stack has one; null if not. */
    static MergeWatch start(JChannel channel, String node) {
        if (channel.getProtocolStack().findProtocol(MERGE3.class) == null) {
            return null;
        }
        MergeWatch w = new MergeWatch(channel, node);
        w.timer.scheduleWithFixedDelay(w::check, PERIOD_MS, PERIOD_MS, TimeUnit.MILLISECONDS);
        return w;
    }

    private void check() {
        try {
            MERGE3 merge = channel.getProtocolStack().findProtocol(MERGE3.class);
            if (merge == null || !channel.isConnected()) {
                stoppedPeriods = 0;
                return;
            }
            if (merge.isInfoSenderRunning() && merge.isViewConsistencyCheckerRunning()) {
                if (stoppedPeriods >= 2) {
                    LOG.info("JGroups' merge tasks run again on this node");
                }
                stoppedPeriods = 0;
                return;
            }
            stoppedPeriods++;
            if (stoppedPeriods < 2) {
                return; // a view is being installed: the tasks start again with it
            }
            if (stoppedPeriods == 2) {
                LOG.warn("JGroups' merge tasks stopped on this node and no view started them again: it announces its "
                        + "view itself until one does, so that a split of the cluster can still be merged");
            }
            merge.sendInfo();
            if (stoppedPeriods % 4 == 0) {
                merge.checkInconsistencies();
            }
        } catch (RuntimeException e) {
            LOG.warn("Could not check JGroups' merge tasks: {}", e.toString());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
