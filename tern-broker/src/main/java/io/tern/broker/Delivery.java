package io.tern.broker;

/** One delivery of a queue entry to a consumer, unacknowledged until the session says so. */
record Delivery(long id, MessageQueue queue, QueueEntry entry, ServerConsumer consumer) {

    /** Gives the entry back to its queue (on the queue's executor); {@code counted}: as delivered once more. */
    void giveBack(boolean counted) {
        queue.executor().execute(() -> queue.returned(entry, counted));
    }
}
