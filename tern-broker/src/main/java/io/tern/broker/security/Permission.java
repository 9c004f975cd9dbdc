package io.tern.broker.security;

import java.util.Locale;

/** What a user may do; granted to roles per destination pattern in the permissions file. */
public enum Permission {
    /** Send to a destination. */
    SEND,
    /** Consume from a queue or subscribe to a topic. */
    CONSUME,
    /** Browse a queue. */
    BROWSE,
    /** Bring a queue into being by sending to it or consuming from it first. */
    CREATE,
    /** Delete a durable subscription of a topic (unsubscribe). */
    DELETE,
    /** See the node and change nothing: the web console's pages and API, {@code /metrics}, {@code tern status}. */
    MONITOR,
    /** Operate the node: drain it from the console or {@code tern drain}; implies {@code monitor}. */
    MANAGE;

    /** As written in the permissions file and in errors: {@code send}, {@code consume}, ... */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    static Permission parse(String word) {
        for (Permission p : values()) {
            if (p.word().equals(word)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown permission '" + word + "' (send, consume, browse, create, delete, monitor, manage or all)");
    }
}
