package io.tern.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.tern.client.TernConnectionFactory;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.FailoverInfo;
import io.tern.protocol.NodeInfo;
import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tern status}: the cluster as a node sees it: members, machines, failover map, quorum. */
@Command(name = "status", description = "Show the members, machines and failover map of the cluster of a server.")
final class StatusCommand implements Callable<Integer> {

    @Option(names = "--url", required = true, description = "A server of the cluster, e.g. tern://127.0.0.1:5445")
    String url;

    @Option(names = "--json", description = "Print JSON instead of a table")
    boolean json;

    @Option(names = {"--user"}, description = "User name, if the server requires one")
    String user;

    @Option(names = {"--password"}, description = "Password, if the server requires one")
    String password;

    @Override
    public Integer call() throws Exception {
        ClusterTopology t;
        try {
            t = topologyOf(url, user, password);
        } catch (JMSException e) {
            System.err.println("cannot ask " + url + ": " + e.getMessage());
            return ExitCodes.FAILED;
        }
        if (t == null) {
            System.err.println(url + " sent no cluster list");
            return ExitCodes.FAILED;
        }
        System.out.print(json ? json(t) : table(t));
        return ExitCodes.OK;
    }

    /** The cluster list the server at {@code url} sends; null if it sends none. */
    static ClusterTopology topologyOf(String url, String user, String password) throws JMSException {
        TernConnectionFactory cf = new TernConnectionFactory(url + (url.contains("?") ? "&" : "?") + "failover=false");
        try (Connection c = cf.createConnection(user, password)) {
            c.createSession().close(); // any answer brings the cluster list
            return cf.clusterTopology();
        }
    }

    private static List<String> failoverNames(ClusterTopology t, NodeInfo n) {
        Map<String, String> names = new LinkedHashMap<>();
        t.members().forEach(m -> names.put(m.nodeId(), m.name()));
        List<String> out = new ArrayList<>();
        for (FailoverInfo f : t.failover().getOrDefault(n.nodeId(), List.of())) {
            out.add(names.getOrDefault(f.nodeId(), f.nodeId()));
        }
        return out;
    }

    static String table(ClusterTopology t) {
        StringBuilder b = new StringBuilder();
        String row = "%-14s %-36s %-34s %-28s %s%n";
        b.append(String.format(row, "NAME", "NODE ID", "MACHINE", "URIS", "FAILOVER"));
        for (NodeInfo n : t.members()) {
            b.append(String.format(row, n.name(), n.nodeId(), n.machineId(), String.join(",", n.clientUris()),
                    String.join(",", failoverNames(t, n))));
        }
        b.append(t.members().size()).append(" member(s); quorum ").append(t.quorum() ? "held"
                        : "NOT held" + (t.missing().isEmpty() ? "" : " (missing: " + String.join(", ", t.missing()) + ")"))
                .append("; machine-level redundancy ").append(t.machineRedundant() ? "yes" : "no").append(System.lineSeparator());
        return b.toString();
    }

    static String json(ClusterTopology t) throws Exception {
        List<Map<String, Object>> members = new ArrayList<>();
        for (NodeInfo n : t.members()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", n.name());
            m.put("nodeId", n.nodeId());
            m.put("machineId", n.machineId());
            m.put("uris", n.clientUris());
            m.put("failover", failoverNames(t, n));
            members.add(m);
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("members", members);
        root.put("quorum", t.quorum());
        root.put("missing", t.missing());
        root.put("machineRedundant", t.machineRedundant());
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root) + System.lineSeparator();
    }
}
