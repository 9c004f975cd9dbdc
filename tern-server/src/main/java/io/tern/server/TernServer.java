package io.tern.server;

import io.tern.broker.Broker;
import io.tern.broker.BrokerConfig;
import io.tern.broker.net.BrokerAcceptor;
import io.tern.broker.store.RocksDbStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/** A running node: store, broker and acceptor, started and stopped together. */
public final class TernServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TernServer.class);

    private final Broker broker;
    private final BrokerAcceptor acceptor;
    private final InetSocketAddress address;

    private TernServer(Broker broker, BrokerAcceptor acceptor, InetSocketAddress address) {
        this.broker = broker;
        this.acceptor = acceptor;
        this.address = address;
    }

    /** Opens the store in {@code config.dataDir()} (or keeps nothing if it is null), recovers, and listens. */
    public static TernServer start(BrokerConfig config) throws InterruptedException {
        String nodeId = config.dataDir() == null ? UUID.randomUUID().toString() : nodeId(config.dataDir());
        var store = config.dataDir() == null ? new io.tern.broker.store.TransientStore()
                : new RocksDbStore(config.dataDir().resolve("store"));
        Broker broker = new Broker(config, store, nodeId);
        broker.start();
        BrokerAcceptor acceptor = new BrokerAcceptor(broker);
        InetSocketAddress bound = acceptor.start();
        warnIfExposed(config.bindAddress());
        LOG.info("Node {} ({}) ready; data in {}", config.name(), nodeId, config.dataDir());
        return new TernServer(broker, acceptor, bound);
    }

    private static void warnIfExposed(String bind) {
        try {
            if (InetAddress.getByName(bind).isLoopbackAddress()) {
                LOG.info("Bound to loopback ({}) only: clients on other machines cannot connect. Use --bind to change.", bind);
            } else {
                LOG.warn("Bound to {}: reachable from the network.", bind);
            }
        } catch (IOException e) {
            LOG.warn("Cannot resolve bind address {}: {}", bind, e.getMessage());
        }
    }

    /** The node's stable id, created once and kept in the data directory. */
    static String nodeId(Path dataDir) {
        Path file = dataDir.resolve("node-id");
        try {
            Files.createDirectories(dataDir);
            if (Files.exists(file)) {
                return Files.readString(file, StandardCharsets.UTF_8).trim();
            }
            String id = UUID.randomUUID().toString();
            Files.writeString(file, id + "\n", StandardCharsets.UTF_8);
            return id;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create the node id in " + dataDir, e);
        }
    }

    public Broker broker() {
        return broker;
    }

    public BrokerAcceptor acceptor() {
        return acceptor;
    }

    public InetSocketAddress address() {
        return address;
    }

    public String url() {
        return "tern://" + address.getHostString() + ":" + address.getPort();
    }

    /** Graceful stop: no new connections, close the existing ones, flush the store. */
    @Override
    public void close() {
        LOG.info("Stopping node {}", broker.config().name());
        broker.beginShutdown();
        acceptor.close();
        broker.close();
        LOG.info("Node {} stopped", broker.config().name());
    }
}
