package io.tern.broker;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * The message groups of one queue's part on this node. The messages of one {@code JMSXGroupID} go to
 * the consumer that took the group's first message here, in order, until that consumer closes; then
 * the next consumer to take one of them owns the group. A message of a group waits for its owner
 * (while it has no credit, or while its selector refuses the message) rather than going to another
 * consumer.
 *
 * <p>Across a cluster with clustered queues ({@link GroupDirectory}) a group has one owning node: a
 * part gives a group's messages only to that node, to one of its own consumers if it is this node,
 * else to that node's cluster link (even a message that moved before: it is routed to its owner). A
 * group no node owns is claimed for this node before one of its consumers takes it; a link takes it
 * only while this node has no consumer of its own, and its node claims it when it arrives. A node
 * keeps the groups it was given while it has a consumer of the queue (the next one takes a group whose
 * consumer closed) and releases them all when its last one closes. A message whose JMSXGroupSeq is -1
 * ends its group: once it is given to a consumer, the group has no consumer, and no owning node once
 * its owner took it. All methods run on the queue's executor.
 */
final class QueueGroups {
    private static final Logger LOG = LoggerFactory.getLogger(QueueGroups.class);

    /** What a consumer may do with a message of a group. */
    enum Verdict {
        /** Take it. */
        TAKE,
        /** Leave it: another consumer's group, or one this node must claim first. */
        NOT_THIS,
        /** Take it through the link of the node that owns the group, even if it moved before. */
        ROUTED
    }

    private final Broker broker;
    private final String queue;
    private final SerialExecutor executor;
    private final Runnable dispatch;
    /** True while this node has no consumer of its own on the queue. */
    private final BooleanSupplier noLocalConsumer;
    /** How long a claim the directory could not decide yet waits before it is asked again. */
    private static final long CLAIM_RETRY_MS = 100;
    /** The consumer each group's messages go to, until it closes. */
    private final Map<String, ServerConsumer> holders = new HashMap<>();
    /** Groups asked of the directory for this node, and groups it was given. */
    private final Set<String> claiming = new HashSet<>();
    private final Set<String> claimedHere = new HashSet<>();

    QueueGroups(Broker broker, String queue, SerialExecutor executor, Runnable dispatch, BooleanSupplier noLocalConsumer) {
        this.broker = broker;
        this.queue = queue;
        this.executor = executor;
        this.dispatch = dispatch;
        this.noLocalConsumer = noLocalConsumer;
    }

    /**
     * Whether {@code consumer} may take a message of {@code group}; {@code localConsumersHere} says
     * whether this node has consumers of its own (asked only of a link's consumer).
     */
    Verdict verdict(String group, ServerConsumer consumer, boolean localConsumersHere) {
        ServerConsumer holder = holders.get(group);
        if (holder != null) {
            return holder != consumer ? Verdict.NOT_THIS : consumer.remote ? Verdict.ROUTED : Verdict.TAKE;
        }
        GroupDirectory directory = broker.destinations().groups();
        if (directory == null) {
            return Verdict.TAKE;
        }
        String owner = directory.owner(queue, group);
        if (owner == null) {
            if (!consumer.remote) {
                claim(directory, group);
                return Verdict.NOT_THIS;
            }
            return localConsumersHere ? Verdict.NOT_THIS : Verdict.TAKE;
        }
        if (consumer.remote) {
            return owner.equals(consumer.session.connection.linkPeer) ? Verdict.ROUTED : Verdict.NOT_THIS;
        }
        return owner.equals(broker.nodeId()) ? Verdict.TAKE : Verdict.NOT_THIS;
    }

    /** {@code consumer} took a message of {@code group}: the group is its own until it closes. */
    void taken(String group, ServerConsumer consumer) {
        holders.putIfAbsent(group, consumer);
    }

    /**
     * {@code consumer} took the message that ends {@code group} (its JMSXGroupSeq is -1): the group
     * has no consumer any more, and across a cluster this node lets it go (if {@code consumer} is a
     * link, the node at its other end does, when its own consumer takes the message).
     */
    void closed(String group, ServerConsumer consumer) {
        holders.remove(group);
        GroupDirectory directory = broker.destinations().groups();
        if (directory != null && !consumer.remote && claimedHere.contains(group)) {
            release(directory, group);
        }
    }

    /**
     * {@code consumer} closed: its groups go to whoever takes them next. Across a cluster this node
     * keeps the groups it owns while it has consumers of its own (the next of them takes each), and
     * releases them all when its last one closes: a group released while another consumer here may
     * still take it could end up owned here and elsewhere at once.
     */
    void consumerClosed(ServerConsumer consumer) {
        holders.values().removeIf(h -> h == consumer);
        GroupDirectory directory = broker.destinations().groups();
        if (directory != null && !consumer.remote && noLocalConsumer.getAsBoolean()) {
            List.copyOf(claimedHere).forEach(g -> release(directory, g)); // none here to take them
        }
    }

    /** The directory says {@code group} was claimed or released somewhere. */
    void changed(String group, boolean released) {
        ServerConsumer holder = holders.get(group);
        if (released && holder != null && holder.remote) {
            holders.remove(group); // the node of that link let it go
        }
        if (released) {
            claimedHere.remove(group);
            return;
        }
        GroupDirectory directory = broker.destinations().groups();
        String owner = directory == null ? null : directory.owner(queue, group);
        if (holder != null && owner != null
                && !owner.equals(holder.remote ? holder.session.connection.linkPeer : broker.nodeId())) {
            holders.remove(group); // held here for another node than the one that owns it now
        }
        if (owner != null && !owner.equals(broker.nodeId())) {
            claimedHere.remove(group);
        }
    }

    private void release(GroupDirectory directory, String group) {
        claimedHere.remove(group);
        directory.release(queue, group);
    }

    private void claim(GroupDirectory directory, String group) {
        if (!claiming.add(group)) {
            return;
        }
        directory.claim(queue, group).whenComplete((owner, failure) -> executor.execute(() -> {
            claiming.remove(group);
            if (failure != null || owner == null) {
                // Undecided (the arbiter does not know this node yet, or is unreachable): asked again shortly.
                if (failure != null) {
                    LOG.warn("Could not claim message group {} of queue {}: {}", group, queue, failure.toString());
                }
                broker.scheduler().schedule(() -> executor.execute(dispatch), CLAIM_RETRY_MS,
                        java.util.concurrent.TimeUnit.MILLISECONDS);
                return;
            }
            if (broker.nodeId().equals(owner)) {
                claimedHere.add(group);
                if (noLocalConsumer.getAsBoolean()) {
                    release(directory, group); // its consumer closed while the claim was on its way
                    return;
                }
            }
            dispatch.run();
        }));
    }
}
