package io.tern.discovery;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Settings of discovery, validated once. Defaults keep everything on the loopback interface with
 * TTL 0, so nothing leaves the machine unless an operator names another interface.
 *
 * @param secret   cluster secret for signing; null sends and accepts unsigned packets
 * @param maxSkewMs a signed packet older or newer than this is stale and dropped
 */
public record DiscoveryConfig(InetAddress groupAddress, int port, String networkInterface, int ttl, long periodMs,
                              long timeoutMs, byte[] secret, long maxSkewMs) {

    public static final String DEFAULT_GROUP_ADDRESS = "239.255.84.78";
    public static final int DEFAULT_PORT = 45454;

    public DiscoveryConfig {
        Objects.requireNonNull(groupAddress, "groupAddress");
        Objects.requireNonNull(networkInterface, "networkInterface");
        if (!groupAddress.isMulticastAddress()) {
            throw new IllegalArgumentException("not a multicast address: " + groupAddress.getHostAddress());
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be 1..65535: " + port);
        }
        if (ttl < 0 || ttl > 255) {
            throw new IllegalArgumentException("ttl must be 0..255: " + ttl);
        }
        if (periodMs < 10) {
            throw new IllegalArgumentException("period must be >= 10 ms: " + periodMs);
        }
        if (timeoutMs <= periodMs) {
            throw new IllegalArgumentException("timeout (" + timeoutMs + " ms) must exceed the period (" + periodMs + " ms)");
        }
        if (secret != null && secret.length < 16) {
            throw new IllegalArgumentException("a discovery secret must have at least 16 bytes");
        }
        if (maxSkewMs < 1000) {
            throw new IllegalArgumentException("maxSkew must be >= 1000 ms: " + maxSkewMs);
        }
    }

    /** Loopback, TTL 0, 500 ms period, 3 s timeout, unsigned. */
    public static DiscoveryConfig loopback(String groupAddress, int port) {
        try {
            return new DiscoveryConfig(InetAddress.getByName(groupAddress), port, "lo", 0, 500, 3000, null, 30_000);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("bad group address " + groupAddress, e);
        }
    }

    public static DiscoveryConfig defaults() {
        return loopback(DEFAULT_GROUP_ADDRESS, DEFAULT_PORT);
    }

    public DiscoveryConfig withTiming(long period, long timeout) {
        return new DiscoveryConfig(groupAddress, port, networkInterface, ttl, period, timeout, secret, maxSkewMs);
    }

    /**
     * The key packets are signed with: HMAC-SHA256 of the secret over this group's address and port, so
     * that a signed packet heard on one discovery group is not accepted on another (a replay elsewhere).
     * Null without a secret.
     */
    public byte[] signingKey() {
        if (secret == null) {
            return null;
        }
        return DiscoveryPacket.hmac(secret, "tern discovery group " + groupAddress.getHostAddress() + ":" + port);
    }

    public DiscoveryConfig withSecret(String s) {
        return new DiscoveryConfig(groupAddress, port, networkInterface, ttl, periodMs, timeoutMs,
                s == null ? null : s.getBytes(StandardCharsets.UTF_8), maxSkewMs);
    }
}
