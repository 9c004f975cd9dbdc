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
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private TernServer(Broker broker, BrokerAcceptor acceptor, InetSocketAddress address) {
        this.broker = broker;
        this.acceptor = acceptor;
        this.address = address;
    }

    /** Opens the store in {@code config.dataDir()} (or keeps nothing if it is null), recovers, and listens. */
    public static TernServer start(BrokerConfig config) throws InterruptedException {
        return start(config, store -> store);
    }

    /** As {@link #start(BrokerConfig)}, with the store wrapped by {@code wrap} (replication). */
    public static TernServer start(BrokerConfig config,
                                   java.util.function.UnaryOperator<io.tern.broker.store.MessageStore> wrap)
            throws InterruptedException {
        return start(config, wrap, System::currentTimeMillis);
    }

    /** As above, with the broker's clock (tests run nodes whose clocks disagree). */
    public static TernServer start(BrokerConfig config,
                                   java.util.function.UnaryOperator<io.tern.broker.store.MessageStore> wrap,
                                   java.util.function.LongSupplier clockMs) throws InterruptedException {
        String nodeId = config.dataDir() == null ? UUID.randomUUID().toString() : nodeId(config.dataDir());
        var store = wrap.apply(config.dataDir() == null ? new io.tern.broker.store.TransientStore()
                : new RocksDbStore(config.dataDir().resolve("store")));
        Broker broker = new Broker(config, store, nodeId, clockMs);
        broker.start();
        BrokerAcceptor acceptor = new BrokerAcceptor(broker);
        InetSocketAddress bound = acceptor.start();
        broker.countRefusals("handshakes", acceptor.stats()::refusedHandshakes);
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
        return broker.config().scheme() + "://" + address.getHostString() + ":" + address.getPort();
    }

    /**
     * Graceful stop with a lame-duck period: refuse new connections, tell every client which server
     * to move to ({@code target} picks one per connection), wait up to {@code graceMs} for them to
     * leave (a client leaves once its requests in progress are answered and it holds nothing
     * unacknowledged from here), then close what remains.
     *
     * @return the connections still open when the grace ran out
     */
    public int shutdownGracefully(java.util.function.Supplier<String> target, long graceMs) {
        acceptor.stopAccepting();
        int before = broker.connectionCount();
        broker.lameDuck(target);
        long deadlineNs = System.nanoTime() + graceMs * 1_000_000L;
        while (broker.connectionCount() > 0 && System.nanoTime() < deadlineNs) {
            try {
                Thread.sleep(20); // polls the connection count until the clients have left
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        int left = broker.connectionCount();
        LOG.info("Lame duck: {} of {} client connection(s) moved away; closing {}", before - left, before, left);
        close();
        return left;
    }

    /** Stop: no new connections, close the existing ones, flush the store. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        LOG.info("Stopping node {}", broker.config().name());
        broker.beginShutdown();
        acceptor.close();
        broker.close();
        LOG.info("Node {} stopped", broker.config().name());
    }
}
