package io.tern.server;

import io.tern.broker.Broker;
import io.tern.broker.BrokerConfig;
import io.tern.client.TernConnectionFactory;
import io.tern.discovery.FreePorts;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * For applications' tests and the in-JVM benchmarks: a node in this JVM on a free loopback port with its own data directory; {@link #restart()} reopens
 * the same directory (a clean stop; use a {@code ServerProcess} to test a crash).
 */
public final class EmbeddedTern implements AutoCloseable {
    private final BrokerConfig config;
    private TernServer server;

    private EmbeddedTern(BrokerConfig config) throws InterruptedException {
        this.config = config;
        this.server = TernServer.start(config);
    }

    public static EmbeddedTern start() {
        return start(b -> b);
    }

    /** Starts a node whose config the caller may adjust (memory limit, users, ...). */
    public static EmbeddedTern start(UnaryOperator<BrokerConfig.Builder> adjust) {
        try {
            Path dir = Files.createTempDirectory("tern-test");
            BrokerConfig.Builder b = BrokerConfig.builder().name("test-" + dir.getFileName()).dataDir(dir)
                    .port(FreePorts.free()).bindAddress("127.0.0.1");
            return new EmbeddedTern(adjust.apply(b).build());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public String url() {
        return server.url();
    }

    public int port() {
        return server.address().getPort();
    }

    public TernConnectionFactory factory() {
        return new TernConnectionFactory(url());
    }

    public TernConnectionFactory factory(String options) {
        return new TernConnectionFactory(url() + "?" + options);
    }

    public Broker broker() {
        return server.broker();
    }

    public TernServer server() {
        return server;
    }

    public void restart() throws InterruptedException {
        server.close();
        server = TernServer.start(config);
    }

    @Override
    public void close() {
        server.close();
    }
}
