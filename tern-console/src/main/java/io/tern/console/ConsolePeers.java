package io.tern.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tern.broker.Broker;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.FailoverInfo;
import io.tern.protocol.NodeInfo;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * What a console asks of the other members' consoles: each member's {@code /api/node} for the
 * cluster view, and a drain forwarded to the member it names. An operator's credentials go on only
 * to a console that may have them ({@link #mayForwardCredentials}).
 */
final class ConsolePeers implements AutoCloseable {
    /** How long a member's console has to answer. */
    static final Duration TIMEOUT = Duration.ofMillis(1500);

    private final Broker broker;
    private final String selfUri;
    private final HttpClient http;
    private final ExecutorService executor;
    private final ObjectMapper json = new ObjectMapper();
    /** The last cluster answer, shared by the event streams for a second: one round of peer requests, not one per stream. */
    private volatile Snapshot last;

    private record Snapshot(String authorization, long atNanos, Map<String, Object> cluster) {
    }

    /** A forwarded request that got no answer: the HTTP status to give and why. */
    static final class Unanswered extends Exception {
        final int status;

        Unanswered(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    ConsolePeers(Broker broker, String selfUri, io.tern.protocol.TlsSettings tls) {
        this.broker = broker;
        this.selfUri = selfUri;
        // The peers' answers complete on threads of their own: on the request pool, requests waiting for
        // them (event streams among them) could hold every thread the answers need.
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "tern-console-peers");
            t.setDaemon(true);
            return t;
        });
        HttpClient.Builder peers = HttpClient.newBuilder().connectTimeout(TIMEOUT).executor(executor);
        if (tls != null) {
            peers.sslContext(tls.peerTrust().jdkContext(false)); // the other members' consoles speak HTTPS too
        }
        this.http = peers.build();
    }

    /** {@link #cluster}, answered from a snapshot under a second old taken with the same credentials. */
    Map<String, Object> recentCluster(String authorization) {
        Snapshot s = last;
        if (s != null && java.util.Objects.equals(s.authorization(), authorization)
                && System.nanoTime() - s.atNanos() < TimeUnit.MILLISECONDS.toNanos(900)) {
            return s.cluster();
        }
        Map<String, Object> c = cluster(authorization);
        last = new Snapshot(authorization, System.nanoTime(), c);
        return c;
    }

    /** The members with their failover nodes and each one's own view, asked of its console. */
    Map<String, Object> cluster(String authorization) {
        ClusterTopology t = broker.topology();
        List<NodeInfo> members = t != null && !t.members().isEmpty() ? t.members() : List.of(self());
        Map<String, String> names = new HashMap<>();
        members.forEach(m -> names.put(m.nodeId(), m.name()));
        List<CompletableFuture<Map<String, Object>>> rows = new ArrayList<>();
        for (NodeInfo m : members) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("name", m.name());
            row.put("nodeId", m.nodeId());
            row.put("machineId", m.machineId());
            row.put("uris", m.clientUris());
            row.put("console", m.consoleUri());
            row.put("failover", t == null ? List.of() : t.failover().getOrDefault(m.nodeId(), List.of()).stream()
                    .map(FailoverInfo::nodeId).map(id -> names.getOrDefault(id, id)).toList());
            rows.add(nodeView(m, authorization).handle((view, failure) -> {
                if (failure != null) {
                    row.put("error", m.consoleUri().isEmpty() ? rootMessage(failure)
                            : "console " + m.consoleUri() + " did not answer: " + rootMessage(failure));
                } else {
                    row.put("node", view);
                }
                return row;
            }));
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("self", broker.config().name());
        root.put("quorum", t == null || t.quorum());
        root.put("machineRedundant", t != null && t.machineRedundant());
        root.put("members", rows.stream().map(CompletableFuture::join).toList());
        return root;
    }

    /**
     * Forwards a drain of {@code member} (named {@code node}) to its console, with the operator's
     * {@code authorization} (null: none); returns its answer.
     */
    HttpResponse<String> forwardDrain(NodeInfo member, String node, String authorization) throws Unanswered {
        if (member.consoleUri().isEmpty()) {
            throw new Unanswered(502, "node " + node + " runs no console");
        }
        HttpRequest.Builder forward = HttpRequest.newBuilder(URI.create(member.consoleUri() + "/api/drain?node="
                        + java.net.URLEncoder.encode(node, StandardCharsets.UTF_8)))
                .timeout(TIMEOUT).header(Console.CSRF_HEADER, "1").POST(HttpRequest.BodyPublishers.noBody());
        if (authorization != null) {
            if (!mayForwardCredentials(member)) {
                throw new Unanswered(403, notForwarding(member));
            }
            forward.header("Authorization", authorization);
        }
        try {
            return http.send(forward.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new Unanswered(502, "console " + member.consoleUri() + " of node " + node + " did not answer: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unanswered(503, "interrupted");
        }
    }

    /**
     * Whether an operator's credentials may go on to {@code member}'s console: it proves itself with a
     * certificate (HTTPS), or the cluster list came over authenticated channels, or the node has only
     * development users, whose passwords are no secret.
     */
    private boolean mayForwardCredentials(NodeInfo member) {
        ClusterTopology t = broker.topology();
        return member.consoleUri().startsWith("https://") || (t != null && t.authenticated())
                || broker.config().accessControl().development();
    }

    private static String notForwarding(NodeInfo member) {
        return "not forwarding the operator's credentials to " + member.consoleUri()
                + ": the cluster list is not authenticated (give the cluster a secret, or the nodes TLS)";
    }

    private NodeInfo self() {
        return new NodeInfo(broker.nodeId(), broker.config().name(), "", List.of(), selfUri);
    }

    private CompletableFuture<Object> nodeView(NodeInfo member, String authorization) {
        if (member.nodeId().equals(broker.nodeId()) || member.consoleUri().equals(selfUri)) {
            return CompletableFuture.completedFuture(broker.view());
        }
        if (member.consoleUri().isEmpty()) {
            return CompletableFuture.failedFuture(new IOException("no console is known for it"));
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(member.consoleUri() + "/api/node"))
                .timeout(TIMEOUT).GET();
        if (authorization != null) {
            if (!mayForwardCredentials(member)) {
                return CompletableFuture.failedFuture(new IOException(notForwarding(member)));
            }
            request.header("Authorization", authorization);
        }
        return http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
            if (r.statusCode() != 200) {
                throw new IllegalStateException("HTTP " + r.statusCode());
            }
            try {
                return json.readValue(r.body(), Object.class);
            } catch (IOException e) {
                throw new IllegalStateException("not JSON: " + e.getMessage(), e);
            }
        });
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null && (t instanceof java.util.concurrent.CompletionException || t.getMessage() == null)) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
