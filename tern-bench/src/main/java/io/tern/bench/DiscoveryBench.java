package io.tern.bench;

import io.tern.client.jndi.TernInitialContextFactory;
import io.tern.discovery.DiscoveryAgent;
import io.tern.discovery.DiscoveryConfig;
import io.tern.discovery.ServiceUri;
import io.tern.server.EmbeddedTern;
import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;

import javax.naming.Context;
import javax.naming.InitialContext;
import java.net.URI;
import java.util.Arrays;
import java.util.Properties;

/**
 * Time from {@code new InitialContext} with a {@code multicast://} provider URL to a connected
 * {@code Connection}, with the server announcing on the default 500 ms period (so a result well
 * under 500 ms can only come from the answer to the client's query). Multicast stays on loopback.
 */
public final class DiscoveryBench {

    public static void main(String[] args) throws Exception {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "logback-bench.xml");
        }
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        int port = io.tern.discovery.FreePorts.freeUdp();
        String address = io.tern.discovery.FreePorts.multicastGroup(204);
        try (EmbeddedTern tern = EmbeddedTern.start();
             DiscoveryAgent announcer = new DiscoveryAgent(DiscoveryConfig.loopback(address, port)).start()) {
            announcer.announce(new ServiceUri("bench", "jms", URI.create(tern.url())));
            Properties env = new Properties();
            env.put(Context.INITIAL_CONTEXT_FACTORY, TernInitialContextFactory.class.getName());
            env.put(Context.PROVIDER_URL, "multicast://" + address + ":" + port + "?group=bench&timeout=3000");
            double[] ms = new double[runs];
            for (int i = -5; i < runs; i++) {
                long start = System.nanoTime();
                ConnectionFactory cf = (ConnectionFactory) new InitialContext(env).lookup("ConnectionFactory");
                try (Connection c = cf.createConnection()) {
                    c.start();
                }
                if (i >= 0) {
                    ms[i] = (System.nanoTime() - start) / 1e6;
                }
            }
            Arrays.sort(ms);
            System.out.printf("multicast:// to connected over %d runs: median %.1f ms, p90 %.1f ms, max %.1f ms%n", runs,
                    ms[runs / 2], ms[(int) (runs * 0.9)], ms[runs - 1]);
            System.out.printf("RESULT workload=multicast-connect median_ms=%.1f max_ms=%.1f%n", ms[runs / 2], ms[runs - 1]);
        }
    }
}
