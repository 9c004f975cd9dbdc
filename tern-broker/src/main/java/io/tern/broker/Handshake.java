package io.tern.broker;

import io.tern.broker.security.AccessControl;
import io.tern.protocol.ErrorCode;
import io.tern.protocol.Request;
import io.tern.protocol.RequestFrame;
import io.tern.protocol.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.Executor;

/**
 * A client connection's HELLO: whether the node takes clients now (starting, fenced, drained), whether
 * a client of another node belongs here ({@link Broker#admit}: the owner of that node's messages serves
 * it, others redirect it), the user's password, and the hand-over from an older connection of the same
 * client. Keeps who the client is and what that tells its session recovery.
 */
final class Handshake {
    private static final Logger LOG = LoggerFactory.getLogger(Handshake.class);

    private final Broker broker;
    private final ServerConnection connection;
    private final Executor executor;
    private volatile boolean done;
    /** A HELLO came: a second one is refused, also while the first is being checked. */
    private volatile boolean helloSeen;
    /** Who connected and under what name, for the console. */
    private volatile String user;
    private volatile String clientName;
    /** Who logged in, with their roles; null before the HELLO and on a cluster link. */
    private volatile AccessControl.Principal principal;
    /**
     * The client came from a node this node had taken over: what its sessions list as acknowledged
     * and this node does not keep was acknowledged there.
     */
    private volatile boolean recoversAsOwner;
    /**
     * An older connection of this client was still open here and handed its deliveries over: what its
     * sessions list as acknowledged and this node does not keep for them was acknowledged here.
     */
    private volatile boolean handedOverHere;

    /** {@code linkPeer}: the member a cluster link serves (authenticated by its membership: no HELLO), or null. */
    Handshake(Broker broker, ServerConnection connection, Executor executor, String linkPeer) {
        this.broker = broker;
        this.connection = connection;
        this.executor = executor;
        if (linkPeer != null) {
            done = true;
            user = "cluster member " + linkPeer;
            clientName = "tern-link";
        }
    }

    /** True once the client is welcome (a cluster link always is). */
    boolean done() {
        return done;
    }

    String user() {
        return user;
    }

    /** Who logged in; null on a cluster link (its member is trusted by its membership) and before the HELLO. */
    AccessControl.Principal principal() {
        return principal;
    }

    String clientName() {
        return clientName;
    }

    /**
     * Whether what the client's sessions list as acknowledged, and this node does not keep for them,
     * counts as acknowledged when they recover: they come from a node this node took over, or an older
     * connection of theirs here handed its deliveries over.
     */
    boolean acknowledgedHereIfNotKept() {
        return (broker.tracksDeliveries() && recoversAsOwner) || handedOverHere;
    }

    /** How long the sends of a client served by the arbiter ({@link FailoverAdmission#arbiterFor}) are claimed. */
    private static final long ARBITER_WINDOW_MS = 30_000;

    void hello(RequestFrame frame, Request.Hello r) {
        if (done || helloSeen) {
            throw new BrokerException(ErrorCode.ILLEGAL_STATE, "HELLO was already sent");
        }
        helloSeen = true;
        String held = broker.clientsHeld();
        if (held != null) {
            refuse(frame, new Response.Error(ErrorCode.NOT_READY, held));
            return;
        }
        String drainedTo = broker.connections().drainRedirect();
        if (drainedTo != null && !Request.Hello.ADMIN_CLIENT.equals(r.clientName())) {
            refuse(frame, new Response.Redirect(drainedTo, "node " + broker.config().name() + " is being drained"));
            return;
        }
        String from = r.fromNode();
        if (from == null) {
            welcome(frame, r);
            return;
        }
        // A client of another node: the owner of that node's messages serves it, once it has them.
        broker.connections().admit(from, r.connectionKey(), r.holdsNothing()).whenCompleteAsync((admission, failure) -> {
            if (failure != null) {
                LOG.warn("Could not tell who owns node {} now; serving its client here: {}", from, failure.toString());
            }
            if (failure == null && admission.redirectTo() != null) {
                String to = admission.redirectTo();
                refuse(frame, new Response.Redirect(to, "the messages of node " + from + " are served by " + to));
            } else {
                connection.failedOverFrom = from.equals(broker.nodeId()) ? null : from;
                if (connection.failedOverFrom != null) {
                    broker.traffic().failoverServed();
                }
                recoversAsOwner = failure == null && admission.owner();
                connection.arbiterFor = failure == null ? admission.arbiterFor() : null;
                if (connection.arbiterFor != null) {
                    // What the client resends comes right after the welcome; its later sends are new ones.
                    broker.scheduler().schedule(() -> connection.arbiterFor = null, ARBITER_WINDOW_MS,
                            java.util.concurrent.TimeUnit.MILLISECONDS);
                }
                welcome(frame, r);
            }
        }, executor);
    }

