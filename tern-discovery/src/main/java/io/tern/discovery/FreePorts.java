package io.tern.discovery;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Free loopback ports, never the same one twice in a JVM, so that tests, demos and benchmarks that
 * start many nodes on one machine never meet: the one port helper of the code base. Ports are
 * chosen below the kernel's ephemeral range (Linux: {@code ip_local_port_range}), where the system
 * never hands one to a socket bound to port 0: a port probed free here cannot be taken meanwhile by
 * the ephemeral sockets of the very nodes a test starts (seen: "Address already in use").
 */
public final class FreePorts {
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private FreePorts() {
    }

    /** A free TCP port on the loopback interface. */
    public static int free() {
        return handOut("TCP", port -> {
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            }
        });
    }

    /** A free UDP port (for a cluster or multicast group of a test's or demo's own). */
    public static int freeUdp() {
        return handOut("UDP", port -> {
            try (java.net.DatagramSocket s = new java.net.DatagramSocket(port, InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            }
        });
    }

    /** Opens a socket on {@code port} (0: of the system's choosing); returns its port. */
    private interface Probe {
        int port(int port) throws IOException;
    }

    /** Lowest port of the kernel's ephemeral range (32768 if it cannot be read). */
    private static final int EPHEMERAL_LOW = ephemeralLow();
    /** Ports below the ephemeral range, from here on, when there is room for them. */
    private static final int BELOW_EPHEMERAL_FROM = 10_000;

    private static int ephemeralLow() {
        try {
            String range = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
            return Integer.parseInt(range.split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 32_768;
        }
    }

    private static int handOut(String kind, Probe probe) {
        boolean below = EPHEMERAL_LOW - BELOW_EPHEMERAL_FROM >= 1000;
        for (int attempt = 0; attempt < 1000; attempt++) {
            int candidate = below ? java.util.concurrent.ThreadLocalRandom.current().nextInt(BELOW_EPHEMERAL_FROM, EPHEMERAL_LOW) : 0;
            if (candidate != 0 && HANDED_OUT.contains(candidate)) {
                continue;
            }
            try {
                int port = probe.port(candidate);
                if (HANDED_OUT.add(port)) {
                    return port;
                }
            } catch (java.net.BindException e) {
                // in use: another one
            } catch (IOException e) {
                throw new UncheckedIOException("no free loopback " + kind + " port", e);
            }
        }
        throw new IllegalStateException("no unused free " + kind + " port after 1000 attempts");
    }

    /** A multicast group address in 239.255.{@code block}.x (administratively scoped), x random. */
    public static String multicastGroup(int block) {
        return "239.255." + block + "." + java.util.concurrent.ThreadLocalRandom.current().nextInt(1, 250);
    }
}
