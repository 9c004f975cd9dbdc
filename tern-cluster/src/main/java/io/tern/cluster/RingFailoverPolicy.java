package io.tern.cluster;

import io.tern.protocol.NodeInfo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The view as a ring: a member's failover nodes are the next {@code backups} members after it that
 * run on a different machine. Members on the member's own machine are used only when no other
 * machine is in the view at all; the map then says it has no machine-level redundancy. With fewer
 * eligible members than {@code backups}, a member gets all of them.
 */
public final class RingFailoverPolicy implements FailoverPolicy {
    private final int backups;

    public RingFailoverPolicy(int backups) {
        if (backups < 0) {
            throw new IllegalArgumentException("backups must be >= 0: " + backups);
        }
        this.backups = backups;
    }

    public int backups() {
        return backups;
    }

    @Override
    public FailoverMap compute(List<NodeInfo> members) {
        Map<String, List<NodeInfo>> map = new LinkedHashMap<>();
        boolean redundant = !members.isEmpty() && backups > 0;
        int n = members.size();
        for (int i = 0; i < n; i++) {
            NodeInfo node = members.get(i);
            boolean otherMachineExists = false;
            for (NodeInfo m : members) {
                otherMachineExists |= !m.machineId().equals(node.machineId());
            }
            List<NodeInfo> chosen = new ArrayList<>();
            for (int step = 1; step < n && chosen.size() < backups; step++) {
                NodeInfo next = members.get((i + step) % n);
                if (!otherMachineExists || !next.machineId().equals(node.machineId())) {
                    chosen.add(next);
                }
            }
            redundant &= otherMachineExists && !chosen.isEmpty();
            map.put(node.nodeId(), chosen);
        }
        return new FailoverMap(map, redundant);
    }

    @Override
    public String toString() {
        return "ring(backups=" + backups + ")";
    }
}
