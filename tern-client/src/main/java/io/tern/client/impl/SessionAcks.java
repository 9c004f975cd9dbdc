package io.tern.client.impl;

import io.tern.protocol.Request;
import jakarta.jms.JMSException;
import jakarta.jms.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A session's acknowledgements as its mode says: AUTO at once, DUPS_OK in batches, a transaction's
 * as it receives (the server applies them at commit), CLIENT_ACKNOWLEDGE on {@code acknowledge()}:
 * every message the application received in the session, each to the server it came from, across
 * a failover if a link breaks meanwhile (the ledger knows which link each came on and what the new
 * node settled).
 */
final class SessionAcks {
    private static final Logger LOG = LoggerFactory.getLogger(SessionAcks.class);

    private final int sessionId;
    private final int mode;
    private final TernConnection connection;
    private final AckLedger ledger;

    SessionAcks(int sessionId, int mode, TernConnection connection, AckLedger ledger) {
        this.sessionId = sessionId;
        this.mode = mode;
        this.connection = connection;
        this.ledger = ledger;
    }

    /**
     * The application now holds this delivery (or it expired in the buffer, which is acknowledged
     * at once); acknowledge it as the session mode says.
     */
    void delivered(long consumerId, Delivery d, boolean expired) {
        Delivery.Tag tag = ledger.current(d.tag());
        String messageId = d.deliver().message().messageId();
        if (expired && mode != Session.SESSION_TRANSACTED) {
            ledger.autoAcked(tag, consumerId, messageId);
            connection.sendOn(tag.gen(), new Request.Ack(sessionId, new long[] {tag.id()}));
            return;
        }
        switch (mode) {
            case Session.AUTO_ACKNOWLEDGE -> {
                ledger.autoAcked(tag, consumerId, messageId);
                connection.sendOn(tag.gen(), new Request.Ack(sessionId, new long[] {tag.id()}));
            }
            case Session.DUPS_OK_ACKNOWLEDGE -> sendAcks(ledger.dupsOk(tag, consumerId, messageId));
            case Session.CLIENT_ACKNOWLEDGE -> ledger.held(tag, consumerId, messageId);
            default -> {
                ledger.held(tag, consumerId, messageId);
                connection.sendOn(tag.gen(), new Request.Ack(sessionId, new long[] {tag.id()}));
            }
        }
    }

    void flushDupsOk() {
        sendAcks(ledger.takeDupsOk());
    }

    private void sendAcks(List<Delivery.Tag> tags) {
        AckLedger.byGen(tags).forEach((gen, ids) -> connection.sendOn(gen, new Request.Ack(sessionId, ids)));
    }

    /**
     * Acknowledges everything the application received in this session (CLIENT_ACKNOWLEDGE), each
     * to the server it came from. If a link breaks with acknowledgements on it, this waits for the
     * failover: the node that took that server over stores what the session lists as acknowledged
     * (or, for a delivery it recovered as held, takes the acknowledgement on the new link). Only what
     * no node could store is reported, with a JMSException (code ACKNOWLEDGEMENT_LOST) after the rest
     * is acknowledged: those messages come again, marked redelivered (without replication, from their
     * server when it is back).
     */
    void acknowledgeAll() throws JMSException {
        List<Delivery.Tag> tags = ledger.startAcknowledging();
        List<Delivery.Tag> unanswered = new ArrayList<>();
        try {
            for (Map.Entry<Long, long[]> e : AckLedger.byGen(tags).entrySet()) {
                if (!ackOrMove(e.getKey(), e.getValue())) {
                    tags.stream().filter(t -> t.gen() == e.getKey()).forEach(unanswered::add);
                }
            }
            int lost = unanswered.isEmpty() ? 0 : acknowledgeAfterFailover(unanswered);
            if (lost > 0) {
                throw new JMSException(lost + " of the " + tags.size() + " messages acknowledged came from a server this "
                        + "connection failed away from, and no node could store their acknowledgement, so they will be "
                        + "delivered again, by the node that takes that server's messages over or by that server when it "
                        + "is back", "ACKNOWLEDGEMENT_LOST");
            }
        } finally {
            ledger.acknowledged(tags);
            connection.retireIfDone();
        }
    }

    /**
     * Acknowledges {@code ids} on the link of {@code gen}; false if that link broke first, or its
     * node refused because it was taken over and discards what it holds (NOT_IN_QUORUM: it closes
     * its connections next, and the failover settles these acknowledgements).
     */
    private boolean ackOrMove(long gen, long[] ids) throws JMSException {
        try {
            return connection.callOn(gen, new Request.Ack(sessionId, ids)) != null;
        } catch (JMSException e) {
            if (io.tern.protocol.ErrorCode.NOT_IN_QUORUM.name().equals(e.getErrorCode())) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Acknowledgements whose link broke before the answer: after the failover, each is done if the
     * node that took over stored it, or is sent again on the new link if that node recovered the
     * delivery as held. Returns how many are lost.
     */
    private int acknowledgeAfterFailover(List<Delivery.Tag> unanswered) throws JMSException {
        long brokenGen = unanswered.get(0).gen();
        connection.awaitLinkAfter(brokenGen);
        AckLedger.Settlement settled = ledger.settleAfterFailover(unanswered);
        int lost = settled.lost();
        for (Map.Entry<Long, long[]> e : AckLedger.byGen(settled.again()).entrySet()) {
            if (!ackOrMove(e.getKey(), e.getValue())) {
                lost += e.getValue().length;
            }
        }
        if (unanswered.size() > lost) {
            LOG.info("Session {}: {} acknowledgement(s) in flight when link {} broke were stored by the node it failed over to",
                    sessionId, unanswered.size() - lost, brokenGen);
        }
        return lost;
    }
}
