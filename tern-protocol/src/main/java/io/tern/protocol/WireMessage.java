package io.tern.protocol;

import java.util.Map;

/**
 * A message as it crosses the wire and sits in the broker: the JMS headers, the properties and the
 * body already encoded by the client. The broker never looks inside the body.
 *
 * @param messageId     JMSMessageID, or null when the producer disabled ids
 * @param bodyType      one of the {@code BODY_*} constants
 * @param correlationId JMSCorrelationID (bytes are carried as ISO-8859-1 text)
 * @param properties    property name to Boolean, Byte, Short, Integer, Long, Float, Double or String
 */
public record WireMessage(String messageId, byte bodyType, DestinationName destination,
                          DestinationName replyTo, String correlationId, String type,
                          boolean persistent, int priority, long timestamp, long expiration,
                          long deliveryTime, Map<String, Object> properties, byte[] body) {

    public static final byte BODY_NONE = 0;
    public static final byte BODY_BYTES = 1;
    public static final byte BODY_TEXT = 2;
    public static final byte BODY_MAP = 3;
    public static final byte BODY_OBJECT = 4;
    public static final byte BODY_STREAM = 5;

    /** Property that carries the duplicate-detection id of a send. */
    public static final String DUPLICATE_ID = "JMS_TERN_DUPLICATE_ID";
    /** Property that counts how often the message moved from one node of the cluster to another. */
    public static final String MOVES = "JMS_TERN_MOVES";

    public WireMessage {
        if (priority < 0 || priority > 9) {
            throw new IllegalArgumentException("priority must be 0..9: " + priority);
        }
        properties = properties == null ? Map.of() : properties;
    }

    /** Approximate heap and wire size, used for memory limits and flow control. */
    public int estimatedSize() {
        int size = 96 + (body == null ? 0 : body.length);
        for (Map.Entry<String, Object> e : properties.entrySet()) {
            size += 16 + e.getKey().length() * 2;
            size += e.getValue() instanceof String s ? s.length() * 2 : 8;
        }
        return size;
    }

    public String duplicateId() {
        Object id = properties.get(DUPLICATE_ID);
        return id == null ? null : id.toString();
    }

    /** How often the message moved between nodes (0: it is on the node it was sent to). */
    public int moves() {
        return properties.get(MOVES) instanceof Integer n ? n : 0;
    }

    /**
     * What tells this message apart wherever it moves: its duplicate-detection id, else its message
     * id (with a prefix, so that it never equals a duplicate-detection id); null if it has neither.
     */
    public String moveKey() {
        String dup = duplicateId();
        return dup != null ? dup : messageId == null ? null : "moved:" + messageId;
    }

    /**
     * What a node that stores this message as moved remembers it by: its move key and its move
     * count. The same copy given twice (a move in doubt given again) has the same one; the message
     * moving on and coming back later has a higher count, so a node it once was on still takes it.
     */
    public String moveDedupKey() {
        String key = moveKey();
        return key == null ? null : key + "#" + moves();
    }

    /** This message after one more move between nodes. */
    public WireMessage moved() {
        Map<String, Object> p = new java.util.LinkedHashMap<>(properties);
        p.put(MOVES, moves() + 1);
        return new WireMessage(messageId, bodyType, destination, replyTo, correlationId, type, persistent, priority,
                timestamp, expiration, deliveryTime, java.util.Collections.unmodifiableMap(p), body);
    }

    public boolean isExpired(long nowMs) {
        return expiration > 0 && expiration <= nowMs;
    }
}
