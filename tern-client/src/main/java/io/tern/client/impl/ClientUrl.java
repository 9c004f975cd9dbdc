package io.tern.client.impl;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed client URL: {@code tern://h1:p1,h2:p2?key=value&...} ({@code terns://} for TLS), or
 * {@code multicast://[addr:port]?group=G&schemes=tern&timeout=MS&interface=IF} to find a server by
 * discovery (defaults: the discovery group 239.255.84.78:45454, any group, scheme tern, 1500 ms, loopback). Options: {@code user}, {@code password},
 * {@code clientId}, {@code prefetch} (messages, default 1000), {@code consumerWindow} (bytes of message
 * bodies a consumer may hold unread, default 1 MiB, 0 no bound), {@code producerWindow} (bytes of
 * unanswered asynchronous sends, default 1 MiB), {@code connectTimeout} (ms, default 5000),
 * {@code heartbeat} (ms, default 2000), {@code idleRelease} (ms a synchronous consumer may sit outside
 * {@code receive()} before it gives its buffered messages back, default 1000, 0 never),
 * {@code allowList} (extra packages for ObjectMessage, comma separated).
 */
public record ClientUrl(String scheme, List<HostPort> servers, Map<String, String> options) {

    public record HostPort(String host, int port) {
        @Override
        public String toString() {
            return host + ":" + port;
        }
    }

    public static final int DEFAULT_PORT = 5445;
    public static final int MULTICAST_DEFAULT_PORT = io.tern.discovery.DiscoveryConfig.DEFAULT_PORT;

    public boolean isMulticast() {
        return scheme.equals("multicast");
    }

    /** Whether the connection speaks TLS: {@code terns://}, or discovery of {@code terns} services. */
    public boolean tls() {
        return scheme.equals("terns") || (isMulticast() && "terns".equals(option("schemes", "tern")));
    }

    public ClientUrl {
        servers = List.copyOf(servers);
        options = Map.copyOf(options);
    }

    public static ClientUrl parse(String url) {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("client URL must not be empty");
        }
        int sep = url.indexOf("://");
        if (sep < 0) {
            throw new IllegalArgumentException("client URL needs a scheme such as tern://: " + url);
        }
        String scheme = url.substring(0, sep);
        if (!scheme.equals("tern") && !scheme.equals("terns") && !scheme.equals("multicast")) {
            throw new IllegalArgumentException("unsupported scheme '" + scheme + "' in " + url
                    + " (this client speaks tern://, terns:// and multicast://)");
        }
        String rest = url.substring(sep + 3);
        String query = "";
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        List<HostPort> servers = new ArrayList<>();
        boolean multicast = scheme.equals("multicast");
        for (String part : rest.split(",")) {
            part = part.trim();
            if (part.endsWith("/")) {
                part = part.substring(0, part.length() - 1);
            }
            if (part.isEmpty()) {
                continue;
            }
            servers.add(hostPort(part, url, multicast ? MULTICAST_DEFAULT_PORT : DEFAULT_PORT));
        }
        if (multicast && servers.size() > 1) {
            throw new IllegalArgumentException("a multicast URL names at most one group address: " + url);
        }
        if (servers.isEmpty() && !multicast) {
            throw new IllegalArgumentException("client URL names no server: " + url);
        }
        Map<String, String> options = new LinkedHashMap<>();
        for (String kv : query.split("&")) {
            if (kv.isEmpty()) {
                continue;
            }
            int eq = kv.indexOf('=');
            String key = eq < 0 ? kv : kv.substring(0, eq);
            String value = eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
            options.put(key, value);
        }
        return new ClientUrl(scheme, servers, options);
    }

    /**
     * The server of a single-server client URI such as {@code tern://127.0.0.1:5445} or
     * {@code terns://...}; null if it is not one.
     */
    public static HostPort hostPortOf(String uri) {
        int sep = uri == null ? -1 : uri.indexOf("://");
        if (sep < 0 || !(uri.startsWith("tern://") || uri.startsWith("terns://"))) {
            return null;
        }
        String rest = uri.substring(sep + 3);
        int end = rest.indexOf('?');
        rest = end < 0 ? rest : rest.substring(0, end);
        if (rest.isEmpty() || rest.contains(",")) {
            return null;
        }
        try {
            return hostPort(rest, uri, DEFAULT_PORT);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static HostPort hostPort(String part, String url, int defaultPort) {
        String host;
        String port;
        if (part.startsWith("[")) {
            int close = part.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("unclosed IPv6 address in " + url);
            }
            host = part.substring(1, close);
            port = part.length() > close + 2 ? part.substring(close + 2) : null;
        } else {
            int colon = part.lastIndexOf(':');
            host = colon < 0 ? part : part.substring(0, colon);
            port = colon < 0 ? null : part.substring(colon + 1);
        }
        try {
            int p = port == null ? defaultPort : Integer.parseInt(port);
            if (p < 1 || p > 65535) {
                throw new NumberFormatException();
            }
            return new HostPort(host, p);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port '" + port + "' in " + url);
        }
    }

    public String option(String key, String fallback) {
        return options.getOrDefault(key, fallback);
    }

    public int intOption(String key, int fallback) {
        String v = options.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option " + key + " must be a whole number: " + v);
        }
    }
}
