package io.tern.it;

import org.jgroups.Message;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.stack.Protocol;
import org.jgroups.stack.ProtocolStack;
import org.jgroups.util.MessageBatch;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A JGroups layer for fault injection: on the node it sits in, drops the cluster messages of one
 * type (the byte after the codec's version: {@code 'l'} a cluster link's requests, {@code 'm'} its
 * deliveries) that come up and that {@code when} picks.
 */
final class DropsClusterMessages extends Protocol {
    final AtomicInteger dropped = new AtomicInteger();
    private final char type;
    private final Predicate<Message> when;

    private DropsClusterMessages(char type, Predicate<Message> when) {
        this.type = type;
        this.when = when;
    }

    /** Puts the layer into {@code node}'s stack, below GMS. */
    static DropsClusterMessages into(InJvmCluster.Node node, char type, Predicate<Message> when) throws Exception {
        DropsClusterMessages layer = new DropsClusterMessages(type, when);
        node.cluster().jgroupsChannel().getProtocolStack().insertProtocol(layer, ProtocolStack.Position.BELOW, GMS.class);
        return layer;
    }

    private boolean drops(Message msg) {
        byte[] a = msg.getArray();
        if (a != null && msg.getLength() > 1 && a[msg.getOffset() + 1] == type && when.test(msg)) {
            dropped.incrementAndGet();
            return true;
        }
        return false;
    }

    @Override
    public Object up(Message msg) {
        return drops(msg) ? null : up_prot.up(msg);
    }

    @Override
    public void up(MessageBatch batch) {
        batch.removeIf(this::drops, true); // every match: with false, JGroups removes only the first
        if (!batch.isEmpty()) {
            up_prot.up(batch);
        }
    }
}
