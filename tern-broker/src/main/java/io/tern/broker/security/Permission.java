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
    /** Operate the node: drain it, and read or use the web console (and so {@code tern status}). */
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
        throw new IllegalArgumentException("unknown permission '" + word + "' (send, consume, browse, create, delete, manage or all)");
    }
}
