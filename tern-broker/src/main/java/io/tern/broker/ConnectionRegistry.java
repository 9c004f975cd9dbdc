package io.tern.broker;

import io.tern.broker.store.MessageStore;
import io.tern.broker.store.StoreBatch;
import io.tern.protocol.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The client connections of one node: by id, by client id (one connection each) and by connection
 * key (a client that comes back on a new connection takes its deliveries over from the old one),
 * the keys this node welcomed (its own clients, as opposed to a taken-over node's), and what
 * moves them all: a drain, a lame-duck notice at shutdown, a failback to a node that is back.
 */
final class ConnectionRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionRegistry.class);

    private final Broker broker;
    private final MessageStore store;
    private final NodeAvailability availability;
    private final Function<String, SerialExecutor> executors;
    private final AtomicLong connectionIds = new AtomicLong();
    private volatile Supplier<String> nextServer = () -> "";
    private final Map<String, ServerConnection> clientIds = new ConcurrentHashMap<>();
    private final Map<Long, ServerConnection> connections = new ConcurrentHashMap<>();
    private final Map<Long, ServerConnection> links = new ConcurrentHashMap<>();
    private final Map<String, ServerConnection> connectionKeys = new ConcurrentHashMap<>();
    /**
     * The keys of the client connections this node welcomed since it started or last discarded what
     * was taken over (the most recent 100,000): a client that says it comes from this node with
     * another key was a client of this node before a takeover.
     */
    private final java.util.Set<String> issuedKeys = recentKeys();
    /**
     * The keys of the client connections that handed their deliveries over here (kept for their
     * sessions' recovery) since this node started or last discarded, as long as no later connection
     * of the same key gave deliveries back to the queues on closing (the most recent 100,000). A
     * client of such a key that comes back on yet another connection (the one that took the deliveries
     * over was an attempt it abandoned) lists as acknowledged only what was acknowledged here, or what
     * is kept for it: nothing it lists went back to a queue.
     */
    private final java.util.Set<String> handedOverKeys = recentKeys();

    /** A set of keys that keeps the most recent 100,000 (not thread-safe). */
    private static java.util.Set<String> recentKeys() {
        return java.util.Collections.newSetFromMap(new LinkedHashMap<String, Boolean>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > 100_000;
            }
        });
    }

    /** A new client connection writing to {@code sink}; refused while the broker shuts down. */
    ServerConnection connect(FrameSink sink) {
        if (availability.state() == NodeState.STOPPING) {
            throw new BrokerException(ErrorCode.SHUTTING_DOWN, "the server is shutting down");
        }
        long id = connectionIds.incrementAndGet();
        ServerConnection c = new ServerConnection(broker, id, sink, executors.apply("connection-" + id));
        connections.put(id, c);
        return c;
    }

    /**
     * A cluster link from member {@code peer} writing to {@code sink}: kept apart from the client
     * connections (a drain or a shutdown does not wait for it, the console lists it as a link).
     */
    ServerConnection connectLink(String peer, PeerStart start, FrameSink sink) {
        long id = connectionIds.incrementAndGet();
        ServerConnection c = new ServerConnection(broker, id, sink, executors.apply("link-" + id), peer, start);
        links.put(id, c);
        return c;
    }

    /** {@code c} closed; {@code gaveBack}: it had sessions, and what they held went back to the queues. */
    void disconnected(ServerConnection c, boolean gaveBack) {
        if (links.remove(c.id) != null) {
            c.gone.complete(null);
            return;
        }
        connections.remove(c.id);
        c.gone.complete(null);
        if (c.connectionKey != null) {
            if (gaveBack) {
                synchronized (handedOverKeys) {
                    handedOverKeys.remove(c.connectionKey);
                }
            }
            if (connectionKeys.remove(c.connectionKey, c) && store.tracksDeliveries()) {
                store.commitLazily(new StoreBatch().add(new StoreBatch.ClientGone(c.connectionKey)));
            }
        }
        if (c.clientId != null) {
            clientIds.remove(c.clientId, c);
        }
    }

    /** The connection that holds the connection key {@code key} now, or null. */
    ServerConnection byKey(String key) {
        return connectionKeys.get(key);
    }

    int count() {
        return connections.size();
    }

    void claimClientId(String clientId, ServerConnection c) {
        if (clientId.isBlank()) {
            throw new BrokerException(ErrorCode.INVALID_CLIENT_ID, "client id must not be blank");
        }
        ServerConnection holder = clientIds.putIfAbsent(clientId, c);
        if (holder != null && holder != c) {
            throw new BrokerException(ErrorCode.INVALID_CLIENT_ID, "client id '" + clientId + "' is in use");
        }
    }

    /**
     * The connection {@code c} says hello with a connection key. If an older connection of the same
     * client is still open here (the client lost it, this node has not noticed yet), that one hands
     * its deliveries over (kept for the sessions, as after a takeover) and closes; completes then,
     * with true if an older connection handed over, now or before ({@link #handedOverKeys}); false if
     * some of what it held went back to the queues (nothing may be counted as acknowledged then).
     */
    CompletableFuture<Boolean> claimConnectionKey(String key, ServerConnection c) {
        ServerConnection old = connectionKeys.put(key, c);
        synchronized (issuedKeys) {
            issuedKeys.add(key);
        }
        if (old == null && store.tracksDeliveries()) {
            // Ordered before anything the client does here: a node taking this one over knows it by its key.
            store.commitLazily(new StoreBatch().add(new StoreBatch.ClientConnected(key)));
        }
        if (old == null || old == c) {
            synchronized (handedOverKeys) {
                return CompletableFuture.completedFuture(handedOverKeys.contains(key));
            }
        }
        LOG.info("Client connection {} came back as connection {}: connection {} hands its deliveries over", key, c.id, old.id);
        return old.handOver().thenApply(done -> {
            synchronized (handedOverKeys) {
                if (done == ServerConnection.HandOver.KEPT) {
                    handedOverKeys.add(key);
                } else if (done == ServerConnection.HandOver.GAVE_BACK) {
                    handedOverKeys.remove(key);
                }
                return handedOverKeys.contains(key); // an attempt that held nothing changes nothing
            }
        });
    }

    /** After the users or permissions changed: closes the client connections whose consumers lost their permission. */
    int closeWhereAccessLost(io.tern.broker.security.AccessControl access) {
        int closed = 0;
        for (ServerConnection c : List.copyOf(connections.values())) {
            closed += c.checks().closeIfAccessLost(access) ? 1 : 0;
        }
        return closed;
    }

    /** Closes every connection, links too; completes when each has rolled back and returned its deliveries. */
    CompletableFuture<Void> closeAll() {
        List<CompletableFuture<Void>> gone = new ArrayList<>();
        List<ServerConnection> all = new ArrayList<>(connections.values());
        all.addAll(links.values());
        for (ServerConnection c : all) {
            gone.add(c.gone);
            c.closeNow();
        }
        return CompletableFuture.allOf(gone.toArray(CompletableFuture[]::new));
    }

    /**
     * Drains this node: new clients are redirected to the next server, and every client connection
     * but {@code except} gets a lame-duck notice and moves away (as at a graceful stop; the clients
     * keep acknowledging what they hold here until they are done with it). Stays drained until the
     * node stops. Returns the number of client connections still here besides {@code except}.
     */
    int drain(ServerConnection except) {
        if (!availability.draining()) {
            availability.drain();
            for (ServerConnection c : List.copyOf(connections.values())) {
                if (c != except) {
                    c.lameDuck(nextServer.get());
                }
            }
        }
        return (int) connections.values().stream().filter(c -> c != except && !c.isAdmin()).count();
    }

    /** True if this node welcomed a client connection with {@code key} since it started or last discarded. */
    boolean issuedHere(String key) {
        synchronized (issuedKeys) {
            return key != null && issuedKeys.contains(key);
        }
    }

    /** The server a new client is redirected to while this node drains; null if it is not draining. */
    String drainRedirect() {
        if (!availability.draining()) {
            return null;
        }
        String next = nextServer.get();
        return next == null || next.isEmpty() ? null : next;
    }

    /**
     * The node {@code nodeId} is back and serves again at {@code uri}: its clients that failed over
     * here are told to move back (failback); each does once it holds no unacknowledged message.
     * Returns how many were told.
     */
    int failBack(String nodeId, String uri) {
        int told = 0;
        for (ServerConnection c : List.copyOf(connections.values())) {
            if (nodeId.equals(c.failedOverFrom)) {
                c.failBack(uri);
                told++;
            }
        }
        if (told > 0) {
            LOG.info("Node {} is back at {}: {} client connection(s) that failed over from it move back", nodeId, uri, told);
        }
        return told;
    }

    /**
     * A member now serves at {@code uri} in a cluster of {@code members}: a {@code 1/members} share of
     * the client connections that chose this node (not failed over to it, not administration) moves
     * there, so that connections spread over the grown cluster. Each moves by itself as a planned
     * move, once it holds nothing unacknowledged and no open transaction (the failback notice).
     * Returns how many were asked to move.
     */
    int spreadTo(String uri, int members) {
        List<ServerConnection> chosen = connections.values().stream()
                .filter(c -> c.failedOverFrom == null && !c.isAdmin() && c.connectionKey != null)
                .sorted(java.util.Comparator.comparingLong((ServerConnection c) -> c.id).reversed()).toList();
        int share = members <= 1 ? 0 : chosen.size() / members;
        for (ServerConnection c : chosen.subList(0, share)) {
            c.failBack(uri);
        }
        if (share > 0) {
            LOG.info("A member serves at {}: {} of this node's {} client connection(s) move there, to spread the {} member(s)' load",
                    uri, share, chosen.size(), members);
        }
        return share;
    }

    /**
     * Tells every client that this node is shutting down, and where to go: {@code target} picks a
     * client URI for each connection (empty when the node knows no other server).
     */
    void lameDuck(java.util.function.Supplier<String> target) {
        for (ServerConnection c : List.copyOf(connections.values())) {
            c.lameDuck(target.get());
        }
    }


    ConnectionRegistry(Broker broker, MessageStore store, NodeAvailability availability,
                       Function<String, SerialExecutor> executors) {
        this.broker = broker;
        this.store = store;
        this.availability = availability;
        this.executors = executors;
        availability.addListener((from, to) -> {
            // Requests held after a pause are served once the node neither checks nor is fenced (a check that
            // finds the node taken over fences it and closes its connections: what they held is never served).
            if (to != NodeState.CHECKING && to != NodeState.FENCED) {
                connections.values().forEach(ServerConnection::releaseHeld);
                links.values().forEach(ServerConnection::releaseHeld);
            }
        });
    }

    void setNextServer(Supplier<String> next) {
        this.nextServer = next;
    }

    /** Every client connection here now. */
    List<ServerConnection> all() {
        return List.copyOf(connections.values());
    }

    /** Every cluster link here now. */
    List<ServerConnection> links() {
        return List.copyOf(links.values());
    }

    /** The node discarded what was taken over: the clients it welcomed before are the taker's. */
    void forgetIssuedKeys() {
        synchronized (issuedKeys) {
            issuedKeys.clear();
        }
        synchronized (handedOverKeys) {
            handedOverKeys.clear();
        }
    }

    /** The keys of the client connections here, and every stored message out with one: what a new backup needs. */
    void marks(List<StoreBatch.Mark> into) {
        connectionKeys.keySet().forEach(k -> into.add(new StoreBatch.ClientConnected(k)));
        for (ServerConnection c : all()) {
            c.outstandingDeliveries(into);
        }
    }

    /**
     * Decides a Hello from a client that failed over from another node: to serve it (as the owner
     * of what its node had, or not), or to send it to the node that owns that node's messages now.
     */
    private volatile java.util.function.Function<FailoverAdmission.Request, CompletableFuture<FailoverAdmission>> admission =
            from -> CompletableFuture.completedFuture(FailoverAdmission.WITHOUT_RECOVERY);

    void setAdmission(java.util.function.Function<FailoverAdmission.Request, CompletableFuture<FailoverAdmission>> admission) {
        this.admission = admission;
    }

    CompletableFuture<FailoverAdmission> admit(String fromNode, String connectionKey, boolean holdsNothing) {
        return admission.apply(new FailoverAdmission.Request(fromNode, connectionKey, holdsNothing));
    }
}
