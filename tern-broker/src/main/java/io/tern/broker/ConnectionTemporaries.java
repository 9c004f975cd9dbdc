package io.tern.broker;

import io.tern.protocol.DestinationName;
import io.tern.protocol.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The temporary destinations of one client connection: made within its limit, deleted when it asks or
 * when it closes, or handed to a later connection of the same client to this node (it came back
 * before this node noticed the old one had gone), so that replies sent meanwhile stay for it.
 */
final class ConnectionTemporaries {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionTemporaries.class);

    private final Broker broker;
    private final ServerConnection connection;
    private final ConnectionChecks checks;
    private final Set<DestinationName> made = ConcurrentHashMap.newKeySet();
    /** Set once this connection's close has taken its list: nothing is handed to it after that. */
    private boolean closing; // guarded by this

    ConnectionTemporaries(Broker broker, ServerConnection connection, ConnectionChecks checks) {
        this.broker = broker;
        this.connection = connection;
        this.checks = checks;
    }

    /** Makes one (or claims it again by the name it had: after a failover, or from the client's earlier connection). */
    DestinationName create(Request.CreateTemp r) {
        checks.within(made.size(), broker.config().limits().temporaries(), "temporary destinations",
                "--max-temporaries-per-connection");
        DestinationName d = broker.destinations().createTemporary(r.kind(), connection, r.name());
        made.add(d);
        return d;
    }

    void delete(DestinationName d) {
        broker.destinations().deleteTemporary(d, connection, false);
        made.remove(d);
    }

    /**
     * Takes {@code d} over from {@code from}, this client's earlier connection, unless this connection
     * is closing already (its close would not see it, and nobody would delete it).
     */
    private synchronized boolean takeOver(DestinationName d, ServerConnection from) {
        if (closing || !broker.destinations().handTemporaryOver(d, from, connection)) {
            return false;
        }
        made.add(d);
        return true;
    }

    /** The connection closed: each goes to its client's later connection here if there is one, else is deleted. */
    void closed() {
        String key = connection.connectionKey;
        ServerConnection heir = key == null ? null : broker.connections().byKey(key);
        java.util.List<DestinationName> mine;
        synchronized (this) {
            closing = true;
            mine = java.util.List.copyOf(made);
        }
        for (DestinationName d : mine) {
            if (heir != null && heir != connection && heir.temporaries().takeOver(d, connection)) {
                continue; // deleted when that connection closes
            }
            try {
                broker.destinations().deleteTemporary(d, connection, true);
            } catch (BrokerException e) {
                LOG.debug("Temporary destination {} already gone: {}", d, e.getMessage());
            }
        }
    }
}
