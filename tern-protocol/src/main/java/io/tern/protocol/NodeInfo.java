package io.tern.protocol;

import java.util.List;
import java.util.Objects;

/** One member of a cluster as clients and other members see it. */
public record NodeInfo(String nodeId, String name, String machineId, List<String> clientUris, String consoleUri) {
    public NodeInfo {
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(name, "name");
        machineId = machineId == null ? "" : machineId;
        clientUris = List.copyOf(clientUris);
        consoleUri = consoleUri == null ? "" : consoleUri;
    }
}
