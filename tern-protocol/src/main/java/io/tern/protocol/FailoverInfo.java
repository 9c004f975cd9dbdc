package io.tern.protocol;

import java.util.List;
import java.util.Objects;

/** Where a node's clients and replicas go when it dies: the failover node's id, cluster address and URIs. */
public record FailoverInfo(String nodeId, String address, List<String> clientUris) {
    public FailoverInfo {
        Objects.requireNonNull(nodeId, "nodeId");
        address = address == null ? "" : address;
        clientUris = List.copyOf(clientUris);
    }
}
