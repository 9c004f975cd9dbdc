package io.tern.broker;

import io.tern.protocol.ClusterTopology;
import io.tern.broker.security.AccessControl;
import io.tern.broker.security.Permission;
import io.tern.protocol.DestinationName;
import io.tern.protocol.ErrorCode;
import io.tern.protocol.Frame;
import io.tern.protocol.Request;
import io.tern.protocol.RequestFrame;
import io.tern.protocol.Response;
import io.tern.protocol.ResponseFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The server side of one client connection. Requests run in arrival order on the connection's
 * serial executor; a request that waits for the store or for queues answers when that completes,
 * without holding up the executor.
 */
public final class ServerConnection {
    private static final Logger LOG = LoggerFactory.getLogger(ServerConnection.class);

    final long id;
    private final Broker broker;
    private final FrameSink sink;
    private final SerialExecutor executor;
    /** The memory limit's say on this connection's sends (under BLOCK they wait for room, in order). */
    private final SendAdmissions admissions;
    private final Map<Integer, ServerSession> sessions = new ConcurrentHashMap<>();
    private final Map<Long, ServerConsumer> consumers = new ConcurrentHashMap<>();
    private final ConnectionTemporaries temporaries;
    volatile String clientId;
    /** The client's name for this connection across failovers (Hello); null if it gave none. */
    volatile String connectionKey;
    /** It kept its deliveries for a newer connection of its client ({@link #handOver}): its close gives none back. */
    private volatile boolean handedOver;
    final String linkPeer;
    /** Which start of the linked member this link serves (null for a client): what it leaves in doubt names it. */
    final PeerStart linkStart;
    /** Who the client is and what it brings from the node it came from, once its HELLO is answered. */
    private final Handshake handshake;
    /** What this connection's requests may do: permissions, names, limits. */
    private final ConnectionChecks checks;
    /** An administration connection (it asked for a drain): not counted as a client to move away. */
    private volatile boolean admin;
    /** The node this client failed over from (its Hello said so); it moves back when that node returns. */
    volatile String failedOverFrom;
    /** The node whose client this is, served here by the arbiter: see {@link FailoverAdmission#arbiterFor} and Handshake. */
    volatile String arbiterFor;
    /** Completes when the connection is closed and everything it held went back. */
    final CompletableFuture<Void> gone = new CompletableFuture<>();
    private volatile boolean closed;

    ServerConnection(Broker broker, long id, FrameSink sink, SerialExecutor executor) {
        this(broker, id, sink, executor, null, null);
    }

    /**
     * A connection; {@code linkPeer} is the node id of the cluster member it serves when it is a
     * cluster link (that member moves messages of this node's queues to its own consumers), null
     * for a client. A link is authenticated by its membership: it sends no HELLO.
     */
    ServerConnection(Broker broker, long id, FrameSink sink, SerialExecutor executor, String linkPeer, PeerStart linkStart) {
        this.broker = broker;
        this.linkStart = linkStart;
        this.id = id;
        this.sink = sink;
        this.executor = executor;
        this.linkPeer = linkPeer;
        this.handshake = new Handshake(broker, this, executor, linkPeer);
        this.checks = new ConnectionChecks(broker, this);
        this.temporaries = new ConnectionTemporaries(broker, this, checks);
        this.admissions = new SendAdmissions(broker, executor, () -> closed, this::accept, this::fail);
        if (linkPeer != null) {
            connectionKey = LINK_KEY_PREFIX + linkPeer + ":" + id; // names its sessions' deliveries in delivery marks
        }
    }

    /** Connection keys of cluster links start so: deliveries marked for them went to another node, not to a client. */
    public static final String LINK_KEY_PREFIX = "link:";

    /** True for a cluster link (see the constructor). */
    boolean isLink() {
        return linkPeer != null;
    }

    /**
     * Requests that wait while the node checks after a pause of its JVM ({@link NodeAvailability#holdsRequests}),
     * in the order they came; confined to the executor.
     */
    private final java.util.ArrayDeque<RequestFrame> held = new java.util.ArrayDeque<>();

