package io.tern.protocol;

import java.util.Objects;

/** A destination as the wire and the broker name it: its kind and its name. */
public record DestinationName(Kind kind, String name) {

    public enum Kind {
        QUEUE, TOPIC, TEMP_QUEUE, TEMP_TOPIC;

        public boolean isQueueLike() {
            return this == QUEUE || this == TEMP_QUEUE;
        }

        public boolean isTemporary() {
            return this == TEMP_QUEUE || this == TEMP_TOPIC;
        }
    }

    public DestinationName {
        Objects.requireNonNull(kind, "kind");
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("destination name must not be empty");
        }
    }

    public static DestinationName queue(String name) {
        return new DestinationName(Kind.QUEUE, name);
    }

    public static DestinationName topic(String name) {
        return new DestinationName(Kind.TOPIC, name);
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase().replace('_', '-') + "://" + name;
    }
}
