package io.tern.server;

import io.tern.broker.BrokerConfig;
import io.tern.discovery.DiscoveryAgent;
import io.tern.discovery.DiscoveryConfig;
import io.tern.discovery.ServiceUri;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code tern server}: runs one node until SIGTERM (graceful stop) or SIGKILL. */
@Command(name = "server", description = "Run a Tern node.")
final class ServerCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(ServerCommand.class);

    @Mixin
    ServerOptions options = new ServerOptions();

    @Override
    public Integer call() throws Exception {
        BrokerConfig.Builder b = BrokerConfig.builder()
                .name(options.name)
                .dataDir(options.dataDir())
                .bindAddress(options.bind)
                .port(options.port)
                .maxFrameSize(options.maxFrame)
                .users(options.users);
        if (options.memoryLimit != null) {
            b.memoryLimitBytes(options.memoryLimit);
        }
        if (options.config != null) {
            LOG.warn("--config {} is accepted but a single node reads no settings from it yet", options.config);
        }
        org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
        org.slf4j.bridge.SLF4JBridgeHandler.install();
        TernServer server = TernServer.start(b.build());
        DiscoveryAgent discovery = startDiscovery(server);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("tern server " + options.name + " stopping");
            if (discovery != null) {
                discovery.close(); // goodbye first: clients stop choosing this node before it closes
            }
            server.close();
            System.out.println("tern server " + options.name + " stopped");
            System.out.flush();
            stopped.countDown();
        }, "tern-shutdown"));
        System.out.println("tern server " + options.name + " listening on " + server.url());
        System.out.flush();
        stopped.await();
        return 0;
    }

    /** Announces {@code cluster:jms:tern://host:port} on multicast, unless --discovery-port 0. */
    private DiscoveryAgent startDiscovery(TernServer server) {
        if (options.discoveryPort == 0) {
            return null;
        }
        DiscoveryConfig config = Discovery.config(options.discoveryAddress, options.discoveryPort, options.networkInterface,
                options.discoverySecret);
        DiscoveryAgent agent = new DiscoveryAgent(config).start();
        ServiceUri jms = new ServiceUri(options.cluster, "jms", java.net.URI.create(server.url()));
        agent.announce(jms);
        LOG.info("Announcing {} on multicast {}:{} via {} (ttl {}{})", jms, config.groupAddress().getHostAddress(),
                config.port(), config.networkInterface(), config.ttl(), config.secret() != null ? ", signed" : "");
        return agent;
    }
}
