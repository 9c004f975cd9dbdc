package io.tern.broker;

import io.tern.broker.security.AccessControl;
import io.tern.broker.security.Permission;
import io.tern.protocol.DestinationName;
import io.tern.protocol.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one client connection's requests may do, checked before they touch anything: its user's
 * permissions, destination names of the right kind, what one connection may hold, and the length of
 * its selectors. A cluster link (a member, trusted by its membership) passes every check.
 */
final class ConnectionChecks {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionChecks.class);

    private final Broker broker;
    private final ServerConnection c;
    /** A refusal of this connection was logged at WARN; later ones go to DEBUG. */
    private volatile boolean refusalLogged;
    /** What each consumer consumes from, as the client named it (temporary destinations left out: no permission). */
    private final java.util.Map<Long, DestinationName> consumedFrom = new java.util.concurrent.ConcurrentHashMap<>();

    ConnectionChecks(Broker broker, ServerConnection c) {
        this.broker = broker;
        this.c = c;
    }

    /**
     * Refuses with NOT_AUTHORIZED, naming the permission and the destination, unless this connection's
     * user may do {@code permission} on {@code destination} (null: on the node). A cluster link is
     * trusted by its membership. The first refusal of a connection is logged at WARN, later ones at DEBUG.
     */
    void authorize(Permission permission, DestinationName destination) {
        AccessControl.Principal who = c.principal();
        if (c.linkPeer != null || who == null || broker.config().accessControl().allows(who, permission, destination)) {
            return;
        }
        String what = destination == null ? permission.word() + " this node"
                : permission.word() + " " + (destination.kind().isQueueLike() ? "queue" : "topic") + " '" + destination.name() + "'";
        String message = "user '" + who.name() + "' may not " + what;
        if (!refusalLogged) {
            refusalLogged = true;
            LOG.warn("Connection {} from {}: {} (later refusals of this connection are logged at DEBUG)", c.id(), c.remoteAddress(),
                    LogText.of(message));
        } else {
            LOG.debug("Connection {}: {}", c.id(), LogText.of(message));
        }
        throw new BrokerException(ErrorCode.NOT_AUTHORIZED, message);
    }

    /**
     * Refuses a client's destination whose name is not of its kind: names starting with '$' belong to the
     * broker (subscriptions, links), and a temporary destination's name is one the broker made. So no
     * client reaches a subscription's queue as a queue, or a queue as a temporary one.
     */
    void checkNamed(DestinationName d) {
        if (c.linkPeer != null) {
            return;
        }
        boolean ok = d.kind().isTemporary() ? d.name().startsWith(Broker.TEMP_PREFIX) : !d.name().startsWith("$");
        if (!ok) {
            throw new BrokerException(ErrorCode.INVALID_DESTINATION, d.kind().isTemporary()
                    ? "not a temporary destination's name: " + d.name() : "destination names must not start with '$': " + d.name());
        }
    }

    /**
     * {@code permission} on {@code d}, and {@code create} too for a queue that does not exist yet here.
     * Temporary destinations need none: their owner made them, and a reply to one is always allowed.
     */
    void authorizeUse(Permission permission, DestinationName d) {
        if (d == null) {
            return;
        }
        checkNamed(d);
        if (d.kind().isTemporary()) {
            return;
        }
        authorize(permission, d);
        if (d.kind() == DestinationName.Kind.QUEUE && broker.destinations().get(d.name()) == null) {
            authorize(Permission.CREATE, d);
        }
    }

    /** Consumer {@code consumerId} was created on {@code d}: its permission is checked again when the rules change. */
    void consuming(long consumerId, DestinationName d) {
        if (d != null && !d.kind().isTemporary()) {
            consumedFrom.put(consumerId, d);
        }
    }

    void stoppedConsuming(long consumerId) {
        consumedFrom.remove(consumerId);
    }

    /**
     * The users or permissions changed: closes the connection if its user was removed or may no
     * longer consume from what one of its consumers does (a consumer checked at its creation would
     * go on receiving). True if it closes.
     */
    boolean closeIfAccessLost(AccessControl access) {
        AccessControl.Principal who = c.principal();
        if (c.linkPeer != null || who == null) {
            return false;
        }
        for (DestinationName d : consumedFrom.values()) {
            if (!access.allows(who, Permission.CONSUME, d)) {
                LOG.warn("Connection {} from {}: user '{}' may no longer consume from {} '{}' (users or permissions changed): "
                        + "closing it", c.id(), c.remoteAddress(), LogText.of(who.name()),
                        d.kind().isQueueLike() ? "queue" : "topic", LogText.of(d.name()));
                c.closeNow();
                return true;
            }
        }
        return false;
    }

    /** Refuses one more of {@code what} when a client connection holds {@code limit} already (a cluster link has no limit). */
    void within(int held, int limit, String what, String flag) {
        if (held >= limit && c.linkPeer == null) {
            throw new BrokerException(ErrorCode.RESOURCE_EXHAUSTED, "this connection holds " + held + " " + what
                    + ", the most one connection may (" + flag + ")");
        }
    }

    SelectorFilter selector(String text) {
        try {
            return SelectorFilter.parse(text, c.linkPeer != null ? Integer.MAX_VALUE : broker.config().limits().selectorChars());
        } catch (SelectorFilter.InvalidSelectorException e) {
            throw new BrokerException(ErrorCode.INVALID_SELECTOR, e.getMessage());
        }
    }
}
