package io.tern.server;

import io.tern.discovery.DiscoveryConfig;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;

/** Builds the discovery settings of the CLI: loopback with TTL 0 unless an interface is named. */
final class Discovery {
    private Discovery() {
    }

    static DiscoveryConfig config(String address, int port, String networkInterface, io.tern.cluster.ClusterSecret secret) {
        String nic = networkInterface == null ? "lo" : networkInterface;
        int ttl;
        try {
            NetworkInterface n = NetworkInterface.getByName(nic);
            if (n == null) {
                throw new IllegalArgumentException("no network interface named " + nic);
            }
            ttl = n.isLoopback() ? 0 : 1;
            return new DiscoveryConfig(InetAddress.getByName(address), port, nic, ttl, 500, 3000,
                    secret == null ? null : secret.bytes(), 30_000);
        } catch (SocketException | UnknownHostException e) {
            throw new IllegalArgumentException("bad discovery settings: " + e.getMessage(), e);
        }
    }
}
