package io.tern.bench;

import io.tern.broker.BrokerConfig;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.FailoverInfo;
import io.tern.protocol.NodeInfo;
import io.tern.server.TernServer;
import io.tern.discovery.FreePorts;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import io.tern.client.TernConnectionFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-request latency with 1 server against 8 servers in the client's list (issue 3: "no measurable
 * difference"). Both cases send to one in-memory node (no disk, so the round trip is all there is),
 * one synchronous persistent send at a time. In the 8-server case the URL names 8 live nodes and
 * each node's cluster list has all 8, so the client's topology holds 8 members. Rounds alternate
 * between the cases so that drift of the machine hits both alike.
 */
public final class ServerListBench {

    public static void main(String[] args) throws Exception {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "logback-bench.xml");
        }
        int sends = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        List<TernServer> servers = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) {
                servers.add(TernServer.start(BrokerConfig.builder().name("list-" + i).port(FreePorts.free())
                        .bindAddress("127.0.0.1").build()));
            }
            ClusterTopology eight = topology(servers);
            servers.forEach(s -> s.broker().setTopology(eight));
            StringBuilder eightUrl = new StringBuilder("tern://");
            for (TernServer s : servers) {
                eightUrl.append(eightUrl.length() > 7 ? "," : "").append("127.0.0.1:").append(s.address().getPort());
            }
            try (TernServer lone = TernServer.start(BrokerConfig.builder().name("lone").port(FreePorts.free())
                    .bindAddress("127.0.0.1").build())) {
                lone.broker().setTopology(topology(List.of(lone)));
                String loneUrl = "tern://127.0.0.1:" + lone.address().getPort();
                Case one = new Case("1 server ", loneUrl);
                Case many = new Case("8 servers", eightUrl.toString());
                try {
                    one.measure(sends); // warm-up, not counted
                    many.measure(sends);
                    for (int r = 0; r < rounds; r++) {
                        one.record(one.measure(sends));
                        many.record(many.measure(sends));
                    }
                    System.out.println("server list in the client's topology: " + one.known() + " vs " + many.known());
                    one.print();
                    many.print();
                    double diff = (many.median() - one.median()) / one.median() * 100;
                    System.out.printf("RESULT workload=server-list-latency one_us=%.1f eight_us=%.1f diff_pct=%.1f%n",
                            one.median(), many.median(), diff);
                } finally {
                    one.close();
                    many.close();
                }
            }
        } finally {
            servers.forEach(TernServer::close);
        }
    }

    private static ClusterTopology topology(List<TernServer> servers) {
        List<NodeInfo> members = new ArrayList<>();
        Map<String, List<FailoverInfo>> failover = new LinkedHashMap<>();
        for (TernServer s : servers) {
            members.add(new NodeInfo(s.url(), s.url().substring(7), "", List.of(s.url()), ""));
            failover.put(s.url(), List.of());
        }
        return new ClusterTopology(members, failover, false);
    }

    /** One client, one producer; median microseconds per synchronous send over each round. */
    private static final class Case implements AutoCloseable {
        private final String name;
        private final TernConnectionFactory factory;
        private final Connection connection;
        private final Session session;
        private final MessageProducer producer;
        private final List<double[]> rounds = new ArrayList<>();

        Case(String name, String url) throws Exception {
            this.name = name;
            this.factory = new TernConnectionFactory(url);
            this.connection = factory.createConnection();
            this.session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            this.producer = session.createProducer(session.createQueue("latency"));
            producer.setDeliveryMode(DeliveryMode.PERSISTENT);
        }

        double[] measure(int sends) throws Exception {
            double[] us = new double[sends];
            var m = session.createTextMessage("x".repeat(100));
            for (int i = 0; i < sends; i++) {
                long start = System.nanoTime();
                producer.send(m);
                us[i] = (System.nanoTime() - start) / 1e3;
            }
            Arrays.sort(us);
            return us;
        }

        void record(double[] us) {
            rounds.add(us);
        }

        int known() {
            return factory.knownServers().size();
        }

        double median() {
            double[] medians = rounds.stream().mapToDouble(r -> r[r.length / 2]).sorted().toArray();
            return medians[medians.length / 2];
        }

        void print() {
            StringBuilder b = new StringBuilder();
            for (double[] r : rounds) {
                b.append(String.format(" %.1f/%.1f", r[r.length / 2], r[(int) (r.length * 0.99)]));
            }
            System.out.printf("%s: median of round medians %.1f us; per round median/p99 us:%s%n", name, median(), b);
        }

        @Override
        public void close() throws Exception {
            connection.close();
        }
    }
}
