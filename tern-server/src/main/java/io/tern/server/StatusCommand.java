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

/**
 * {@code tern status}: the cluster as a node sees it: members with their states, machines, failover
 * map, quorum; with {@code --queues}, each member's part of every queue. A member's state and queues
 * are asked from its console.
 */
@Command(name = "status", description = "Show the members (with their states), machines and failover map of the cluster of a server; "
        + "with --queues, every queue's depth on each node and the messages moved between nodes.")
final class StatusCommand implements Callable<Integer> {

    @Option(names = "--url", required = true, description = "A server of the cluster, e.g. tern://127.0.0.1:5445")
    String url;

    @Option(names = "--json", description = "Print JSON instead of a table")
    boolean json;

    @Option(names = "--queues", description = "Also show each node's part of every queue: depth, in flight, consumers, "
            + "messages moved in from and out to other nodes (read from each member's console)")
    boolean queues;

    @Option(names = {"--user"}, description = "User name, if the server requires one")
    String user;

    @Option(names = {"--password-file"}, description = "File holding the password, if the server requires one (or env "
            + "TERN_PASSWORD; never the password itself on the command line, where every local user could read it)")
    java.nio.file.Path passwordFile;

    /** The password from {@code --password-file} or the environment; null if none. */
    private String password() throws java.io.IOException {
        return passwordFile != null ? java.nio.file.Files.readString(passwordFile).strip() : System.getenv("TERN_PASSWORD");
    }

