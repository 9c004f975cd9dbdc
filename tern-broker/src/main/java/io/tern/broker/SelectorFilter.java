package io.tern.broker;

import io.tern.protocol.DestinationName;
import io.tern.protocol.WireMessage;
import org.apache.activemq.artemis.api.core.SimpleString;
import org.apache.activemq.artemis.selector.filter.BooleanExpression;
import org.apache.activemq.artemis.selector.filter.FilterException;
import org.apache.activemq.artemis.selector.filter.Filterable;
import org.apache.activemq.artemis.selector.impl.SelectorParser;

/**
 * A JMS message selector. The grammar and its three-valued logic come from Apache Artemis'
 * selector parser (a maintained engine with the spec's test suite behind it); this class maps
 * Tern's message headers onto the identifiers the specification allows in a selector.
 */
public final class SelectorFilter {
    private final String text;
    private final BooleanExpression expression;

    private SelectorFilter(String text, BooleanExpression expression) {
        this.text = text;
        this.expression = expression;
    }

    /** Returns null for a null or blank selector (everything matches). */
    public static SelectorFilter parse(String selector) throws InvalidSelectorException {
        return parse(selector, Integer.MAX_VALUE);
    }

    /** As {@link #parse(String)}, refusing a selector longer than {@code maxChars} before parsing it. */
    public static SelectorFilter parse(String selector, int maxChars) throws InvalidSelectorException {
        if (selector == null || selector.isBlank()) {
            return null;
        }
        if (selector.length() > maxChars) {
            throw new InvalidSelectorException("a selector of " + selector.length() + " characters exceeds the maximum of "
                    + maxChars + " (--max-selector-length)");
        }
        try {
            return new SelectorFilter(selector, SelectorParser.parse(selector));
        } catch (FilterException | RuntimeException e) {
            throw new InvalidSelectorException("invalid selector '" + selector + "': " + e.getMessage());
        }
    }

    public boolean matches(WireMessage message, int deliveryCount) {
        try {
            return expression.matches(new View(message, deliveryCount));
        } catch (FilterException | RuntimeException e) {
            return false;
        }
    }

    public String text() {
        return text;
    }

    /** Thrown for a selector that breaks the grammar. */
    public static final class InvalidSelectorException extends Exception {
        public InvalidSelectorException(String message) {
            super(message);
        }
    }

    private record View(WireMessage m, int deliveryCount) implements Filterable {
        @Override
        public <T> T getBodyAs(Class<T> type) {
            return null;
        }

        @Override
        public Object getProperty(SimpleString name) {
            String key = name.toString();
            return switch (key) {
                case "JMSDeliveryMode" -> m.persistent() ? "PERSISTENT" : "NON_PERSISTENT";
                case "JMSPriority" -> m.priority();
                case "JMSMessageID" -> m.messageId();
                case "JMSTimestamp" -> m.timestamp();
                case "JMSCorrelationID" -> m.correlationId();
                case "JMSType" -> m.type();
                case "JMSXDeliveryCount" -> deliveryCount + 1;
                case "JMSDestination" -> destination(m.destination());
                default -> m.properties().get(key);
            };
        }

        private static String destination(DestinationName d) {
            return d == null ? null : d.name();
        }

        @Override
        public Object getLocalConnectionId() {
            return null;
        }
    }
}
