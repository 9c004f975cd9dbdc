package io.tern.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Free loopback ports, never the same one twice in a JVM, so parallel tests never meet. */
public final class Ports {
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private Ports() {
    }

    public static int free() {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                int port = s.getLocalPort();
                if (HANDED_OUT.add(port)) {
                    return port;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("no free loopback port", e);
            }
        }
        throw new IllegalStateException("no unused free port after 100 attempts");
    }

    /** A free UDP port (for a multicast group of a test's own). */
    public static int freeUdp() {
        return io.tern.server.ServerProcess.freeUdpPort();
    }

    /** A multicast group address in 239.255.{@code block}.x (administratively scoped), x random. */
    public static String multicastGroup(int block) {
        return "239.255." + block + "." + java.util.concurrent.ThreadLocalRandom.current().nextInt(1, 250);
    }
}
