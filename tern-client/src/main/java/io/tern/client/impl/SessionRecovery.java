package io.tern.client.impl;

import io.tern.protocol.Request;
import io.tern.protocol.Response;
import io.tern.protocol.WireMessage;
import jakarta.jms.JMSException;
import jakarta.jms.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.List;

/**
 * Recovers a session on the node that took the broken link's server over: that node kept the
 * messages for this session, and gives the held ones new delivery ids, so that the application can
 * still acknowledge or commit them. A transaction whose every received message was recovered goes
 * on there, its sends sent again; otherwise its commit throws TransactionRolledBackException. A
 * commit that was in flight is finished there if the node can tell what the old one did.
 */
final class SessionRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(SessionRecovery.class);

    private final int sessionId;
    private final int mode;
    private final AckLedger ledger;
    private final SessionTransaction tx;
    private final long lostGen;
    private final List<Request.HeldMessage> listed;
    private final List<Delivery.Tag> tags;
    private final List<WireMessage> sends;
    private final boolean committing;

    SessionRecovery(int sessionId, int mode, AckLedger ledger, SessionTransaction tx, long lostGen,
                    List<Request.HeldMessage> listed, List<Delivery.Tag> tags) {
        this.sessionId = sessionId;
        this.mode = mode;
        this.ledger = ledger;
        this.tx = tx;
        this.lostGen = lostGen;
        this.listed = listed;
        this.tags = tags;
        this.sends = tx.sendsOn(lostGen);
        this.committing = tx.committingOn(lostGen);
    }

    /** Runs on the new link {@code t} of generation {@code newGen}; true if the open transaction goes on. */
    boolean run(Transport t, long newGen, long timeoutMs) throws JMSException {
        long[] ids = new long[listed.size()];
        // Sent even with nothing listed: the server then gives back at once what it kept for this session.
        try {
            Response r = t.call(new Request.RecoverSession(sessionId, listed), timeoutMs);
            if (r instanceof Response.Recovered rec && rec.deliveryIds().length == listed.size()) {
                ids = rec.deliveryIds();
            }
        } catch (JMSException e) {
            LOG.warn("Session {} could not recover its deliveries: {}", sessionId, e.getMessage());
        }
        AckLedger.Recovered done = ledger.applyRecovery(listed, tags, ids, newGen);
        if (done.held() > 0) {
            LOG.info("Session {} recovered {} of the {} message(s) it held from the failed server", sessionId,
                    done.recovered(), done.held());
        }
        if (committing) {
            finishCommit(t, ids, timeoutMs);
            return false;
        }
        if (mode != Session.SESSION_TRANSACTED || tx.gen() != lostGen || done.recovered() < done.held()) {
            return false; // (if not all were recovered, the commit will say that the transaction was rolled back)
        }
        if (done.seenNow().length > 0) {
            t.call(new Request.Ack(sessionId, done.seenNow()), timeoutMs);
        }
        for (WireMessage m : sends) {
            t.call(new Request.Send(sessionId, m), timeoutMs);
        }
        tx.movedTo(newGen);
        LOG.info("Session {}: the open transaction goes on on the new server ({} received, {} sent)", sessionId,
                done.seenNow().length, sends.size());
        return true;
    }

    /**
     * The commit in flight on the lost link finishes here. Every message the transaction received
     * was listed as acknowledged: the new node either still kept it for this session (the commit had
     * not reached the dead node's failover node, so the new node acknowledges it now) or took the
     * dead node over and no longer has it (the commit was applied and replicated); both answer 1. If
     * all did, the transaction's sends go again, in a transaction on the new node, with their
     * duplicate-detection ids (dropped where the old commit stored them), and are committed there:
     * the commit is done. Otherwise its outcome stays unknown and commit() says so.
     */
    private void finishCommit(Transport t, long[] ids, long timeoutMs) {
        for (int i = 0; i < ids.length; i++) {
            // Only what the transaction received counts; messages still buffered unseen go back to their queue.
            if (listed.get(i).state() == Request.Held.ACKED && ids[i] != 1) {
                LOG.warn("Session {}: the commit in flight when its link broke cannot be settled on the new server "
                        + "(it answered {} for the {} message(s) the transaction received)", sessionId,
                        Arrays.toString(ids), ids.length);
                return;
            }
        }
        try {
            for (WireMessage m : sends) {
                t.call(new Request.Send(sessionId, m), timeoutMs);
            }
            t.call(new Request.Commit(sessionId), timeoutMs);
            tx.finishedOn(lostGen);
            LOG.info("Session {}: the commit in flight when its link broke was finished on the new server ({} "
                    + "received, {} sent)", sessionId, ids.length, sends.size());
        } catch (JMSException e) {
            LOG.warn("Session {}: could not finish the commit in flight on the new server: {}", sessionId, e.getMessage());
        }
    }
}