    /** Entry point from the transport: handles the request on this connection's executor, in order. */
    public void handle(RequestFrame frame) {
        executor.execute(() -> {
            if (!held.isEmpty() || broker.availability().holdsRequests()) {
                held.add(frame); // served after the check, unless the connection is closed by then
                return;
            }
            dispatch(frame);
        });
    }

    /** The node serves requests again after a pause: the ones held meanwhile are handled now, in order. */
    void releaseHeld() {
        executor.execute(() -> {
            while (!held.isEmpty() && !broker.availability().holdsRequests()) {
                dispatch(held.poll());
            }
        });
    }

    void write(Frame frame) {
        if (!closed) {
            sink.write(frame);
        }
    }

    void flush() {
        sink.flush();
    }

    /** The bytes of deliveries given to this connection and not yet written; when it drains, its consumers' queues dispatch again. */
    final OutboundWindow window = new OutboundWindow(OutboundWindow.LIMIT, () -> consumers.values().stream()
            .map(c -> c.queue).distinct().forEach(q -> q.executor().execute(q::dispatch)));

    /** Writes a delivery of {@code bytes}, counted in {@link #window} when it was given. */
    void writeDelivery(Frame frame, long bytes) {
        if (closed) {
            window.written(bytes);
        } else {
            sink.write(frame, () -> window.written(bytes));
        }
    }

    void reply(RequestFrame request, Response response) {
        if (request.oneWay() && !(response instanceof Response.Error)) {
            return;
        }
        long digest = broker.topologyDigest();
        ClusterTopology topology = request.topologyDigest() == digest ? null : broker.topology();
        if (!closed) {
            sink.write(new ResponseFrame(request.correlationId(), topology, response));
            sink.flush();
        }
    }

    private void fail(RequestFrame request, Throwable t) {
        Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        if (cause instanceof BrokerException b) {
            reply(request, new Response.Error(b.code(), b.getMessage()));
        } else {
            LOG.error("Request {} failed on connection {}", request.request().getClass().getSimpleName(), id, cause);
            reply(request, new Response.Error(ErrorCode.INTERNAL, String.valueOf(cause)));
        }
    }

    /** Answers once {@code future} completes: with its response if it is one, else OK; or with its failure. */
    private void replyWhen(RequestFrame request, CompletableFuture<?> future) {
        future.whenComplete((ok, failure) -> {
            if (failure == null) {
                reply(request, ok instanceof Response r ? r : Response.OK);
            } else {
                fail(request, failure);
            }
        });
    }

