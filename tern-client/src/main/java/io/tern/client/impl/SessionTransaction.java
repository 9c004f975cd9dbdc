package io.tern.client.impl;

import io.tern.protocol.WireMessage;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The open transaction of a transacted session: the link it did its first work on (a failover
 * that replaces that link dooms it, unless the session's recovery carries it over), its sends (sent
 * again if it is carried over), and the commit in flight.
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
}
