package io.tern.broker;

import io.tern.protocol.DestinationName;
import io.tern.protocol.DestinationPattern;

import java.util.List;
import java.util.Locale;

/**
 * What becomes of a queue's messages that cannot be delivered: after how many delivery attempts a
 * message goes to which dead-letter queue, and where expired messages go. A node has defaults
 * ({@code --max-deliveries}, {@code --dead-letter-queue}, {@code --expiry-queue}) and rules for the
 * destinations that need other values ({@code --queue-setting 'orders.*:max-deliveries=3'}); every
 * rule whose pattern matches applies, in the order given, so a later rule wins over an earlier one.
 * A subscription follows the rules of its topic.
 *
 * @param maxDeliveries   deliveries after which a message goes to the dead-letter queue
 * @param deadLetterQueue where those go
 * @param expiryQueue     where expired messages go (and are dropped from, once expired there)
 */
public record QueueSettings(int maxDeliveries, String deadLetterQueue, String expiryQueue) {
    public static final QueueSettings DEFAULT = new QueueSettings(10, "DLQ", "ExpiryQueue");

    /** The keys a rule may set, as the flag and the configuration file write them. */
    public static final List<String> KEYS = List.of("max-deliveries", "dead-letter-queue", "expiry-queue");

    public QueueSettings {
        if (maxDeliveries < 1) {
            throw new IllegalArgumentException("max-deliveries must be at least 1, not " + maxDeliveries);
        }
        checkQueueName("dead-letter-queue", deadLetterQueue);
        checkQueueName("expiry-queue", expiryQueue);
    }

    private static void checkQueueName(String key, String name) {
        if (name == null || name.isBlank() || name.indexOf('\0') >= 0 || name.startsWith("$")) {
            throw new IllegalArgumentException(key + " must be a queue name (not empty, no NUL, not starting with $): '"
                    + name + "'");
        }
    }

    /**
     * One setting for the destinations of a pattern: {@code PATTERN:KEY=VALUE}, PATTERN as in the
     * permissions file ({@code queue:orders.*}, {@code topic:prices}, {@code audit*}).
     */
    public record Rule(DestinationPattern pattern, String key, String value) {

        public Rule {
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown queue setting '" + key + "' (known: " + String.join(", ", KEYS) + ")");
            }
            DEFAULT.with(key, value); // the value must make valid settings
        }

        /**
         * @throws IllegalArgumentException naming what is wrong with {@code text}
         */
        public static Rule parse(String text) {
            int eq = text.indexOf('=');
            int colon = eq < 0 ? -1 : text.lastIndexOf(':', eq);
            if (colon <= 0) {
                throw new IllegalArgumentException("expected PATTERN:KEY=VALUE (for example 'orders.*:max-deliveries=3'), found '"
                        + text + "'");
            }
            return new Rule(DestinationPattern.parse(text.substring(0, colon)),
                    text.substring(colon + 1, eq).trim().toLowerCase(Locale.ROOT), text.substring(eq + 1).trim());
        }

        @Override
        public String toString() {
            return pattern + ":" + key + "=" + value;
        }
    }

    /** These settings with {@code key} set to {@code value}. */
    QueueSettings with(String key, String value) {
        return switch (key) {
            case "max-deliveries" -> {
                int n;
                try {
                    n = Integer.parseInt(value);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("max-deliveries must be a whole number, not '" + value + "'");
                }
                yield new QueueSettings(n, deadLetterQueue, expiryQueue);
            }
            case "dead-letter-queue" -> new QueueSettings(maxDeliveries, value, expiryQueue);
            case "expiry-queue" -> new QueueSettings(maxDeliveries, deadLetterQueue, value);
            default -> throw new IllegalArgumentException("unknown queue setting '" + key + "'");
        };
    }

    /** The settings of the queue {@code definition}: these, with every matching rule applied in order. */
    QueueSettings forQueue(List<Rule> rules, QueueDefinition definition) {
        QueueSettings s = this;
        if (rules.isEmpty()) {
            return s;
        }
        DestinationName.Kind kind = switch (definition.kind()) {
            case QUEUE -> DestinationName.Kind.QUEUE;
            case TEMPORARY -> DestinationName.Kind.TEMP_QUEUE;
            case DURABLE_SUBSCRIPTION, SUBSCRIPTION -> DestinationName.Kind.TOPIC;
            case TEMPORARY_TOPIC -> DestinationName.Kind.TEMP_TOPIC;
        };
        String name = kind == DestinationName.Kind.TOPIC ? definition.topic() : definition.name();
        for (Rule r : rules) {
            if (r.pattern().matches(kind, name)) {
                s = s.with(r.key(), r.value());
            }
        }
        return s;
    }
}
