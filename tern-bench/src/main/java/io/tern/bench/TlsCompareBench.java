package io.tern.bench;

import io.tern.client.TernConnectionFactory;
import io.tern.discovery.FreePorts;
import io.tern.server.ServerProcess;
import io.tern.testkit.TestCertificates;
import jakarta.jms.ConnectionFactory;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What TLS costs: Tern without TLS, Tern with TLS and Artemis with TLS, each a server process of its own
 * with its defaults (one certificate from a CA made for the run, EC P-256, TLS 1.3 negotiated by both),
 * the clients in this JVM with the same JMS code. Usage: {@code TlsCompareBench [scale]}. For each
 * workload: a warm-up run on each broker, then three rounds in rotating order; medians.
 */
public final class TlsCompareBench {
    public static void main(String[] args) throws Exception {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "logback-bench.xml");
        }
        double scale = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        List<Workload> workloads = List.of(
                new Workload("nonpersistent-1x1", 1, 1, (int) (200_000 * scale), 1024, false, 0),
                new Workload("persistent-1x1", 1, 1, (int) (5_000 * scale), 1024, true, 0),
                new Workload("persistent-8x8", 8, 8, (int) (40_000 * scale), 1024, true, 0),
                new Workload("persistent-1x1-64KiB", 1, 1, (int) (2_000 * scale), 64 * 1024, true, 0));
        Path dir = Files.createTempDirectory("tern-bench-tls");
        TestCertificates ca = TestCertificates.authority(dir.resolve("certs"), "bench-ca");
        TestCertificates.Issued cert = ca.server("bench-node");
        System.out.printf("machine: %d cores; brokers each a server process of its own, clients in this JVM; certificates in %s%n",
                Runtime.getRuntime().availableProcessors(), dir.resolve("certs"));
        List<ServerProcess> terns = new ArrayList<>();
        ArtemisServer artemis = null;
        try {
            for (String name : new String[]{"plain", "tls"}) {
                List<String> a = new ArrayList<>(List.of("-J-XX:MaxRAMPercentage=25", "--discovery-port", "0", "--no-console"));
                if (name.equals("tls")) {
                    a.addAll(List.of("--tls-cert", cert.certPem().toString(), "--tls-key", cert.keyPem().toString()));
                }
                ServerProcess p = new ServerProcess("bench-" + name, FreePorts.free(), dir.resolve(name), dir.resolve(name + ".log"),
                        a.toArray(String[]::new)).start();
                terns.add(p);
                if (!p.awaitListening(60_000)) {
                    throw new IllegalStateException("tern server did not start; see " + dir.resolve(name + ".log"));
                }
            }
            int artemisPort = FreePorts.free();
            artemis = ArtemisServer.startTls(dir.resolve("artemis"), artemisPort, dir.resolve("artemis.log"), cert.p12(),
                    TestCertificates.STORE_PASSWORD);
            ConnectionFactory plain = new TernConnectionFactory(terns.get(0).url());
            ConnectionFactory tls = new TernConnectionFactory(terns.get(1).url() + "?trust=" + ca.caPem());
            ConnectionFactory artemisTls = new ActiveMQConnectionFactory("tcp://127.0.0.1:" + artemisPort
                    + "?sslEnabled=true&trustStoreType=PKCS12&trustStorePath=" + ca.caP12() + "&trustStorePassword="
                    + TestCertificates.STORE_PASSWORD + "&verifyHost=true");
            List<String[]> rows = new ArrayList<>();
            for (Workload w : workloads) {
                double[][] r = CompareBench.rounds(w, plain, tls, artemisTls);
                double p = CompareBench.median(r[0]);
                double t = CompareBench.median(r[1]);
                double a = CompareBench.median(r[2]);
                System.out.printf("runs workload=%s tern=%s tern-tls=%s artemis-tls=%s%n", w.name(),
                        java.util.Arrays.toString(CompareBench.round(r[0])), java.util.Arrays.toString(CompareBench.round(r[1])),
                        java.util.Arrays.toString(CompareBench.round(r[2])));
                System.out.printf("RESULT workload=%s tern=%.0f tern-tls=%.0f artemis-tls=%.0f tls/plain=%.2f ratio=%.2f%n",
                        w.name(), p, t, a, t / p, t / a);
                rows.add(new String[]{w.name(), String.format("%.0f", p), String.format("%.0f", t), String.format("%.0f", a),
                        String.format("%.2f", t / p), String.format("%.2f", t / a)});
            }
            System.out.println();
            System.out.printf("%-22s %10s %10s %12s %10s %8s%n", "workload", "tern", "tern-tls", "artemis-tls", "tls/plain", "ratio");
            for (String[] row : rows) {
                System.out.printf("%-22s %10s %10s %12s %10s %8s%n", (Object[]) row);
            }
        } finally {
            if (artemis != null) {
                artemis.close();
            }
            for (ServerProcess p : terns) {
                p.close();
            }
        }
    }
}
