package io.tern.cluster;

import io.tern.protocol.NodeInfo;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Each member's failover nodes, by node id.
 *
 * @param failover         node id to its failover nodes, best first
 * @param machineRedundant true when every member has at least one failover node and all of them run
 *                         on other machines than the member itself
 */
public record FailoverMap(Map<String, List<NodeInfo>> failover, boolean machineRedundant) {
    public FailoverMap {
        Map<String, List<NodeInfo>> copy = new LinkedHashMap<>();
        failover.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        failover = Collections.unmodifiableMap(copy);
    }

    public List<NodeInfo> of(String nodeId) {
        return failover.getOrDefault(nodeId, List.of());
    }
}
