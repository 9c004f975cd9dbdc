package io.tern.broker;

/** A message entry and the queue it goes to (or came from). */
record Placement(MessageQueue queue, QueueEntry entry) {
}
