package io.tern.cluster;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A backup's replica of an earlier start of its primary, kept from the new start. The primary
 * restarted before its earlier start was found gone, and this node has not planned (or is not the
 * one to plan) that start's takeover yet: the replica of the earlier start, still a member of the
 * view, is what that takeover takes, and the new start's snapshot would overwrite it. That snapshot
 * is not kept: the new start is told it is out of sync and tries again shortly, until the earlier
 * start is taken over (its replica leaves this node's hands) or leaves the view. The rest of the
 * refused snapshot, and the new start's batches, are not kept either (that start is the only one
 * that sends: the earlier one is dead, its data directory is the new one's).
 */
final class EarlierStarts {
    private static final Logger LOG = LoggerFactory.getLogger(EarlierStarts.class);

    /** Primary to the start of it whose snapshot is not kept here. */
    private final Map<String, String> refused = new ConcurrentHashMap<>();

    /**
     * True if {@code message} from {@code from} was dealt with here (answered through {@code answer},
     * or ignored): {@code existing}, this node's replica of {@code from} (null: none), is of an earlier
     * start still in the view and the message is of a later one.
     */
    boolean keeps(ClusterNode node, String from, Replica existing, ReplicationMessage message, Consumer<byte[]> answer) {
        if (existing == null || existing.incarnation().isEmpty()) {
            refused.remove(from);
            return false;
        }
        if (message instanceof ReplicationMessage.SnapshotBegin s) {
            if (s.incarnation().isEmpty() || existing.incarnation().equals(s.incarnation())
                    || !node.startInView(existing.incarnation())) {
                refused.remove(from);
                return false;
            }
            if (!s.incarnation().equals(refused.put(from, s.incarnation()))) {
                LOG.info("Replica of {} kept: it is of an earlier start of that node, still in the view; the snapshots "
                        + "of its new start are not kept until that start is taken over or gone", from);
            }
            answer.accept(new ReplicationMessage.OutOfSync(s.cut()).encode());
            return true;
        }
        if (!refused.containsKey(from)) {
            return false;
        }
        if (message instanceof ReplicationMessage.Batch b) {
            answer.accept(new ReplicationMessage.OutOfSync(b.seq()).encode());
        }
        return true;
    }
}
