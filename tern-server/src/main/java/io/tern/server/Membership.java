package io.tern.server;

import io.tern.cluster.ClusterNode;
import io.tern.cluster.ClusteredNode;
import io.tern.cluster.FailoverPolicy;
import io.tern.cluster.MachineId;
import io.tern.cluster.RingFailoverPolicy;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.NodeInfo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Wires a node into its cluster: the options become a stack and settings, {@link ClusteredNode} does the rest. */
final class Membership {
    private final ClusteredNode clustered;
    private final ClusterNode node;

    ClusteredNode clustered() {
        return clustered;
    }

    private Membership(ClusteredNode clustered) {
        this.clustered = clustered;
        this.node = clustered.cluster();
    }

    /**
     * Joins the cluster of {@code options}, or returns null with {@code --stack none}. With a
     * replicating store, also replicates, takes over dead nodes, and (holding clients meanwhile)
     * checks whether this node itself was taken over while it was gone.
     */
    static Membership join(ServerOptions options, TernServer server, io.tern.cluster.ReplicatingStore replicating,
                           String consoleUri, io.tern.cluster.ClusterSecret secret) throws Exception {
        if ("none".equals(options.stack) && options.jgroupsFile == null) {
            return null;
        }
        String stack = options.jgroupsFile != null ? options.jgroupsFile : options.stack;
        Map<String, String> props = new HashMap<>();
        props.put("bind_addr", options.clusterBind != null ? options.clusterBind : options.bind);
        props.put("mcast_addr", options.clusterAddress);
        props.put("ip_ttl", isLoopback(props.get("bind_addr")) ? "0" : "1");
        if (options.clusterPort != null) {
            props.put("udp".equals(stack) ? "mcast_port" : "bind_port", Integer.toString(options.clusterPort));
        }
        if (options.seeds != null) {
            props.put("seeds", toInitialHosts(options.seeds));
        }
        if (options.dnsQuery != null) {
            props.put("dns_query", options.dnsQuery);
        }
        if (options.dnsAddress != null) {
            props.put("dns_address", options.dnsAddress);
        }
        if (options.fdTimeoutMs != null) {
            props.put("fd_timeout", Long.toString(options.fdTimeoutMs));
        }
        NodeInfo self = new NodeInfo(server.broker().nodeId(), options.name, MachineId.resolve(options.machineId),
                List.of(server.url()), consoleUri);
        ClusterNode.Config config = new ClusterNode.Config(options.cluster, stack, props,
                policy(options.failoverPolicy, options.backups), options.quorum, secret);
        ClusteredNode.Settings settings = ClusteredNode.Settings.defaults(options.dataDir().resolve("takeovers"))
                .withAdmissionWaitMs(options.admissionWaitMs()).withTakeoverPauseMs(options.faultTakeoverPauseMs)
                .withClusteredQueues(options.clusteredQueues);
        return new Membership(ClusteredNode.join(server.broker(), replicating, config, self, settings));
    }

    private static boolean isLoopback(String address) {
        try {
            return java.net.InetAddress.getByName(address).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    /** {@code h1:p1,h2:p2} as TCPPING wants it: {@code h1[p1],h2[p2]}. */
    static String toInitialHosts(String seeds) {
        List<String> hosts = new ArrayList<>();
        for (String seed : seeds.split(",")) {
            String s = seed.trim();
            int colon = s.lastIndexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("a seed must be host:port: " + s);
            }
            hosts.add(s.substring(0, colon) + "[" + Integer.parseInt(s.substring(colon + 1)) + "]");
        }
        return String.join(",", hosts);
    }

    static FailoverPolicy policy(String className, int backups) throws ReflectiveOperationException {
        if (className == null) {
            return new RingFailoverPolicy(backups);
        }
        Class<?> c = Class.forName(className);
        if (!FailoverPolicy.class.isAssignableFrom(c)) {
            throw new IllegalArgumentException(className + " does not implement " + FailoverPolicy.class.getName());
        }
        return (FailoverPolicy) c.getConstructor(int.class).newInstance(backups);
    }

    ClusterTopology topology() {
        return node.topology();
    }

    /** Where a client of this stopping node goes ({@link io.tern.cluster.ClusteredNode#nextServer}). */
    String nextTarget() {
        return clustered.nextServer();
    }

    void leave() {
        clustered.close();
    }
}
