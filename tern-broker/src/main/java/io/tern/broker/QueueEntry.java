package io.tern.broker;

import io.tern.protocol.WireMessage;

/** A message in one queue. Mutable fields are touched only on that queue's executor. */
final class QueueEntry {
    final long sequence;
    final WireMessage message;
    final int size;
    /** True when the entry is in the store (a persistent message in a durable queue). */
    final boolean durable;
    /** The connection that sent it, for noLocal; null after a restart. */
    final Object origin;
    /** Deliveries that counted (the application may have seen them). */
    int deliveryCount;

    /** Its message group (JMSXGroupID), read once: the queue asks for it on every dispatch. Null if none. */
    final String group;
    /** True if its JMSXGroupSeq is -1: its group ends with it, and the group's next message may go to any consumer. */
    final boolean closesGroup;

    QueueEntry(long sequence, WireMessage message, boolean durable, Object origin, int deliveryCount) {
        this.sequence = sequence;
        this.message = message;
        Object g = message.properties().get(MessageQueue.GROUP_ID);
        this.group = g == null ? null : g.toString();
        this.closesGroup = group != null && message.properties().get(MessageQueue.GROUP_SEQ) instanceof Number n
                && n.longValue() == -1;
        this.size = (int) Math.min(Integer.MAX_VALUE, HeapCost.of(message));
        this.durable = durable;
        this.origin = origin;
        this.deliveryCount = deliveryCount;
    }
}
