package io.tern.client.impl;

import io.tern.protocol.ClusterTopology;

import java.util.concurrent.atomic.AtomicReference;

/**
 * The cluster list a client knows, shared by every connection made from one factory. Requests carry
 * its digest; a response that carries a topology replaces it.
 */
public final class TopologyHolder {
    private record Known(ClusterTopology topology, long digest) {
    }

    private final AtomicReference<Known> known = new AtomicReference<>(new Known(null, ClusterTopology.UNKNOWN_DIGEST));

    public long digest() {
        return known.get().digest();
    }

    public ClusterTopology topology() {
        return known.get().topology();
    }

    void update(ClusterTopology topology) {
        known.set(new Known(topology, topology.digest()));
    }
}