    /** The host of {@code host:port} (IPv6 hosts keep their colons). */
    private static String hostOf(String address) {
        int colon = address.lastIndexOf(':');
        return colon > 0 ? address.substring(0, colon) : address;
    }

    private void refuse(RequestFrame frame, Response response) {
        connection.reply(frame, response);
        connection.closeNow();
    }

    private void welcome(RequestFrame frame, Request.Hello r) {
        AccessControl access = broker.config().accessControl();
        String certified = connection.certifiedUser();
        AccessControl.Principal who;
        if (certified != null) {
            if (r.user() != null && !r.user().isEmpty() && !r.user().equals(certified)) {
                LOG.warn("Connection {} from {} refused: its certificate names user '{}', its HELLO user '{}'",
                        connection.id(), connection.remoteAddress(), LogText.of(certified), LogText.of(r.user()));
                refuse(frame, new Response.Error(ErrorCode.NOT_AUTHORIZED, "the client certificate names user '"
                        + certified + "', not '" + r.user() + "'"));
                return;
            }
            who = access.certified(certified);
        } else {
            String address = hostOf(connection.remoteAddress());
            long lockedMs = access.requiresLogin() ? access.throttle().lockedForMs(address) : 0;
            if (lockedMs > 0) {
                LOG.debug("Connection {} from {} refused unchecked: too many failed logins from its address", connection.id(),
                        connection.remoteAddress());
                refuse(frame, new Response.Error(ErrorCode.NOT_AUTHORIZED, "too many failed logins from " + address
                        + "; try again in " + lockedMs + " ms"));
                return;
            }
            java.util.concurrent.CompletableFuture<AccessControl.Principal> login = access.loginAsync(r.user(), r.password());
            if (login.isDone()) { // no slow hash (no users, a remembered password): answer in order, at once
                login.whenComplete((found, failure) -> loggedIn(frame, r, address, found, failure));
            } else {
                login.whenCompleteAsync((found, failure) -> loggedIn(frame, r, address, found, failure), executor);
            }
            return;
        }
        welcomeAs(frame, r, who);
    }

    private void loggedIn(RequestFrame frame, Request.Hello r, String address, AccessControl.Principal found, Throwable failure) {
        if (connection.isClosed()) {
            return; // the client went away while its password was checked: nothing to register
        }
        AccessControl access = broker.config().accessControl();
        if (failure != null) {
            LOG.warn("Connection {} from {} refused: too many logins waiting to be checked", connection.id(),
                    connection.remoteAddress());
            refuse(frame, new Response.Error(ErrorCode.RESOURCE_EXHAUSTED, "too many logins in progress; try again"));
        } else if (found == null) {
            int inARow = access.throttle().failed(address);
            LOG.warn("Connection {} from {} refused: wrong user name or password for user '{}' ({} failed in a row from {})",
                    connection.id(), connection.remoteAddress(), LogText.of(r.user()), inARow, address);
            refuse(frame, new Response.Error(ErrorCode.NOT_AUTHORIZED, "wrong user name or password"));
        } else {
            if (access.requiresLogin()) {
                access.throttle().succeeded(address);
            }
            welcomeAs(frame, r, found);
        }
    }

    private void welcomeAs(RequestFrame frame, Request.Hello r, AccessControl.Principal who) {
        if (connection.isClosed()) {
            return;
        }
        principal = who;
        done = true;
        connection.welcomed();
        user = who.name().isEmpty() ? r.user() : who.name();
        clientName = r.clientName();
        String key = r.connectionKey() == null || r.connectionKey().isBlank() || r.connectionKey().length() > 200
                ? null : r.connectionKey();
        Response welcome = new Response.Welcome(broker.config().name(), broker.nodeId(), broker.config().maxFrameSize());
        if (key == null) {
            connection.reply(frame, welcome);
            return;
        }
        connection.connectionKey = key;
        broker.connections().claimConnectionKey(key, connection).whenComplete((handedOver, failure) -> {
            if (failure != null) {
                LOG.warn("Connection {}: the older connection of the same client did not hand over: {}", connection.id(),
                        failure.toString());
            }
            handedOverHere = failure == null && handedOver;
            connection.reply(frame, welcome);
        });
    }
}