    private void dispatch(RequestFrame frame) {
        if (closed) {
            return;
        }
        try {
            Request request = frame.request();
            if (!handshake.done() && !(request instanceof Request.Hello)) {
                throw new BrokerException(ErrorCode.ILLEGAL_STATE, "the first request must be HELLO");
            }
            if (request instanceof Request.Hello r) {
                handshake.hello(frame, r);
            } else if (request instanceof Request.SetClientId r) {
                if (clientId != null) {
                    throw new BrokerException(ErrorCode.ILLEGAL_STATE, "client id is already set");
                }
                broker.connections().claimClientId(r.clientId(), this);
                clientId = r.clientId();
                reply(frame, Response.OK);
            } else if (request instanceof Request.CreateSession r) {
                if (r.ackMode() < Request.TRANSACTED || r.ackMode() > Request.DUPS_OK_ACKNOWLEDGE) {
                    throw new BrokerException(ErrorCode.MALFORMED_FRAME, "unknown acknowledge mode " + r.ackMode());
                }
                checks.within(sessions.size(), broker.config().limits().sessions(), "sessions", "--max-sessions-per-connection");
                sessions.put(r.sessionId(), new ServerSession(r.sessionId(), r.ackMode(), this, broker.memory()));
                reply(frame, Response.OK);
            } else if (request instanceof Request.CloseSession r) {
                replyWhen(frame, closeSession(session(r.sessionId()), toSet(r.seen()), false));
            } else if (request instanceof Request.CreateConsumer r) {
                createConsumer(frame, r);
            } else if (request instanceof Request.CloseConsumer r) {
                replyWhen(frame, closeConsumer(consumer(r.consumerId()), toSet(r.seen())));
            } else if (request instanceof Request.Unsubscribe r) {
                broker.destinations().unsubscribe(this, r.subscriptionName(),
                        topic -> authorize(Permission.DELETE, new DestinationName(DestinationName.Kind.TOPIC, topic)));
                reply(frame, Response.OK);
            } else if (request instanceof Request.Send r) {
                send(frame, r);
            } else if (request instanceof Request.Ack r) {
                ack(frame, r);
            } else if (request instanceof Request.Recover r) {
                ServerSession s = session(r.sessionId());
                replyAndResume(frame, s, returnAll(s, toSet(r.seen())::contains));
            } else if (request instanceof Request.Commit r) {
                commit(frame, session(r.sessionId()));
            } else if (request instanceof Request.Rollback r) {
                ServerSession s = session(r.sessionId());
                s.rolledBack();
                replyAndResume(frame, s, returnAll(s, toSet(r.seen())::contains));
            } else if (request instanceof Request.Browse r) {
                browse(frame, r);
            } else if (request instanceof Request.CreateTemp r) {
                reply(frame, new Response.TempCreated(temporaries.create(r)));
            } else if (request instanceof Request.DeleteTemp r) {
                temporaries.delete(r.destination());
                reply(frame, Response.OK);
            } else if (request instanceof Request.Credit r) {
                ServerConsumer c = consumer(r.consumerId());
                c.queue.executor().execute(() -> c.queue.grant(c, r.messages(), r.bytes()));
                reply(frame, Response.OK);
            } else if (request instanceof Request.Release r) {
                replyWhen(frame, release(consumer(r.consumerId()), r.deliveryIds()));
            } else if (request instanceof Request.Pull r) {
                ServerConsumer c = consumer(r.consumerId());
                c.queue.executor().execute(() -> {
                    c.queue.dispatch();
                    reply(frame, Response.OK);
                });
            } else if (request instanceof Request.Ping r) {
                reply(frame, Response.OK);
            } else if (request instanceof Request.Drain r) {
                authorize(Permission.MANAGE, null);
                if (!r.nodeName().equals(broker.config().name())) {
                    throw new BrokerException(ErrorCode.INVALID_DESTINATION, "this is node '" + broker.config().name()
                            + "', not '" + r.nodeName() + "'; ask that node");
                }
                if (!admin) {
                    LOG.info("Drain of node {} asked by user '{}' from {}", broker.config().name(), LogText.of(handshake.user()),
                            remoteAddress());
                }
                admin = true;
                reply(frame, new Response.Drained(broker.connections().drain(this)));
            } else if (request instanceof Request.RecoverSession r) {
                ServerSession s = session(r.sessionId());
                broker.holds().recover(s, r.messages(), consumers::get,
                        handshake.acknowledgedHereIfNotKept()).whenComplete((ids, failure) -> {
                    if (failure == null) {
                        reply(frame, new Response.Recovered(ids));
                    } else {
                        fail(frame, failure);
                    }
                });
            }
        } catch (BrokerException | IllegalArgumentException e) {
            fail(frame, e instanceof BrokerException ? e : new BrokerException(ErrorCode.MALFORMED_FRAME, e.getMessage()));
        } catch (RuntimeException e) {
            fail(frame, e);
        }
    }

    private ServerSession session(int sessionId) {
        ServerSession s = sessions.get(sessionId);
        if (s == null) {
            throw new BrokerException(ErrorCode.UNKNOWN_SESSION, "no session " + sessionId);
        }
        return s;
    }

    private ServerConsumer consumer(long consumerId) {
        ServerConsumer c = consumers.get(consumerId);
        if (c == null) {
            throw new BrokerException(ErrorCode.UNKNOWN_CONSUMER, "no consumer " + consumerId);
        }
        return c;
    }

    private static Set<Long> toSet(long[] ids) {
        Set<Long> set = new HashSet<>(ids.length * 2);
        for (long id : ids) {
            set.add(id);
        }
        return set;
    }

