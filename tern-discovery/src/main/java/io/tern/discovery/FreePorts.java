package io.tern.discovery;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Free loopback ports, never the same one twice in a JVM, so that tests, demos and benchmarks that
 * start many nodes on one machine never meet: the one port helper of the code base.
 */
public final class FreePorts {
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private FreePorts() {
    }

    /** A free TCP port on the loopback interface. */
    public static int free() {
        return handOut("TCP", () -> {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            }
        });
    }

    /** A free UDP port (for a cluster or multicast group of a test's or demo's own). */
    public static int freeUdp() {
        return handOut("UDP", () -> {
            try (java.net.DatagramSocket s = new java.net.DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            }
        });
    }

    /** Opens a socket on a port of the system's choosing; returns that port. */
    private interface Probe {
        int port() throws IOException;
    }

    private static int handOut(String kind, Probe probe) {
        for (int attempt = 0; attempt < 100; attempt++) {
            try {
                int port = probe.port();
                if (HANDED_OUT.add(port)) {
                    return port;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("no free loopback " + kind + " port", e);
            }
        }
        throw new IllegalStateException("no unused free " + kind + " port after 100 attempts");
    }

    /** A multicast group address in 239.255.{@code block}.x (administratively scoped), x random. */
    public static String multicastGroup(int block) {
        return "239.255." + block + "." + java.util.concurrent.ThreadLocalRandom.current().nextInt(1, 250);
    }
}
