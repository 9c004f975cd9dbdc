package io.tern.protocol;

import java.util.regex.Pattern;

/**
 * Destinations named by a pattern, as the permissions file and the queue settings write them:
 * {@code queue:NAME}, {@code topic:NAME} or a bare NAME (either kind), where {@code *} in NAME
 * matches any characters (dots too) and everything else matches itself.
 *
 * @param kind  {@link DestinationName.Kind#QUEUE}, {@link DestinationName.Kind#TOPIC}, or null for either
 * @param text  the pattern as written
 */
public record DestinationPattern(DestinationName.Kind kind, Pattern names, String text) {

    /** Every destination. */
    public static final DestinationPattern ANY = parse("*");

    /**
     * @throws IllegalArgumentException if the pattern names nothing ({@code ""}, {@code queue:})
     */
    public static DestinationPattern parse(String text) {
        DestinationName.Kind kind = null;
        String names = text;
        if (text.startsWith("queue:")) {
            kind = DestinationName.Kind.QUEUE;
            names = text.substring(6);
        } else if (text.startsWith("topic:")) {
            kind = DestinationName.Kind.TOPIC;
            names = text.substring(6);
        }
        if (names.isEmpty()) {
            throw new IllegalArgumentException("empty destination pattern '" + text + "'");
        }
        String[] parts = names.split("\\*", -1);
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < parts.length; i++) {
            regex.append(i > 0 ? ".*" : "").append(parts[i].isEmpty() ? "" : Pattern.quote(parts[i]));
        }
        return new DestinationPattern(kind, Pattern.compile(regex.toString()), text);
    }

    /** Whether {@code destination} is one of these (a {@code queue:} pattern does not name temporary queues). */
    public boolean matches(DestinationName destination) {
        return matches(destination.kind(), destination.name());
    }

    public boolean matches(DestinationName.Kind k, String name) {
        return (kind == null || kind == k) && names.matcher(name).matches();
    }

    @Override
    public String toString() {
        return text;
    }
}