    private void createConsumer(RequestFrame frame, Request.CreateConsumer r) {
        ServerSession s = session(r.sessionId());
        checks.authorizeUse(Permission.CONSUME, r.destination());
        if (consumers.containsKey(r.consumerId())) {
            throw new BrokerException(ErrorCode.ILLEGAL_STATE, "consumer id " + r.consumerId() + " is in use");
        }
        if (r.prefetch() < 0) {
            throw new BrokerException(ErrorCode.MALFORMED_FRAME, "prefetch must be >= 0: " + r.prefetch());
        }
        checks.within(consumers.size(), broker.config().limits().consumers(), "consumers", "--max-consumers-per-connection");
        SelectorFilter selector = checks.selector(r.selector());
        boolean topic = !r.destination().kind().isQueueLike();
        MessageQueue q = linkPeer != null ? broker.destinations().linkPart(r.destination().name())
                : broker.destinations().consumerQueue(this, r.destination(), selector, r.noLocal(), r.subscriptionName(),
                r.subscriptionKind());
        // On a topic the subscription filters what it keeps; on a queue the consumer filters what it takes.
        ServerConsumer c = new ServerConsumer(r.consumerId(), s, q, topic ? null : selector, topic && r.noLocal(),
                r.prefetch(), r.windowBytes());
        consumers.put(c.id, c);
        checks.consuming(c.id, r.destination());
        s.consumers.add(c);
        q.executor().execute(() -> q.addConsumer(c));
        reply(frame, Response.OK);
    }

    private void send(RequestFrame frame, Request.Send r) {
        ServerSession s = session(r.sessionId());
        checks.authorizeUse(Permission.SEND, r.message().destination());
        String refusal = broker.sendsRefused();
        if (refusal != null) {
            throw new BrokerException(ErrorCode.NOT_IN_QUORUM, refusal);
        }
        admissions.admit(frame, s, r);
    }

    /** Stores a send (or adds it to its session's transaction) and answers it. */
    private void accept(RequestFrame frame, ServerSession s, Request.Send r) {
        if (s.transacted()) {
            s.sent(r.message());
            reply(frame, Response.OK);
            return;
        }
        broker.publish(List.of(r.message()), List.of(), this).whenComplete((ok, failure) -> {
            if (failure != null) {
                fail(frame, failure);
            } else {
                reply(frame, Response.OK);
            }
        });
    }

    private void ack(RequestFrame frame, Request.Ack r) {
        ServerSession s = session(r.sessionId());
        List<Delivery> acked = s.acknowledged(r.deliveryIds());
        if (s.transacted()) {
            reply(frame, Response.OK);
        } else {
            // Clients of AUTO and DUPS_OK sessions never wait for an acknowledgement: no fsync of its own.
            boolean waited = s.ackMode == Request.CLIENT_ACKNOWLEDGE;
            replyWhen(frame, broker.publish(List.of(), acked, this, waited));
        }
    }

    private void commit(RequestFrame frame, ServerSession s) {
        if (!s.transacted()) {
            throw new BrokerException(ErrorCode.ILLEGAL_STATE, "session " + s.id + " is not transacted");
        }
        ServerSession.Transaction t = s.commitNow();
        List<Delivery> acks = t.acks();
        CompletableFuture<Void> done;
        try {
            done = broker.publish(t.sends(), acks, this);
            // Queued now (or dropped): the queues count what they hold; the transaction's count goes.
            done.whenComplete((ok, failure) -> broker.memory().released(t.sendBytes()));
        } catch (BrokerException e) {
            broker.memory().released(t.sendBytes());
            s.giveBack(acks);
            throw new BrokerException(ErrorCode.TRANSACTION_ROLLED_BACK, "transaction rolled back: " + e.getMessage());
        }
        done.whenComplete((ok, failure) -> {
            if (failure == null) {
                reply(frame, Response.OK);
                return;
            }
            s.giveBack(acks);
            reply(frame, new Response.Error(ErrorCode.TRANSACTION_ROLLED_BACK,
                    "transaction rolled back: " + failure.getMessage()));
        });
    }

