package io.tern.broker;

/** One delivery of a queue entry to a consumer, unacknowledged until the session says so. */
record Delivery(long id, MessageQueue queue, QueueEntry entry, ServerConsumer consumer) {
}
