package io.tern.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.tern.broker.Broker;
import io.tern.broker.LogText;
import io.tern.broker.NodeView;
import io.tern.broker.security.AccessControl;
import io.tern.broker.security.Permission;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.NodeInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The web console of one node: a page and an HTTP JSON API that show the cluster's servers, its
 * failover map, and every node's queues and connections, and drain a node.
 *
 * <ul>
 *   <li>{@code GET /} — the page: the failover ring, rates, timeline and tables, fed by {@code /api/events}.</li>
 *   <li>{@code GET /api/node} — this node: {@link NodeView}.</li>
 *   <li>{@code GET /api/cluster} — the members as this node sees them, each with its failover nodes
 *       and the {@code /api/node} of its own console (asked in parallel; a member that does not
 *       answer within {@link ConsolePeers#TIMEOUT} shows its error instead).</li>
 *   <li>{@code GET /health/live}, {@code GET /health/ready} — probes: 200 while the node answers,
 *       and while it serves clients (503 with its state otherwise); no credentials needed.</li>
 *   <li>{@code GET /api/events} — server-sent events: the events this node recorded
 *       ({@link io.tern.broker.ClusterEvents}: joins, departures, suspicions, takeovers, fail-backs,
 *       its own state changes), those after {@code Last-Event-ID} first, and {@code /api/cluster}
 *       every second; each stream ends after {@link #STREAM_SECONDS} (under the server's response
 *       limit) and the browser's {@code EventSource} opens the next, asking for what it missed.</li>
 *   <li>{@code GET /metrics} — the node's meters in Prometheus' text format, when the node has
 *       metrics ({@link #start(Broker, String, int, Supplier)}).</li>
 *   <li>{@code POST /api/drain?node=NAME} — drains NAME (this node, or forwarded to the member's
 *       console); answers the number of client connections still on it. The request must carry the
 *       header {@code X-Tern-Console}, which a page of another site cannot add without the browser
 *       asking first, so a link elsewhere cannot drain a node.</li>
 * </ul>
 *
 * When the node has users ({@code --users} or {@code --dev-user}), every request needs HTTP basic
 * authentication of a user with the {@code monitor} permission ({@code manage} to drain); requests
 * forwarded to other members carry the same credentials.
 *
 * <p>The JDK's own HTTP server serves it: the console is a handful of small requests a second, and a
 * server built into the runtime adds no dependency to every node.
 */
public final class Console implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Console.class);
    /** How long a client may take to send its request before its connection is closed. */
    static final int REQUEST_SECONDS = 5;
    /** Threads serving requests: a handful of slow clients cannot take them all. */
    static final int THREADS = 16;
    /** The header a drain request must carry (a page of another site cannot add it unasked). */
    static final String CSRF_HEADER = "X-Tern-Console";
    /** How long one event stream lasts before the browser opens the next: below the server's 30 s response limit. */
    static final int STREAM_SECONDS = 20;
    /** Event streams served at once: each holds a thread of the pool, and the pool must serve other requests. */
    static final int MAX_STREAMS = THREADS / 2;
    private final java.util.concurrent.Semaphore streams = new java.util.concurrent.Semaphore(MAX_STREAMS);

    private final Broker broker;
    private final HttpServer server;
    private final ExecutorService executor;
    private final ConsolePeers peers;
    private final ObjectMapper json = new ObjectMapper();
    private final String uri;
    /** The node's meters, scraped; null when it has none. */
    private final Supplier<String> metrics;
    /** The content type of Prometheus' text exposition format. */
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private Console(Broker broker, HttpServer server, ExecutorService executor, String host, io.tern.protocol.TlsSettings tls,
                    Supplier<String> metrics) {
        this.broker = broker;
        this.metrics = metrics;
        this.server = server;
        this.executor = executor;
        this.uri = (tls != null ? "https://" : "http://") + host + ":" + server.getAddress().getPort();
        this.peers = new ConsolePeers(broker, uri, tls);
    }

    /**
     * Starts the console of {@code broker} on {@code bindAddress:port} (port 0: a free one).
     *
     * @throws IOException if the port cannot be bound
     */
    public static Console start(Broker broker, String bindAddress, int port) throws IOException {
        return start(broker, bindAddress, port, null);
    }

    /**
     * Starts the console, serving {@code GET /metrics} from {@code metrics} (the text a Prometheus
     * registry scrapes) as well.
     *
     * @throws IOException if the port cannot be bound
     */
    public static Console start(Broker broker, String bindAddress, int port, Supplier<String> metrics) throws IOException {
        // The JDK's server reads a request on a thread of the pool: a client that sends its request slowly
        // holds that thread. It is cut off after REQUEST_SECONDS (the server reads these settings once, when
        // its first instance is made; a value given on the command line wins), and the pool has threads
        // to spare, so slow clients delay others by at most that long.
        System.getProperties().putIfAbsent("sun.net.httpserver.maxReqTime", Integer.toString(REQUEST_SECONDS));
        System.getProperties().putIfAbsent("sun.net.httpserver.maxRspTime", "30");
        io.tern.protocol.TlsSettings tls = broker.config().tls();
        HttpServer server;
        if (tls != null) {
            // The node's certificate serves the console too (HTTPS, TLS 1.3 and 1.2), without asking for client ones.
            com.sun.net.httpserver.HttpsServer https = com.sun.net.httpserver.HttpsServer.create(
                    new InetSocketAddress(bindAddress, port), 64);
            javax.net.ssl.SSLContext ssl = tls.jdkContext(true);
            https.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(ssl) {
                @Override
                public void configure(com.sun.net.httpserver.HttpsParameters params) {
                    javax.net.ssl.SSLParameters p = ssl.getDefaultSSLParameters();
                    p.setProtocols(io.tern.protocol.TlsSettings.PROTOCOLS);
                    params.setSSLParameters(p);
                }
            });
            server = https;
        } else {
            server = HttpServer.create(new InetSocketAddress(bindAddress, port), 64);
        }
        AtomicInteger threads = new AtomicInteger();
        ExecutorService executor = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "tern-console-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        String host = bindAddress.contains(":") ? "[" + bindAddress + "]" : bindAddress;
        Console console = new Console(broker, server, executor, host, tls, metrics);
        server.createContext("/", console::handle);
        server.start();
        LOG.info("Console on {}", console.uri);
        return console;
    }

    /** {@code http://host:port} */
    public String uri() {
        return uri;
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        peers.close();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String method = exchange.getRequestMethod();
            if (path.startsWith("/health/")) {
                if (expect(exchange, "GET")) {
                    health(exchange, path);
                }
                return;
            }
            Permission needed = path.equals("/api/drain") ? Permission.MANAGE : Permission.MONITOR;
            int refusal = refusal(exchange, needed);
            if (refusal == 401) {
                exchange.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"tern\", charset=\"UTF-8\"");
                sendJson(exchange, 401, error("wrong or missing user name and password"));
                return;
            }
            if (refusal == 403) {
                sendJson(exchange, 403, error("this user may not " + needed.word() + " this node"));
                return;
            }
            switch (path) {
                case "/", "/index.html" -> {
                    if (expect(exchange, "GET")) {
                        sendPage(exchange);
                    }
                }
                case "/api/node" -> {
                    if (expect(exchange, "GET")) {
                        sendJson(exchange, 200, broker.view());
                    }
                }
                case "/api/cluster" -> {
                    if (expect(exchange, "GET")) {
                        sendJson(exchange, 200, peers.cluster(exchange.getRequestHeaders().getFirst("Authorization")));
                    }
                }
                case "/api/events" -> {
                    if (expect(exchange, "GET")) {
                        events(exchange);
                    }
                }
                case "/metrics" -> {
                    if (expect(exchange, "GET")) {
                        if (metrics == null) {
                            sendJson(exchange, 404, error("this node keeps no metrics"));
                        } else {
                            send(exchange, 200, PROMETHEUS_TEXT, metrics.get().getBytes(StandardCharsets.UTF_8));
                        }
                    }
                }
                case "/api/drain" -> {
                    if (expect(exchange, "POST")) {
                        drain(exchange);
                    }
                }
                default -> sendJson(exchange, 404, error("no such page: " + path));
            }
        } catch (RuntimeException e) {
            LOG.warn("Console request {} failed", exchange.getRequestURI(), e);
            sendJson(exchange, 500, error(String.valueOf(e.getMessage())));
        }
    }

    /**
     * The probes of an orchestrator (Kubernetes), answered without credentials and with nothing but
     * the node's state: {@code /health/live} while the node answers at all, {@code /health/ready}
     * 200 while it serves clients and 503 otherwise (starting, checking whether it was taken over,
     * draining, without the quorum, fenced, stopping).
     */
    private void health(HttpExchange exchange, String path) throws IOException {
        String state = broker.state();
        switch (path) {
            case "/health/live" -> sendJson(exchange, 200, Map.of("state", state));
            case "/health/ready" -> sendJson(exchange, "serving".equals(state) ? 200 : 503, Map.of("state", state));
            default -> sendJson(exchange, 404, error("no such page: " + path));
        }
    }

    /** Server-sent events: see the class comment. */
    private void events(HttpExchange exchange) throws IOException {
        if (!streams.tryAcquire()) {
            sendJson(exchange, 503, error(MAX_STREAMS + " event streams are open on this console already"));
            return;
        }
        // The journal is what is sent; a new event only wakes the stream, which then sends all after the
        // last it sent, in order (listeners may be told out of order, and a wake-up may be dropped).
        java.util.concurrent.Semaphore wake = new java.util.concurrent.Semaphore(0);
        Runnable unsubscribe = broker.events().subscribe(e -> wake.release());
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        try {
            exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
            exchange.getResponseHeaders().set("Cache-Control", "no-store");
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            long last = lastEventId(exchange, broker.events().run());
            out.write("retry: 1000\n\n".getBytes(StandardCharsets.UTF_8));
            last = writeEvents(out, last);
            long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(STREAM_SECONDS);
            long nextCluster = 0;
            while (System.nanoTime() < end) {
                if (System.nanoTime() >= nextCluster) {
                    out.write(("event: cluster\ndata: " + json.writeValueAsString(peers.recentCluster(authorization)) + "\n\n")
                            .getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    nextCluster = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(1);
                }
                if (wake.tryAcquire(200, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                    wake.drainPermits();
                    last = writeEvents(out, last);
                }
            }
            out.close();
        } catch (IOException e) {
            LOG.debug("Event stream to {} ended: {}", exchange.getRemoteAddress(), e.toString()); // the page went away
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            unsubscribe.run();
            streams.release();
        }
    }

    /** Sends the journal's events after {@code last}, in order; returns the id of the last one sent. */
    private long writeEvents(OutputStream out, long last) throws IOException {
        String run = broker.events().run();
        for (io.tern.broker.ClusterEvents.Event e : broker.events().after(last)) {
            out.write(("id: " + run + "-" + e.id() + "\nevent: event\ndata: " + json.writeValueAsString(e) + "\n\n")
                    .getBytes(StandardCharsets.UTF_8));
            last = e.id();
        }
        out.flush();
        return last;
    }

    /**
     * The number of the last event the browser had ({@code Last-Event-ID: RUN-N}, or {@code ?after=RUN-N});
     * 0 for all, also when RUN is another run of the node (it restarted, and numbers again from 1).
     */
    private static long lastEventId(HttpExchange exchange, String run) {
        String id = exchange.getRequestHeaders().getFirst("Last-Event-ID");
        String query = exchange.getRequestURI().getQuery();
        if (id == null && query != null && query.startsWith("after=")) {
            id = query.substring(6);
        }
        if (id == null || !id.trim().startsWith(run + "-")) {
            return 0;
        }
        try {
            return Math.max(0, Long.parseLong(id.trim().substring(run.length() + 1)));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private boolean expect(HttpExchange exchange, String method) throws IOException {
        if (method.equals(exchange.getRequestMethod())) {
            return true;
        }
        exchange.getResponseHeaders().set("Allow", method);
        sendJson(exchange, 405, error(exchange.getRequestMethod() + " is not allowed here; use " + method));
        return false;
    }

    /**
     * 0 if the request may be served: on a node without users, always; else its HTTP basic credentials
     * must log in a user with the permission {@code needed} ({@code monitor} to look, {@code manage} to
     * drain). 401 for wrong or missing credentials, 403 for a user without that permission.
     */
    private int refusal(HttpExchange exchange, Permission needed) {
        AccessControl access = broker.config().accessControl();
        if (!access.requiresLogin()) {
            return 0;
        }
        String header = exchange.getRequestHeaders().getFirst("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
            return 401;
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return 401;
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            return 401;
        }
        String address = exchange.getRemoteAddress().getAddress().getHostAddress();
        if (access.throttle().lockedForMs(address) > 0) {
            return 401; // too many failed logins from there: not even checked
        }
        AccessControl.Principal who = access.login(decoded.substring(0, colon), decoded.substring(colon + 1));
        if (who == null) {
            LOG.warn("Console request from {} refused: wrong user name or password ({} failed in a row from there)",
                    exchange.getRemoteAddress(), access.throttle().failed(address));
            return 401;
        }
        access.throttle().succeeded(address);
        if (!access.allows(who, needed, null)) {
            LOG.warn("Console request from {} refused: user '{}' may not {} this node", exchange.getRemoteAddress(),
                    LogText.of(who.name()), needed.word());
            return 403;
        }
        return 0;
    }

    private void drain(HttpExchange exchange) throws IOException {
        if (exchange.getRequestHeaders().getFirst(CSRF_HEADER) == null) {
            sendJson(exchange, 403, error("a drain request must carry the header " + CSRF_HEADER));
            return;
        }
        String node = query(exchange.getRequestURI().getRawQuery()).get("node");
        if (node == null || node.isBlank()) {
            sendJson(exchange, 400, error("name the node to drain: /api/drain?node=NAME"));
            return;
        }
        if (node.equals(broker.config().name())) {
            int remaining = broker.drain();
            LOG.info("Console: drain of node {} asked; {} client connection(s) still here", node, remaining);
            sendJson(exchange, 200, Map.of("node", node, "remaining", remaining));
            return;
        }
        ClusterTopology t = broker.topology();
        NodeInfo member = t == null ? null : t.members().stream().filter(m -> m.name().equals(node)).findFirst().orElse(null);
        if (member == null) {
            sendJson(exchange, 404, error("no member named " + node + " in this node's view"));
            return;
        }
        HttpResponse<String> answer;
        try {
            answer = peers.forwardDrain(member, node, exchange.getRequestHeaders().getFirst("Authorization"));
        } catch (ConsolePeers.Unanswered e) {
            sendJson(exchange, e.status, error(e.getMessage()));
            return;
        }
        send(exchange, answer.statusCode(), "application/json", answer.body().getBytes(StandardCharsets.UTF_8));
    }

    static Map<String, String> query(String raw) {
        Map<String, String> out = new HashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            out.put(key, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return out;
    }

    private void sendPage(HttpExchange exchange) throws IOException {
        try (InputStream in = Console.class.getResourceAsStream("index.html")) {
            if (in == null) {
                throw new IllegalStateException("index.html is missing from the console's jar");
            }
            send(exchange, 200, "text/html; charset=utf-8", in.readAllBytes());
        }
    }

    private void sendJson(HttpExchange exchange, int status, Object body) throws IOException {
        send(exchange, status, "application/json", json.writeValueAsBytes(body));
    }

    private static void send(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    private static Map<String, String> error(String message) {
        return Map.of("error", message);
    }
}
