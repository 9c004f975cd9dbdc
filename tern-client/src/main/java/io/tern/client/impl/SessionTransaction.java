package io.tern.client.impl;

import io.tern.protocol.Request;
import io.tern.protocol.Response;
import io.tern.protocol.WireMessage;
import jakarta.jms.JMSException;
import jakarta.jms.TransactionRolledBackException;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The open transaction of a transacted session: the link it did its first work on (a failover
 * that replaces that link dooms it, unless the session's recovery carries it over), its sends (sent
 * again if it is carried over), and its commit, which a failover may finish, carry on or doom.
 */
final class SessionTransaction {
    /** The generation of the link of its first work; 0 if it has done none, -1 if it began with no link. */
    private volatile long gen;
    /** The generation of the link a commit is in flight on; 0 if none. */
    private volatile long committingGen;
    /** Generations whose in-flight commit a failover finished on the new node (the commit is then done). */
    private final Set<Long> commitsFinished = ConcurrentHashMap.newKeySet();
    private final List<WireMessage> sends = new ArrayList<>(); // guarded by this

    long gen() {
        return gen;
    }

    boolean begun() {
        return gen != 0;
    }

    /** The first work of the transaction, on the link of {@code linkGen} (0: no link now). */
    void begin(long linkGen) {
        gen = linkGen == 0 ? -1 : linkGen;
    }

    /** A failover carried the transaction over to the link of {@code newGen}. */
    void movedTo(long newGen) {
        gen = newGen;
    }

    synchronized void sent(WireMessage m) {
        sends.add(m);
    }

    /** The transaction's sends if it ran on the link of {@code lostGen}. */
    synchronized List<WireMessage> sendsOn(long lostGen) {
        return gen == lostGen ? List.copyOf(sends) : List.of();
    }

    /** Committed or rolled back: the next work begins a new transaction. */
    synchronized void ended() {
        sends.clear();
        gen = 0;
    }

    void committing(long linkGen) {
        committingGen = linkGen;
    }

    boolean committingOn(long lostGen) {
        return lostGen != 0 && committingGen == lostGen;
    }

    /** A failover finished the commit in flight on the link of {@code lostGen}. */
    void finishedOn(long lostGen) {
        commitsFinished.add(lostGen);
    }

    /** True (once) if a failover finished the commit that was in flight on the link of {@code linkGen}. */
    boolean takeFinished(long linkGen) {
        return commitsFinished.remove(linkGen);
    }

    /**
     * Commits on the link the transaction began on. If that link broke, a failover under way may
     * carry the transaction on (then it moved to the new link): its outcome decides, not the moment
     * of the commit. A transaction its server dropped, or whose server was taken over and discards
     * it, is rolled back: {@code giveBack} returns what it received, and TransactionRolledBackException
     * says so.
     */
    void commit(int sessionId, TernConnection connection, Runnable giveBack) throws JMSException {
        long g = gen;
        if (g != 0 && g != connection.generation()) {
            connection.awaitLinkAfter(g);
            g = gen;
        }
        try {
            if (g == 0) {
                connection.call(new Request.Commit(sessionId));
            } else if (g != connection.generation() || commitOn(sessionId, connection, g) == null) {
                throw new TransactionRolledBackException("the connection moved to another server during this "
                        + "transaction, and the server it began on dropped its work: it was rolled back");
            }
        } catch (TransactionRolledBackException e) {
            giveBack.run();
            throw e;
        } catch (JMSException e) {
            if (!io.tern.protocol.ErrorCode.NOT_IN_QUORUM.name().equals(e.getErrorCode())) {
                throw e;
            }
            // The node was taken over while the transaction ran there and discards it: nothing of it is applied.
            giveBack.run();
            TransactionRolledBackException rolledBack = new TransactionRolledBackException("the server of this "
                    + "transaction was taken over and discarded its work: it was rolled back (" + e.getMessage() + ")");
            rolledBack.setLinkedException(e);
            throw rolledBack;
        }
    }

    /**
     * Commits on the link of {@code linkGen}. If that link breaks before the answer, waits for the
     * failover: its session recovery finishes the commit on the new server if it can tell what the
     * old one did (see {@link SessionRecovery}), else the outcome is unknown.
     */
    private Response commitOn(int sessionId, TernConnection connection, long linkGen) throws JMSException {
        committing(linkGen);
        try {
            return connection.callOn(linkGen, new Request.Commit(sessionId));
        } catch (JMSException e) {
            if (!"OUTCOME_UNKNOWN".equals(e.getErrorCode())) {
                throw e;
            }
            connection.awaitLinkAfter(linkGen);
            if (takeFinished(linkGen)) {
                return Response.OK;
            }
            throw e;
        } finally {
            committing(0);
        }
    }
}
