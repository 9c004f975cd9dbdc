package io.tern.protocol;

/**
 * A message pushed to a consumer. {@code deliveryId} names this delivery within its session (the
 * client acknowledges by it); {@code deliveryCount} is JMSXDeliveryCount (1 on first delivery).
 */
public record Deliver(long consumerId, long deliveryId, int deliveryCount, WireMessage message) implements Frame {
}