    @Override
    public Integer call() throws Exception {
        String password = password();
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
        // Each member's state (and, with --queues, its queues) comes from its own console.
        Map<String, Object> nodes = nodeViews(t, user, password, url, queues ? "/api/node" : "/health/live");
        if (json) {
            System.out.print(json(t, nodes, queues));
        } else {
            System.out.print(table(t, nodes) + (queues ? queueTable(nodes) : ""));
        }
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

    /**
     * A member's state ({@code NodeState}, as its log and console name it) from its console's view;
     * {@code ?} if its console could not be read (the reason is in the view).
     */
    static String stateOf(Object view) {
        return view instanceof com.fasterxml.jackson.databind.JsonNode node && node.hasNonNull("state")
                ? node.get("state").asText() : "?";
    }

    static String table(ClusterTopology t, Map<String, Object> views) {
        StringBuilder b = new StringBuilder();
        String row = "%-14s %-10s %-36s %-34s %-28s %s%n";
        b.append(String.format(row, "NAME", "STATE", "NODE ID", "MACHINE", "URIS", "FAILOVER"));
        List<String> unread = new ArrayList<>();
        for (NodeInfo n : t.members()) {
            Object view = views.get(n.name());
            if (!(view instanceof com.fasterxml.jackson.databind.JsonNode)) {
                unread.add(n.name() + ": " + view);
            }
            b.append(String.format(row, n.name(), stateOf(view), n.nodeId(), n.machineId(), String.join(",", n.clientUris()),
                    String.join(",", failoverNames(t, n))));
        }
        unread.forEach(u -> b.append("state not known of ").append(u).append(System.lineSeparator()));
        b.append(t.members().size()).append(" member(s); quorum ").append(t.quorum() ? "held"
                        : "NOT held" + (t.missing().isEmpty() ? "" : " (missing: " + String.join(", ", t.missing()) + ")"))
                .append("; machine-level redundancy ").append(t.machineRedundant() ? "yes" : "no").append(System.lineSeparator());
        return b.toString();
    }

    /**
     * Each member's answer to {@code path} on its console, by name, asked of all in parallel: its JSON,
     * or why there is none. {@code /health/live} (the state) needs no credentials; {@code /api/node}
     * (the queues) gets the user's, where they may go.
     */
    static Map<String, Object> nodeViews(ClusterTopology t, String user, String password, String url, String path) {
        java.net.http.HttpClient.Builder client = java.net.http.HttpClient.newBuilder().connectTimeout(java.time.Duration.ofSeconds(5));
        io.tern.client.impl.ClientUrl parsed = io.tern.client.impl.ClientUrl.parse(url);
        if (parsed.tls()) {
            // The consoles of TLS nodes speak HTTPS with the nodes' certificates: trust what the client URL trusts.
            String trust = parsed.option("trust", null);
            String trustPassword = parsed.option("trustPassword", null);
            client.sslContext(io.tern.protocol.TlsSettings.trusting(trust == null ? null : java.nio.file.Path.of(trust),
                    trustPassword == null ? null : trustPassword.toCharArray()).jdkContext(false));
        }
        java.net.http.HttpClient http = client.build();
        boolean credentials = user != null && !path.startsWith("/health/");
        Map<String, java.util.concurrent.CompletableFuture<Object>> asked = new LinkedHashMap<>();
        ObjectMapper mapper = new ObjectMapper();
        for (NodeInfo n : t.members()) {
            if (n.consoleUri().isEmpty()) {
                asked.put(n.name(), java.util.concurrent.CompletableFuture.completedFuture("no console (started with --no-console)"));
                continue;
            }
            java.net.http.HttpRequest.Builder get = java.net.http.HttpRequest.newBuilder(java.net.URI.create(n.consoleUri() + path))
                    .timeout(java.time.Duration.ofSeconds(5));
            java.net.URI console = java.net.URI.create(n.consoleUri());
            // Credentials go to a console that proves itself (HTTPS), on the host the URL names, or in an authenticated list.
            boolean https = "https".equals(console.getScheme());
            boolean trusted = parsed.tls() ? https // a TLS URL: the password never goes over plain HTTP
                    : https || t.authenticated() || parsed.servers().stream().anyMatch(s -> s.host().equals(console.getHost()));
            if (credentials && !trusted) {
                asked.put(n.name(), java.util.concurrent.CompletableFuture.completedFuture(
                        "not sending the password to " + n.consoleUri() + ": the cluster list is not authenticated"));
                continue;
            }
            if (credentials) {
                get.header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(
                        (user + ":" + (password == null ? "" : password)).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            }
            asked.put(n.name(), http.sendAsync(get.build(), java.net.http.HttpResponse.BodyHandlers.ofString()).handle((r, failure) -> {
                if (failure != null) {
                    Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
                    return "its console did not answer: " + cause.getMessage();
                }
                // /health/live answers 200 with the state while the node answers; /api/node 200 with its view
                if (r.statusCode() != 200) {
                    return "its console answered HTTP " + r.statusCode();
                }
                try {
                    return mapper.readTree(r.body());
                } catch (java.io.IOException e) {
                    return "its console answered something else than JSON: " + e.getMessage();
                }
            }));
        }
        Map<String, Object> views = new LinkedHashMap<>();
        asked.forEach((name, answer) -> views.put(name, answer.join()));
        return views;
    }

    static String queueTable(Map<String, Object> views) {
        StringBuilder b = new StringBuilder(System.lineSeparator());
        String row = "%-14s %-40s %-22s %9s %9s %9s %9s %9s %9s%n";
        b.append(String.format(row, "NODE", "QUEUE", "KIND", "MESSAGES", "IN-FLIGHT", "PAGED", "CONSUMERS", "MOVED-IN",
                "MOVED-OUT"));
        views.forEach((name, view) -> {
            if (!(view instanceof com.fasterxml.jackson.databind.JsonNode node)) {
                b.append(String.format("%-14s %s%n", name, view));
                return;
            }
            for (com.fasterxml.jackson.databind.JsonNode q : node.get("queues")) {
                b.append(String.format(row, name, q.get("name").asText(), q.get("kind").asText(), q.get("messages").asInt(),
                        q.get("inFlight").asInt(), q.path("paged").asInt(), q.get("consumers").asInt(), q.get("movedIn").asLong(), q.get("movedOut").asLong()));
            }
        });
        return b.toString();
    }

    /** The cluster with each member's state, and with {@code queues} each member's queues (or why they could not be read), as JSON. */
    static String json(ClusterTopology t, Map<String, Object> views, boolean queues) throws Exception {
        Map<String, Object> root = tree(t, views);
        if (queues) {
            Map<String, Object> queuesByNode = new LinkedHashMap<>();
            views.forEach((name, view) -> queuesByNode.put(name, view instanceof com.fasterxml.jackson.databind.JsonNode node
                    ? node.get("queues") : String.valueOf(view)));
            root.put("queues", queuesByNode);
        }
        return write(root);
    }

    private static String write(Map<String, Object> root) throws Exception {
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root) + System.lineSeparator();
    }

    private static Map<String, Object> tree(ClusterTopology t, Map<String, Object> views) {
        List<Map<String, Object>> members = new ArrayList<>();
        for (NodeInfo n : t.members()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", n.name());
            Object view = views.get(n.name());
            m.put("state", stateOf(view));
            if (!(view instanceof com.fasterxml.jackson.databind.JsonNode)) {
                m.put("stateUnknownBecause", String.valueOf(view));
            }
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
        return root;
    }
}
