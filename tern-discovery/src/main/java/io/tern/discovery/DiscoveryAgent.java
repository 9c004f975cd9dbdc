package io.tern.discovery;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;

import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Announces this process's services, listens for everyone's, answers queries. One thread does all
 * the work (an agent): receive, announce every period, expire what was not heard for the timeout.
 * Logging goes through java.util.logging, which SLF4J bridges in the server; the module stays JDK-only.
 */
public final class DiscoveryAgent implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DiscoveryAgent.class.getName());
    private static final SecureRandom RANDOM = new SecureRandom();

    private final DiscoveryConfig config;
    /** Signs and checks packets: the secret bound to this group's address and port (null: unsigned). */
    private final byte[] signingKey;
    private final LongSupplier clockMs;
    private final Set<ServiceUri> local = ConcurrentHashMap.newKeySet();
    private final Map<ServiceUri, Long> heard = new ConcurrentHashMap<>();
    private final List<DiscoveryListener> listeners = new CopyOnWriteArrayList<>();
    /** Nonces of signed packets within the skew window: a second sighting is a replay. Agent thread only. */
    private final Map<Long, Long> nonces = new HashMap<>();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final InetSocketAddress target;
    private DatagramChannel channel;
    private Selector selector;
    private Thread thread;
    private volatile boolean running;
    private long nextAnnounceMs;

    public DiscoveryAgent(DiscoveryConfig config) {
        this(config, System::currentTimeMillis);
    }

    public DiscoveryAgent(DiscoveryConfig config, LongSupplier clockMs) {
        this.config = config;
        this.signingKey = config.signingKey();
        this.clockMs = clockMs;
        this.target = new InetSocketAddress(config.groupAddress(), config.port());
    }

    /** Joins the group on the configured interface and starts the agent's thread. */
    public DiscoveryAgent start() {
        try {
            NetworkInterface nic = NetworkInterface.getByName(config.networkInterface());
            if (nic == null) {
                throw new IllegalArgumentException("no network interface named " + config.networkInterface());
            }
            channel = DatagramChannel.open(StandardProtocolFamily.INET)
                    .setOption(StandardSocketOptions.SO_REUSEADDR, true)
                    .bind(new InetSocketAddress(config.port()));
            channel.setOption(StandardSocketOptions.IP_MULTICAST_IF, nic);
            channel.setOption(StandardSocketOptions.IP_MULTICAST_TTL, config.ttl());
            channel.setOption(StandardSocketOptions.IP_MULTICAST_LOOP, true);
            channel.join(config.groupAddress(), nic);
            channel.configureBlocking(false);
            selector = Selector.open();
            channel.register(selector, SelectionKey.OP_READ);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot join discovery group " + target + " on " + config.networkInterface(), e);
        }
        running = true;
        thread = new Thread(this::run, "tern-discovery");
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    public void addListener(DiscoveryListener listener) {
        listeners.add(listener);
    }

    /** Starts announcing a service of this process (and announces it at once). */
    public void announce(ServiceUri service) {
        checkAdvertisable(service);
        local.add(service);
        send(DiscoveryPacket.Type.ANNOUNCE, service.toString());
    }

    /** Stops announcing a service and tells everyone it is gone. */
    public void withdraw(ServiceUri service) {
        if (local.remove(service)) {
            send(DiscoveryPacket.Type.GOODBYE, service.toString());
        }
    }

    /** Asks servers of {@code group} (null: every group) to announce themselves now. */
    public void query(String group) {
        send(DiscoveryPacket.Type.QUERY, group == null ? "*" : group);
    }

    /** The services heard and not expired, with when each was last heard. */
    public Map<ServiceUri, Long> services() {
        return Map.copyOf(heard);
    }

    /** Datagrams that were not discovery packets at all. */
    public long malformedPackets() {
        return malformed.get();
    }

    /** Well-formed packets dropped by the signature rules: unsigned, forged, stale or replayed. */
    public long rejectedPackets() {
        return rejected.get();
    }

    private void checkAdvertisable(ServiceUri service) {
        String host = service.uri().getHost();
        if (host == null) {
            return;
        }
        try {
            InetAddress address = InetAddress.getByName(host);
            if (address.isAnyLocalAddress()) {
                throw new IllegalArgumentException("will not advertise the wildcard address: " + service);
            }
            NetworkInterface nic = NetworkInterface.getByName(config.networkInterface());
            if (address.isLoopbackAddress() && nic != null && !nic.isLoopback()) {
                throw new IllegalArgumentException("will not advertise a loopback address on " + config.networkInterface()
                        + ": " + service);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot resolve the host of " + service + ": " + e.getMessage(), e);
        }
    }

    private void send(DiscoveryPacket.Type type, String payload) {
        DiscoveryPacket p = new DiscoveryPacket(type, clockMs.getAsLong(), RANDOM.nextLong(), payload);
        try {
            channel.send(ByteBuffer.wrap(p.encode(signingKey)), target);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "Cannot send a discovery packet to " + target + ": " + e.getMessage());
        }
    }

    private void run() {
        ByteBuffer buffer = ByteBuffer.allocate(DiscoveryPacket.MAX_BYTES + 1);
        while (running) {
            try {
                long now = clockMs.getAsLong();
                if (now >= nextAnnounceMs) {
                    local.forEach(s -> send(DiscoveryPacket.Type.ANNOUNCE, s.toString()));
                    nextAnnounceMs = now + config.periodMs();
                }
                expire(now);
                selector.select(Math.max(1, Math.min(config.periodMs(), nextAnnounceMs - now)));
                selector.selectedKeys().clear();
                buffer.clear();
                while (channel.receive(buffer) != null) {
                    buffer.flip();
                    received(buffer);
                    buffer.clear();
                }
            } catch (IOException | RuntimeException e) {
                if (running) {
                    LOG.log(Level.WARNING, "Discovery agent error: " + e, e);
                }
            }
        }
    }

    private void received(ByteBuffer buffer) {
        byte[] data = new byte[buffer.remaining()];
        buffer.get(data);
        DiscoveryPacket p;
        try {
            p = DiscoveryPacket.decode(data, data.length, signingKey);
        } catch (DiscoveryPacket.RejectedPacketException e) {
            (e.malformed() ? malformed : rejected).incrementAndGet();
            LOG.log(Level.FINE, "Dropped a discovery packet: " + e.getMessage());
            return;
        }
        long now = clockMs.getAsLong();
        if (config.secret() != null && !freshAndNew(p, now)) {
            rejected.incrementAndGet();
            return;
        }
        switch (p.type()) {
            case ANNOUNCE -> {
                ServiceUri s = ServiceUri.parse(p.payload());
                if (heard.put(s, now) == null) {
                    listeners.forEach(l -> l.serviceAdded(s));
                }
            }
            case GOODBYE -> {
                ServiceUri s = ServiceUri.parse(p.payload());
                if (heard.remove(s) != null) {
                    listeners.forEach(l -> l.serviceRemoved(s));
                }
            }
            case QUERY -> {
                String group = p.payload();
                for (ServiceUri s : local) {
                    if (group.equals("*") || group.equals(s.group())) {
                        send(DiscoveryPacket.Type.ANNOUNCE, s.toString());
                    }
                }
            }
        }
    }

    /** A signed packet must be within the skew window and its nonce not seen in it before. */
    private boolean freshAndNew(DiscoveryPacket p, long now) {
        if (Math.abs(now - p.timestampMs()) > config.maxSkewMs()) {
            return false;
        }
        nonces.values().removeIf(ts -> Math.abs(now - ts) > config.maxSkewMs());
        return nonces.putIfAbsent(p.nonce(), p.timestampMs()) == null;
    }

    private void expire(long now) {
        for (Iterator<Map.Entry<ServiceUri, Long>> it = heard.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<ServiceUri, Long> e = it.next();
            if (now - e.getValue() > config.timeoutMs()) {
                it.remove();
                listeners.forEach(l -> l.serviceRemoved(e.getKey()));
            }
        }
    }

    /** Says goodbye for every local service, then leaves the group. */
    @Override
    public void close() {
        if (!running) {
            return;
        }
        List.copyOf(local).forEach(this::withdraw);
        running = false;
        selector.wakeup();
        try {
            thread.join(5000);
            selector.close();
            channel.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            LOG.log(Level.FINE, "Closing the discovery channel: " + e.getMessage());
        }
    }

}
