package io.tern.client.impl;

import io.tern.protocol.TlsSettings;

/**
 * Settings of a client, read once from the URL (and factory setters) and validated once.
 *
 * @param prefetch          messages a consumer may hold before the application takes them
 * @param consumerWindowBytes bytes of message bodies a consumer may hold before the application takes
 *                          them (whichever of this and the prefetch runs out first); 0: no byte bound
 * @param producerWindowBytes bytes of asynchronous sends that may wait for the server's answer
 * @param callTimeoutMs     how long a blocking request waits for its answer
 * @param failover          whether a broken connection moves to another server (else it fails)
 * @param reconnectAttempts how often a broken connection retries its own server before walking the list
 * @param reconnectDelayMs  the first retry's delay; each retry doubles it, with random jitter of +-50%
 * @param failoverTimeoutMs how long a failover keeps walking the servers, round after round, while
 *                          none takes the connection (the cluster may still be settling who owns what)
 * @param idleReleaseMs     how long a synchronous consumer may sit outside {@code receive()} before
 *                          it gives back what it buffered (so an idle consumer does not hoard); 0: never
 * @param tls               the TLS every link of this connection uses ({@code terns://}, or a
 *                          {@code multicast://} URL with {@code schemes=terns}); null: plaintext
 */
public record ClientConfig(ClientUrl url, String user, String password, String clientId, int prefetch,
                           int consumerWindowBytes, int producerWindowBytes, int connectTimeoutMs, long heartbeatMs, long callTimeoutMs,
                           boolean failover, int reconnectAttempts, long reconnectDelayMs, long failoverTimeoutMs,
                           long idleReleaseMs, ClientTls tls) {

    public ClientConfig {
        if (prefetch < 0) {
            throw new IllegalArgumentException("prefetch must be >= 0: " + prefetch);
        }
        if (consumerWindowBytes < 0) {
            throw new IllegalArgumentException("consumerWindow must be >= 0: " + consumerWindowBytes);
        }
        if (producerWindowBytes < 1024) {
            throw new IllegalArgumentException("producerWindow must be >= 1024: " + producerWindowBytes);
        }
        if (connectTimeoutMs < 1) {
            throw new IllegalArgumentException("connectTimeout must be >= 1: " + connectTimeoutMs);
        }
        if (heartbeatMs < 100) {
            throw new IllegalArgumentException("heartbeat must be >= 100 ms: " + heartbeatMs);
        }
        if (callTimeoutMs < 1) {
            throw new IllegalArgumentException("callTimeout must be >= 1: " + callTimeoutMs);
        }
        if (reconnectAttempts < 0) {
            throw new IllegalArgumentException("reconnectAttempts must be >= 0: " + reconnectAttempts);
        }
        if (reconnectDelayMs < 1) {
            throw new IllegalArgumentException("reconnectDelay must be >= 1 ms: " + reconnectDelayMs);
        }
        if (failoverTimeoutMs < 0) {
            throw new IllegalArgumentException("failoverTimeout must be >= 0 ms: " + failoverTimeoutMs);
        }
        if (idleReleaseMs < 0) {
            throw new IllegalArgumentException("idleRelease must be >= 0 ms: " + idleReleaseMs);
        }
    }

    public static ClientConfig of(ClientUrl url, String user, String password, String clientId) {
        return new ClientConfig(url,
                user != null ? user : url.option("user", null),
                password != null ? password : url.option("password", null),
                clientId != null ? clientId : url.option("clientId", null),
                url.intOption("prefetch", 1000),
                url.intOption("consumerWindow", 1024 * 1024),
                url.intOption("producerWindow", 1024 * 1024),
                url.intOption("connectTimeout", 5000),
                url.intOption("heartbeat", 2_000),
                url.intOption("callTimeout", 30_000),
                !"false".equals(url.option("failover", "true")),
                url.intOption("reconnectAttempts", 2),
                url.intOption("reconnectDelay", 100),
                url.intOption("failoverTimeout", 30_000),
                url.intOption("idleRelease", 1_000),
                tlsOf(url));
    }

    /** {@code terns} with TLS, else {@code tern}: the scheme of every server address this connection uses. */
    public String scheme() {
        return tls != null ? "terns" : "tern";
    }

    /** A server's address as this connection speaks to it, for messages: {@code terns://host:port}. */
    public String uri(Object hostPort) {
        return scheme() + "://" + hostPort;
    }

    /**
     * The TLS context the URL asks for: options {@code trust} (CA certificates, PEM, or a PKCS#12 trust
     * store; default: what the JVM trusts) with {@code trustPassword}, and for a client certificate
     * {@code cert} (PEM chain, or PKCS#12 with the key) with {@code key} (PEM) and {@code keyPassword}.
     */
    static ClientTls tlsOf(ClientUrl url) {
        if (!url.tls()) {
            for (String option : new String[]{"trust", "cert", "key"}) {
                if (url.options().containsKey(option)) {
                    throw new IllegalArgumentException("option " + option + " is for TLS: use terns:// (or schemes=terns with multicast://)");
                }
            }
            return null;
        }
        TlsSettings settings = new TlsSettings(path(url, "cert"), path(url, "key"), chars(url, "keyPassword"),
                path(url, "trust"), chars(url, "trustPassword"), null);
        return new ClientTls(settings.clientContext(), settings.cert() != null);
    }

    private static java.nio.file.Path path(ClientUrl url, String option) {
        String v = url.option(option, null);
        return v == null || v.isEmpty() ? null : java.nio.file.Path.of(v);
    }

    private static char[] chars(ClientUrl url, String option) {
        String v = url.option(option, null);
        return v == null ? null : v.toCharArray();
    }
}
