package io.tern.client.impl;

import io.tern.protocol.DestinationName;
import io.tern.protocol.Request;
import jakarta.jms.JMSException;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Recreates on a new link what a connection had: client id, temporary destinations, sessions and
 * their consumers. After a crash (not after a planned move, which hands everything back first) each
 * session also recovers what it held from the lost link ({@link SessionRecovery}): the node that took
 * the lost one over keeps those messages for it, so they can still be acknowledged or committed, and
 * an open transaction's sends are sent again.
 */
final class SessionRebuilder {
    private final TernConnection connection;
    private final long timeoutMs;

    SessionRebuilder(TernConnection connection, long timeoutMs) {
        this.connection = connection;
        this.timeoutMs = timeoutMs;
    }

    /**
     * Rebuilds on {@code l}; {@code lost} is the crashed link (null for a planned move). Returns the
     * ids of the sessions whose open transaction goes on on {@code l}: their parked sends went with it.
     */
    Set<Integer> rebuild(LinkStates.Link l, LinkStates.Link lost) throws JMSException {
        Transport t = l.transport();
        Set<Integer> recoveredTransactions = new HashSet<>();
        String id = connection.clientIdOrNull();
        if (id != null) {
            t.call(new Request.SetClientId(id), timeoutMs);
        }
        for (Map.Entry<String, DestinationName.Kind> temp : connection.temporaries().entrySet()) {
            t.call(new Request.CreateTemp(temp.getValue(), temp.getKey()), timeoutMs);
        }
        for (TernSession s : connection.sessions()) {
            SessionRecovery recovery = lost == null ? null : s.recovery(lost.gen());
            t.call(new Request.CreateSession(s.id(), TernConnection.wireMode(s.mode())), timeoutMs);
            for (TernMessageConsumer c : s.consumers()) {
                c.resetForLink();
                t.call(c.createRequest(), timeoutMs);
            }
            if (recovery != null && recovery.run(t, l.gen(), timeoutMs)) {
                recoveredTransactions.add(s.id());
            }
        }
        return recoveredTransactions;
    }
}
