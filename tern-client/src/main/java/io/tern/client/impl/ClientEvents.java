package io.tern.client.impl;

import io.tern.client.FailoverEvent;

/**
 * What a connection tells its factory's metrics: it opened, it closed, it moved between servers.
 * Called on the connection's threads; implementations only count.
 */
public interface ClientEvents {
    /** No metrics. */
    ClientEvents NONE = new ClientEvents() {
    };

    default void opened() {
    }

    default void closed() {
    }

    default void failover(FailoverEvent event) {
    }
}