    private void browse(RequestFrame frame, Request.Browse r) {
        if (!r.queue().kind().isQueueLike()) {
            throw new BrokerException(ErrorCode.INVALID_DESTINATION, "only queues can be browsed");
        }
        checks.checkNamed(r.queue());
        if (!r.queue().kind().isTemporary()) {
            authorize(Permission.BROWSE, r.queue());
        }
        SelectorFilter selector = checks.selector(r.selector());
        // A browser sees a queue as it is: one that does not exist is empty, and is not made.
        MessageQueue q = broker.destinations().existingQueue(r.queue());
        if (q != null && r.queue().kind().isTemporary() && q.owner != this && linkPeer == null) {
            throw new BrokerException(ErrorCode.NOT_AUTHORIZED, "a temporary queue may be browsed only by the connection that made it");
        }
        if (q == null) {
            reply(frame, new Response.BrowseBatch(List.of(), false));
            return;
        }
        int max = Math.max(1, Math.min(r.max(), 1000));
        // If paged messages cannot be read from the store, the browser gets the error.
        replyWhen(frame, q.executor().call(() -> q.browse(selector, r.afterSequence(), max)));
    }

    /** Stops the consumers on their queues; completes when no more deliveries can be written for them. */
    private static CompletableFuture<Void> stop(Collection<ServerConsumer> cs) {
        return CompletableFuture.allOf(cs.stream().map(c -> c.stop(false)).toArray(CompletableFuture[]::new));
    }

    /** Returns every unacknowledged delivery of the session (and its transaction) to its queue. */
    private CompletableFuture<Void> returnAll(ServerSession s, java.util.function.LongPredicate counted) {
        return stop(s.consumers).thenRunAsync(() -> {
            s.txAcks.forEach(d -> d.giveBack(true));
            s.txAcks.clear();
            s.takeOutstanding(false).forEach(d -> d.giveBack(counted.test(d.id())));
        }, executor);
    }

    /** Answers first, then restarts the session's consumers with fresh credit. */
    private void replyAndResume(RequestFrame frame, ServerSession s, CompletableFuture<Void> returned) {
        returned.whenCompleteAsync((ok, failure) -> {
            if (failure != null) {
                fail(frame, failure);
                return;
            }
            reply(frame, Response.OK);
            for (ServerConsumer c : s.consumers) {
                c.queue.executor().execute(() -> {
                    c.stopped = false;
                    c.refill();
                    c.queue.dispatch();
                });
            }
        }, executor);
    }

    /**
     * An idle consumer gives back deliveries it never showed the application: its credit goes to zero
     * first (so nothing more is pushed to it), then they return to the queue, not counted as delivered.
     */
    private CompletableFuture<Void> release(ServerConsumer c, long[] deliveryIds) {
        CompletableFuture<Void> withdrawn = c.queue.executor().submit(() -> c.queue.creditWithdrawn(c));
        return withdrawn.thenRunAsync(() -> {
            for (long deliveryId : deliveryIds) {
                Delivery d = c.session.unacked.get(deliveryId);
                if (d != null && d.consumer() == c && c.session.unacked.remove(deliveryId, d)) {
                    d.giveBack(false);
                }
            }
        }, executor);
    }

    private CompletableFuture<Void> closeConsumer(ServerConsumer c, Set<Long> seen) {
        return c.stop(true).thenRunAsync(() -> {
            consumers.remove(c.id);
            checks.stoppedConsuming(c.id);
            c.session.consumers.remove(c);
            for (Delivery d : List.copyOf(c.session.unacked.values())) {
                if (d.consumer() == c && !seen.contains(d.id()) && c.session.unacked.remove(d.id(), d)) {
                    d.giveBack(false);
                }
            }
            c.queue.executor().execute(() -> broker.destinations().consumerClosed(c.queue));
        }, executor);
    }

    private CompletableFuture<Void> closeSession(ServerSession s, Set<Long> seen, boolean countAll) {
        CompletableFuture<Void> returned = returnAll(s, countAll ? id -> true : seen::contains);
        return returned.thenComposeAsync(v -> {
            s.dropSends();
            sessions.remove(s.id);
            List<CompletableFuture<Void>> closes = new ArrayList<>();
            for (ServerConsumer c : List.copyOf(s.consumers)) {
                closes.add(closeConsumer(c, Set.of()));
            }
            return CompletableFuture.allOf(closes.toArray(CompletableFuture[]::new));
        }, executor);
    }

