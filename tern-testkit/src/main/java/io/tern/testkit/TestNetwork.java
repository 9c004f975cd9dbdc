package io.tern.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Hosts of a test on one machine: each host a network namespace of its own with one interface on
 * a bridge (the switch, in a namespace of its own too), and this process reaching the switch through
 * one more link, so that a test talks to its servers as clients would. A host can be cut off the
 * switch and put back: a partition, without touching anything outside the namespaces the test made
 * (the only thing in this process's namespace is its end of its link to the switch, on a subnet no
 * route here used before). Needs root and {@code ip} from iproute2.
 *
 * <pre>
 *   this process (10.251.K.254) ── switch (bridge) ── host 1 (10.251.K.1)
 *                                                  ├── host 2 (10.251.K.2)
 *                                                  └── ...
 * </pre>
 */
public final class TestNetwork implements AutoCloseable {
    private final String id;
    private final int subnet;
    private final int hosts;
    private final List<String> created = new ArrayList<>();

    private TestNetwork(String id, int subnet, int hosts) {
        this.id = id;
        this.subnet = subnet;
        this.hosts = hosts;
    }

    /** True if this process may make network namespaces (root with {@code ip netns}); tests skip otherwise. */
    public static boolean available() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return false;
        }
        try {
            return run(List.of("ip", "netns", "list")).exit == 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** Makes {@code hosts} hosts (numbered from 1) on a switch of their own. */
    public static TestNetwork create(int hosts) throws IOException {
        String routes = run(List.of("ip", "-4", "route", "show")).output;
        int subnet = -1;
        for (int tries = 0; tries < 50 && subnet < 0; tries++) {
            int candidate = ThreadLocalRandom.current().nextInt(1, 250);
            if (!routes.contains("10.251." + candidate + ".")) {
                subnet = candidate;
            }
        }
        if (subnet < 0) {
            throw new IOException("no free 10.251.K.0/24 subnet for a test network");
        }
        String id = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000));
        TestNetwork net = new TestNetwork(id, subnet, hosts);
        try {
            net.build();
        } catch (IOException | RuntimeException e) {
            net.close();
            throw e;
        }
        return net;
    }

    private String switchNamespace() {
        return "tern-" + id + "-sw";
    }

    /** The namespace of host {@code i} (1-based), for {@code ip netns exec}. */
    public String namespace(int i) {
        check(i);
        return "tern-" + id + "-h" + i;
    }

    /** The address of host {@code i} (1-based). */
    public String address(int i) {
        check(i);
        return "10.251." + subnet + "." + i;
    }

    /** The address of this process's own end of the switch, which every host reaches. */
    public String hostAddress() {
        return "10.251." + subnet + ".254";
    }

    private void check(int i) {
        if (i < 1 || i > hosts) {
            throw new IllegalArgumentException("no host " + i + " in a network of " + hosts);
        }
    }

    private String switchPort(int i) {
        return "p" + id + "h" + i; // interface names are at most 15 characters
    }

    private void build() throws IOException {
        String sw = switchNamespace();
        netns(sw);
        ip("-n", sw, "link", "add", "br0", "type", "bridge");
        ip("-n", sw, "link", "set", "br0", "up");
        ip("-n", sw, "link", "set", "lo", "up");
        for (int i = 1; i <= hosts; i++) {
            String ns = namespace(i);
            netns(ns);
            ip("-n", ns, "link", "set", "lo", "up");
            ip("-n", sw, "link", "add", switchPort(i), "type", "veth", "peer", "name", "eth0", "netns", ns);
            ip("-n", sw, "link", "set", switchPort(i), "master", "br0", "up");
            ip("-n", ns, "addr", "add", address(i) + "/24", "dev", "eth0");
            ip("-n", ns, "link", "set", "eth0", "up");
        }
        // This process's own link to the switch: its end is the only thing made outside the namespaces.
        String mine = "t" + id + "sw";
        ip("link", "add", mine, "type", "veth", "peer", "name", "up0", "netns", sw);
        ip("-n", sw, "link", "set", "up0", "master", "br0", "up");
        ip("addr", "add", "10.251." + subnet + ".254/24", "dev", mine);
        ip("link", "set", mine, "up");
    }

    /** Cuts host {@code i} off the switch: it reaches nobody, and nobody reaches it, until {@link #heal}. */
    public void cut(int i) throws IOException {
        check(i);
        ip("-n", switchNamespace(), "link", "set", switchPort(i), "nomaster");
    }

    /** Puts host {@code i} back on the switch. */
    public void heal(int i) throws IOException {
        check(i);
        ip("-n", switchNamespace(), "link", "set", switchPort(i), "master", "br0");
    }

    private void netns(String name) throws IOException {
        ip("netns", "add", name);
        created.add(name);
    }

    private static void ip(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        Result r = run(cmd);
        if (r.exit != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (" + r.exit + "): " + r.output.trim());
        }
    }

    private record Result(int exit, String output) {
    }

    private static Result run(List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " did not finish in 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted running " + String.join(" ", cmd), e);
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    /** Deletes every namespace made (their links go with them, this process's end too). */
    @Override
    public void close() {
        for (int i = created.size() - 1; i >= 0; i--) {
            try {
                run(List.of("ip", "netns", "del", created.get(i)));
            } catch (IOException e) {
                // best effort: the next namespace is still deleted
            }
        }
        created.clear();
    }
}
