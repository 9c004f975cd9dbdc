package io.tern.client.impl;

import io.tern.protocol.Deliver;

/**
 * A delivery with the generation of the link it came on. Delivery ids are a server's numbering for
 * one connection, so after a failover only the generation tells two deliveries with the same id apart,
 * and only the server of that generation can acknowledge it.
 */
record Delivery(long gen, Deliver deliver) {
    Tag tag() {
        return new Tag(gen, deliver.deliveryId());
    }

    /** What the session records of a delivery the application holds. */
    record Tag(long gen, long id) {
    }
}
