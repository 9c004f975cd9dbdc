package io.tern.protocol;

/**
 * A message pushed to a consumer. {@code deliveryId} names this delivery within its session (the
 * client acknowledges by it); {@code deliveryCount} is JMSXDeliveryCount (1 on first delivery).
 */
public record Deliver(long consumerId, long deliveryId, int deliveryCount, WireMessage message) implements Frame {
    /** What a delivery of {@code message} takes of a consumer's byte window: its body's length, at least 1. */
    public static int creditBytes(WireMessage message) {
        return Math.max(1, message.body() == null ? 0 : message.body().length);
    }
}
