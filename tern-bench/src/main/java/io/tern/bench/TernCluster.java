package io.tern.bench;

import io.tern.client.TernConnectionFactory;
import io.tern.discovery.FreePorts;
import io.tern.server.ServerProcess;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Three {@code tern server} processes of one cluster of their own, for the benchmarks; each on a machine id of its own. */
final class TernCluster {
    private TernCluster() {
    }

    /**
     * Starts the nodes {@code name-1..3} with their defaults, a tenth of the machine's memory as heap each
     * (so that three fit), cluster traffic on a multicast group of their own on loopback, and {@code extra}
     * arguments; returns once each is listening and sees all three members. Closes what it started if not.
     */
    static List<ServerProcess> start(Path dir, String name, int group, String... extra) throws Exception {
        int clusterPort = FreePorts.freeUdp();
        String address = FreePorts.multicastGroup(group);
        List<ServerProcess> nodes = new ArrayList<>();
        try {
            for (int i = 1; i <= 3; i++) {
                List<String> args = new ArrayList<>(List.of("-J-XX:MaxRAMPercentage=10", "--cluster", name + "-" + clusterPort,
                        "--cluster-port", Integer.toString(clusterPort), "--cluster-address", address, "--discovery-port", "0",
                        "--machine-id", "m" + i));
                args.addAll(List.of(extra));
                nodes.add(new ServerProcess(name + "-" + i, FreePorts.free(), dir.resolve(name + "-" + i),
                        dir.resolve(name + "-" + i + ".log"), args.toArray(String[]::new)).start());
            }
            for (ServerProcess n : nodes) {
                if (!n.awaitListening(60_000) || !ServerProcess.awaitClusterMembers(new TernConnectionFactory(n.url()), 3, 60_000)) {
                    throw new IllegalStateException("the Tern cluster did not form; see " + dir);
                }
            }
            return nodes;
        } catch (Exception e) {
            close(nodes);
            throw e;
        }
    }

    static void close(List<ServerProcess> nodes) throws InterruptedException {
        for (ServerProcess n : nodes) {
            n.close();
        }
    }
}