    /** The transport is gone: roll back, return every delivery, drop temporary destinations. */
    public void closed() {
        executor.execute(() -> {
            if (closed) {
                return;
            }
            closed = true;
            boolean givesBack = !handedOver && !sessions.isEmpty();
            held.clear(); // never served: the client resends what it still waits for on its next link
            List<CompletableFuture<Void>> closing = new ArrayList<>();
            for (ServerSession s : List.copyOf(sessions.values())) {
                // What a link's member did not acknowledge it may have stored: in doubt until the cluster finds out (MovesInDoubt).
                closing.add(linkPeer == null ? closeSession(s, Set.of(), true)
                        : stop(s.consumers).thenRunAsync(() -> broker.moves().inDoubt(linkPeer, linkStart, s.takeOutstanding(false)),
                                executor).thenCompose(v -> closeSession(s, Set.of(), false)));
            }
            CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new)).whenCompleteAsync((ok, failure) -> {
                temporaries.closed();
                broker.connections().disconnected(this, givesBack);
            }, executor);
        });
    }

    /** Pushes the lame-duck notice: the client moves to {@code target} and then leaves this connection. */
    void lameDuck(String target) {
        notice(io.tern.protocol.Notice.Kind.LAME_DUCK, target);
    }

    private void notice(io.tern.protocol.Notice.Kind kind, String uri) {
        executor.execute(() -> {
            write(new io.tern.protocol.Notice(kind, uri));
            flush();
        });
    }

    /** What a hand-over did: kept what the sessions held, held nothing (no session), or some of it went back to queues. */
    enum HandOver { KEPT, HELD_NOTHING, GAVE_BACK }

    /**
     * The client came back on another connection: stop the consumers, keep every unacknowledged delivery (and the
     * open transaction's) for the recovery there, then close. GAVE_BACK if it closed first or a transaction rolled back.
     */
    CompletableFuture<HandOver> handOver() {
        return CompletableFuture.supplyAsync(() -> stop(consumers.values()), executor).thenCompose(f -> f)
                .thenApplyAsync(v -> {
                    if (closed) {
                        return HandOver.GAVE_BACK;
                    }
                    handedOver = true; // on the executor, as closed(): it gives back nothing once this is set
                    HandOver done = sessions.isEmpty() ? HandOver.HELD_NOTHING
                            : sessions.values().stream().anyMatch(ServerSession::gaveBackReceipts) ? HandOver.GAVE_BACK : HandOver.KEPT;
                    sessions.values().forEach(s -> s.keepForRecovery(broker.holds()));
                    closeNow();
                    return done;
                }, executor);
    }

    /** Adds a delivery mark for every stored message out with one of this connection's sessions. */
    void outstandingDeliveries(List<? super io.tern.broker.store.StoreBatch.MarkDelivered> into) {
        sessions.values().forEach(s -> s.outstandingDeliveries(into));
    }

    /** Tells the client that the node it failed over from is back at {@code uri}. */
    void failBack(String uri) {
        failedOverFrom = null;
        notice(io.tern.protocol.Notice.Kind.FAILBACK, uri);
    }

    /** This connection for the console. */
    NodeView.ConnectionView view() {
        return new NodeView.ConnectionView(id, handshake.done() ? "open" : "hello pending", sink.remoteAddress(), handshake.user(),
                handshake.clientName(), clientId, sessions.size(), consumers.size(), failedOverFrom, admin);
    }

    boolean isAdmin() {
        return admin;
    }

    void closeNow() {
        sink.close();
    }

    ConnectionChecks checks() {
        return checks;
    }

    String remoteAddress() {
        return sink.remoteAddress();
    }

    /** Whether the connection has closed (a login that finishes later must not register it). */
    boolean isClosed() {
        return closed;
    }

    /** Refuses with NOT_AUTHORIZED unless this connection's user may do {@code permission} ({@link ConnectionChecks#authorize}). */
    void authorize(Permission permission, DestinationName destination) {
        checks.authorize(permission, destination);
    }

    /** Who logged in on this connection; null on a cluster link and before the HELLO. */
    AccessControl.Principal principal() {
        return handshake.principal();
    }

    /** Lets the client's large frames in: it is welcome. */
    void welcomed() {
        sink.welcomed();
    }

    /** The user a verified client certificate names; null without one. */
    String certifiedUser() {
        return sink.certifiedUser();
    }

    public long id() {
        return id;
    }

    ConnectionTemporaries temporaries() {
        return temporaries;
    }
}
