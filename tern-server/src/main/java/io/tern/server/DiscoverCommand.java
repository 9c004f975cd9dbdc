package io.tern.server;

import io.tern.discovery.DiscoveryAgent;
import io.tern.discovery.DiscoveryConfig;
import io.tern.discovery.ServiceUri;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code tern discover}: asks the multicast group who is there, listens for a while, prints what it heard. */
@Command(name = "discover", description = "Print the servers heard on multicast.")
final class DiscoverCommand implements Callable<Integer> {
    @Option(names = "--group", description = "Only this cluster group (default: every group)")
    String group;

    @Option(names = "--timeout", description = "How long to listen, e.g. 2s or 500ms (default: ${DEFAULT-VALUE})")
    String timeout = "2s";

    @Option(names = "--interface", description = "Network interface (default: loopback)")
    String networkInterface;

    @Option(names = "--discovery-address", description = "Multicast group address (default: ${DEFAULT-VALUE})")
    String address = DiscoveryConfig.DEFAULT_GROUP_ADDRESS;

    @Option(names = "--discovery-port", description = "Multicast port (default: ${DEFAULT-VALUE})")
    int port = DiscoveryConfig.DEFAULT_PORT;

    @picocli.CommandLine.Mixin
    ClusterSecretOption clusterSecret = new ClusterSecretOption();

    static Duration parseDuration(String text) {
        String t = text.trim().toLowerCase();
        if (t.endsWith("ms")) {
            return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
        }
        if (t.endsWith("s")) {
            return Duration.ofMillis((long) (Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
        }
        return Duration.ofMillis(Long.parseLong(t));
    }

    @Override
    public Integer call() throws Exception {
        Duration wait = parseDuration(timeout);
        long start = System.currentTimeMillis();
        Map<ServiceUri, Long> heard;
        io.tern.cluster.ClusterSecret secret;
        try {
            secret = clusterSecret.secret();
        } catch (IllegalArgumentException e) {
            System.err.println("discover: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        try (DiscoveryAgent agent = new DiscoveryAgent(Discovery.config(address, port, networkInterface, secret)).start()) {
            agent.query(group);
            Thread.sleep(wait.toMillis()); // listening is the whole job of this command
            heard = agent.services();
        }
        var services = heard.entrySet().stream().filter(e -> e.getKey().matches(group, null))
                .sorted(Comparator.comparing(e -> e.getKey().toString())).toList();
        if (services.isEmpty()) {
            System.out.println("no services heard on " + address + ":" + port + " in " + wait.toMillis() + " ms");
            return ExitCodes.FAILED;
        }
        System.out.printf("%-14s %-10s %-32s %s%n", "GROUP", "SERVICE", "URI", "LAST HEARD");
        for (var e : services) {
            ServiceUri s = e.getKey();
            System.out.printf("%-14s %-10s %-32s %d ms ago%n", s.group(), s.service(), s.uri(),
                    Math.max(0, System.currentTimeMillis() - e.getValue()));
        }
        System.out.printf("%d service(s) heard in %d ms%n", services.size(), System.currentTimeMillis() - start);
        return ExitCodes.OK;
    }
}
