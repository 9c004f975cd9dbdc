package io.tern.client.impl;

import io.tern.client.TernDestination;
import io.tern.client.TernQueue;
import io.tern.client.TernTopic;
import io.tern.client.message.TernBytesMessage;
import io.tern.client.message.TernMapMessage;
import io.tern.client.message.TernMessage;
import io.tern.client.message.TernObjectMessage;
import io.tern.client.message.TernStreamMessage;
import io.tern.client.message.TernTextMessage;
import io.tern.protocol.Deliver;
import io.tern.protocol.Request;
import io.tern.protocol.Response;
import jakarta.jms.BytesMessage;
import jakarta.jms.Destination;
import jakarta.jms.IllegalStateException;
import jakarta.jms.InvalidDestinationException;
import jakarta.jms.JMSException;
import jakarta.jms.MapMessage;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageListener;
import jakarta.jms.MessageProducer;
import jakarta.jms.ObjectMessage;
import jakarta.jms.Queue;
import jakarta.jms.QueueBrowser;
import jakarta.jms.QueueReceiver;
import jakarta.jms.QueueSender;
import jakarta.jms.QueueSession;
import jakarta.jms.Session;
import jakarta.jms.StreamMessage;
import jakarta.jms.TemporaryQueue;
import jakarta.jms.TemporaryTopic;
import jakarta.jms.TextMessage;
import jakarta.jms.Topic;
import jakarta.jms.TopicPublisher;
import jakarta.jms.TopicSession;
import jakarta.jms.TopicSubscriber;
import jakarta.jms.TransactionRolledBackException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A session: one thread of control. Message listeners and completion listeners run on the session's
 * own thread; acknowledgement state is guarded by the session's monitor.
 */
public final class TernSession implements Session, QueueSession, TopicSession {
    private static final Logger LOG = LoggerFactory.getLogger(TernSession.class);
    private static final int DUPS_OK_BATCH = 64;

    private final TernConnection connection;
    private final int id;
    private final int mode;
    private final List<TernMessageConsumer> consumers = new CopyOnWriteArrayList<>();
    private final List<TernMessageProducer> producers = new CopyOnWriteArrayList<>();
    /** Deliveries the application was given and has not acknowledged (CLIENT) or committed (TRANSACTED). */
    private final LinkedHashMap<Delivery.Tag, Held> seen = new LinkedHashMap<>();
    private final List<Delivery.Tag> dupsOkPending = new ArrayList<>();
    /** The last deliveries acknowledged automatically (AUTO, DUPS_OK): their acknowledgement may be lost in a crash. */
    private final java.util.ArrayDeque<Acked> recentAcks = new java.util.ArrayDeque<>();
    /**
     * CLIENT_ACKNOWLEDGE deliveries whose acknowledgement is on its way: a failover meanwhile lists
     * them as acknowledged, and the node that took over says which it stored ({@link #ackConfirmed}).
     */
    private final LinkedHashMap<Delivery.Tag, Held> acking = new LinkedHashMap<>();
    private final java.util.Set<Delivery.Tag> ackConfirmed = new java.util.HashSet<>();
    /** Deliveries of a broken link that the failover node gave new ids (session recovery). */
    private final Map<Delivery.Tag, Delivery.Tag> remapped = new java.util.HashMap<>();
    /** The open transaction's sends, sent again if a failover recovers the transaction on another node. */
    private final List<io.tern.protocol.WireMessage> txSends = new ArrayList<>();
    private static final int RECENT_ACKS = 1024;
    private volatile long txGen;
    /** The generation of the link a commit is in flight on; 0 if none. */
    private volatile long committingGen;
    /** Generations whose in-flight commit a failover finished on the new node (the commit is then done). */
    private final java.util.Set<Long> commitsFinished = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile ExecutorService thread;
    private volatile Thread sessionThread;
    private volatile MessageListener distinguishedListener;
    private volatile boolean closed;

    TernSession(TernConnection connection, int id, int mode) {
        this.connection = connection;
        this.id = id;
        this.mode = mode;
    }

    int id() {
        return id;
    }

    TernConnection connection() {
        return connection;
    }

    boolean isSessionThread() {
        return Thread.currentThread() == sessionThread;
    }

    /** The session's own thread, started on first use, for listeners and completion callbacks. */
    ExecutorService thread() {
        ExecutorService t = thread;
        if (t == null) {
            synchronized (this) {
                t = thread;
                if (t == null) {
                    t = Executors.newSingleThreadExecutor(r -> {
                        Thread th = new Thread(r, "tern-session-" + id);
                        th.setDaemon(true);
                        sessionThread = th;
                        return th;
                    });
                    thread = t;
                }
            }
        }
        return t;
    }

    /** Waits until a listener that is running returns (used by Connection.stop). */
    void awaitListenerIdle() {
        ExecutorService t = thread;
        if (t == null || isSessionThread()) {
            return;
        }
        try {
            Future<?> f = t.submit(() -> { });
            f.get();
        } catch (Exception e) {
            LOG.debug("Session {} thread ended while waiting: {}", id, e.toString());
        }
    }

    void checkOpen() throws JMSException {
        if (closed) {
            throw new IllegalStateException("the session is closed");
        }
        connection.checkUsable();
    }

    // ---- delivery bookkeeping (called by consumers on the application or session thread) -----

    int mode() {
        return mode;
    }

    /** What the application holds of a delivery: the consumer it came through and the message id. */
    private record Held(TernMessageConsumer consumer, String messageId) {
    }

    private record Acked(Delivery.Tag tag, long consumerId, String messageId) {
    }

    /** The tag a delivery has now: a new one if a failover recovered it on another node. */
    private synchronized Delivery.Tag current(Delivery.Tag tag) {
        Delivery.Tag now = remapped.remove(tag);
        return now == null ? tag : now;
    }

    private synchronized void rememberAck(Delivery.Tag tag, TernMessageConsumer consumer, String messageId) {
        recentAcks.addLast(new Acked(tag, consumer.id(), messageId));
        if (recentAcks.size() > RECENT_ACKS) {
            recentAcks.removeFirst();
        }
    }

    List<TernMessageConsumer> consumers() {
        return consumers;
    }

    /**
     * The application now holds this delivery (or it expired in the buffer, which is acknowledged
     * at once); acknowledge it as the session mode says.
     */
    void delivered(TernMessageConsumer consumer, Delivery d, boolean expired) {
        Delivery.Tag tag = current(d.tag());
        String messageId = d.deliver().message().messageId();
        if (expired && mode != SESSION_TRANSACTED) {
            rememberAck(tag, consumer, messageId);
            connection.sendOn(tag.gen(), new Request.Ack(id, new long[] {tag.id()}));
            return;
        }
        switch (mode) {
            case AUTO_ACKNOWLEDGE -> {
                rememberAck(tag, consumer, messageId);
                connection.sendOn(tag.gen(), new Request.Ack(id, new long[] {tag.id()}));
            }
            case DUPS_OK_ACKNOWLEDGE -> {
                rememberAck(tag, consumer, messageId);
                synchronized (this) {
                    dupsOkPending.add(tag);
                    if (dupsOkPending.size() >= DUPS_OK_BATCH) {
                        flushDupsOk();
                    }
                }
            }
            case CLIENT_ACKNOWLEDGE -> {
                synchronized (this) {
                    seen.put(tag, new Held(consumer, messageId));
                }
            }
            default -> {
                transactionWork(tag.gen());
                synchronized (this) {
                    seen.put(tag, new Held(consumer, messageId));
                }
                connection.sendOn(tag.gen(), new Request.Ack(id, new long[] {tag.id()}));
            }
        }
    }

    private synchronized void flushDupsOk() {
        byGen(dupsOkPending).forEach((gen, ids) -> connection.sendOn(gen, new Request.Ack(id, ids)));
        dupsOkPending.clear();
    }

    /** Delivery ids grouped by the generation of the link they came on. */
    private static Map<Long, long[]> byGen(Collection<Delivery.Tag> tags) {
        Map<Long, List<Long>> lists = new LinkedHashMap<>();
        for (Delivery.Tag t : tags) {
            lists.computeIfAbsent(t.gen(), g -> new ArrayList<>()).add(t.id());
        }
        Map<Long, long[]> arrays = new LinkedHashMap<>();
        lists.forEach((gen, ids) -> arrays.put(gen, toArray(ids)));
        return arrays;
    }

    /** True if the application holds unacknowledged deliveries that came on the link of {@code gen}. */
    synchronized boolean holds(long gen) {
        for (Delivery.Tag t : acking.keySet()) {
            if (t.gen() == gen) {
                return true;
            }
        }
        for (Delivery.Tag t : seen.keySet()) {
            if (t.gen() == gen) {
                return true;
            }
        }
        for (Delivery.Tag t : dupsOkPending) {
            if (t.gen() == gen) {
                return true;
            }
        }
        return false;
    }

    boolean acknowledgesAfterListener() {
        return mode == AUTO_ACKNOWLEDGE || mode == DUPS_OK_ACKNOWLEDGE;
    }

    /** A message listener threw: in auto modes the message comes back at once (specification 8.7). */
    void listenerFailed(Delivery d) {
        if (mode == AUTO_ACKNOWLEDGE || mode == DUPS_OK_ACKNOWLEDGE) {
            flushDupsOk();
            try {
                recoverWith(List.of(d.tag()));
            } catch (JMSException e) {
                LOG.warn("Could not redeliver after a listener failure: {}", e.getMessage());
            }
        }
    }

    private static long[] toArray(List<Long> ids) {
        long[] a = new long[ids.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = ids.get(i);
        }
        return a;
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
        if (closed) {
            throw new IllegalStateException("the session of this message is closed");
        }
        if (mode != CLIENT_ACKNOWLEDGE) {
            return;
        }
        List<Delivery.Tag> tags;
        synchronized (this) {
            tags = List.copyOf(seen.keySet());
            seen.forEach(acking::put);
            seen.clear();
        }
        List<Delivery.Tag> unanswered = new ArrayList<>();
        try {
            for (Map.Entry<Long, long[]> e : byGen(tags).entrySet()) {
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
            synchronized (this) {
                tags.forEach(acking::remove);
                tags.forEach(ackConfirmed::remove);
            }
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
            return connection.callOn(gen, new Request.Ack(id, ids)) != null;
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
        List<Delivery.Tag> again = new ArrayList<>();
        int lost = 0;
        synchronized (this) {
            for (Delivery.Tag t : unanswered) {
                Delivery.Tag now = remapped.remove(t);
                if (ackConfirmed.contains(t)) {
                    continue;
                }
                if (now != null) {
                    again.add(now);
                } else {
                    lost++;
                }
            }
        }
        for (Map.Entry<Long, long[]> e : byGen(again).entrySet()) {
            if (!ackOrMove(e.getKey(), e.getValue())) {
                lost += e.getValue().length;
            }
        }
        if (unanswered.size() > lost) {
            LOG.info("Session {}: {} acknowledgement(s) in flight when link {} broke were stored by the node it failed over to",
                    id, unanswered.size() - lost, brokenGen);
        }
        return lost;
    }

    /** Ids of the deliveries of {@code consumer} that the application holds, from the link of {@code gen}. */
    synchronized long[] seenIds(TernMessageConsumer consumer, long gen) {
        return toArray(seen.entrySet().stream().filter(e -> e.getValue().consumer() == consumer && e.getKey().gen() == gen)
                .map(e -> e.getKey().id()).toList());
    }

    // ---- recovery after a failover ---------------------------------------------------------------

    /** A send of the open transaction: kept, so that a failover can send it again on the new node. */
    synchronized void transactedSend(io.tern.protocol.WireMessage message) {
        txSends.add(message);
    }

    /**
     * What this session had on the link of {@code lostGen}, which broke: the deliveries the
     * application holds, those acknowledged automatically of late, those buffered unseen. Taken before
     * the consumers drop their buffers.
     */
    Recovery recovery(long lostGen) {
        List<Request.HeldMessage> listed = new ArrayList<>();
        List<Delivery.Tag> tags = new ArrayList<>();
        List<io.tern.protocol.WireMessage> sends;
        boolean committing;
        synchronized (this) {
            // A commit in flight when the link broke may have been applied: its messages are listed as
            // acknowledged, and the node that took over settles each (see Recovery.finishCommit).
            Request.Held inHand = committingGen == lostGen && lostGen != 0 ? Request.Held.ACKED : Request.Held.HELD;
            seen.forEach((tag, held) -> {
                if (tag.gen() == lostGen) {
                    listed.add(new Request.HeldMessage(held.consumer().id(), held.messageId(), inHand));
                    tags.add(tag);
                }
            });
            acking.forEach((tag, held) -> {
                if (tag.gen() == lostGen) {
                    listed.add(new Request.HeldMessage(held.consumer().id(), held.messageId(), Request.Held.ACKED));
                    tags.add(tag);
                }
            });
            for (Acked a : recentAcks) {
                if (a.tag().gen() == lostGen) {
                    listed.add(new Request.HeldMessage(a.consumerId(), a.messageId(), Request.Held.ACKED));
                    tags.add(a.tag());
                }
            }
            sends = txGen == lostGen ? List.copyOf(txSends) : List.of();
            committing = committingGen == lostGen && lostGen != 0;
        }
        for (TernMessageConsumer c : consumers) {
            c.listForRecovery(lostGen, listed, tags);
        }
        return new Recovery(lostGen, listed, tags, sends, committing);
    }

    /**
     * Recovers a session on the node that took the broken link's server over: that node kept the
     * messages for this session, and gives the held ones new delivery ids, so that the application
     * can still acknowledge or commit them. A transaction whose every received message was recovered
     * goes on there, its sends sent again; otherwise its commit throws TransactionRolledBackException.
     */
    final class Recovery {
        private final long lostGen;
        private final List<Request.HeldMessage> listed;
        private final List<Delivery.Tag> tags;
        private final List<io.tern.protocol.WireMessage> sends;
        private final boolean committing;

        private Recovery(long lostGen, List<Request.HeldMessage> listed, List<Delivery.Tag> tags,
                         List<io.tern.protocol.WireMessage> sends, boolean committing) {
            this.lostGen = lostGen;
            this.listed = listed;
            this.tags = tags;
            this.sends = sends;
            this.committing = committing;
        }

        /**
         * The commit in flight on the lost link finishes here. Every message the transaction received
         * was listed as acknowledged: the new node either still kept it for this session (the commit
         * had not reached the dead node's failover node, so the new node acknowledges it now) or took
         * the dead node over and no longer has it (the commit was applied and replicated); both answer
         * 1. If all did, the transaction's sends go again, in a transaction on the new node, with their
         * duplicate-detection ids (dropped where the old commit stored them), and are committed there:
         * the commit is done. Otherwise its outcome stays unknown and commit() says so.
         */
        private void finishCommit(Transport t, long[] ids, long timeoutMs) {
            for (int i = 0; i < ids.length; i++) {
                long settled = ids[i];
                // Only what the transaction received counts; messages still buffered unseen go back to their queue.
                if (listed.get(i).state() == Request.Held.ACKED && settled != 1) {
                    LOG.warn("Session {}: the commit in flight when its link broke cannot be settled on the new server "
                            + "(it answered {} for the {} message(s) the transaction received)", id,
                            java.util.Arrays.toString(ids), ids.length);
                    return;
                }
            }
            try {
                for (io.tern.protocol.WireMessage m : sends) {
                    t.call(new Request.Send(id, m), timeoutMs);
                }
                t.call(new Request.Commit(id), timeoutMs);
                commitsFinished.add(lostGen);
                LOG.info("Session {}: the commit in flight when its link broke was finished on the new server ({} "
                        + "received, {} sent)", id, ids.length, sends.size());
            } catch (JMSException e) {
                LOG.warn("Session {}: could not finish the commit in flight on the new server: {}", id, e.getMessage());
            }
        }

        /** Runs on the new link {@code t} of generation {@code newGen}; true if the open transaction goes on. */
        boolean run(Transport t, long newGen, long timeoutMs) throws JMSException {
            long[] ids = new long[listed.size()];
            // Sent even with nothing listed: the server then gives back at once what it kept for this session.
            try {
                Response r = t.call(new Request.RecoverSession(id, listed), timeoutMs);
                if (r instanceof Response.Recovered rec && rec.deliveryIds().length == listed.size()) {
                    ids = rec.deliveryIds();
                }
            } catch (JMSException e) {
                LOG.warn("Session {} could not recover its deliveries: {}", id, e.getMessage());
            }
            int held = 0;
            int recovered = 0;
            List<Long> seenNow = new ArrayList<>();
            synchronized (TernSession.this) {
                LinkedHashMap<Delivery.Tag, Held> renamed = new LinkedHashMap<>();
                Map<Delivery.Tag, Delivery.Tag> now = new java.util.HashMap<>();
                for (int i = 0; i < listed.size(); i++) {
                    if (listed.get(i).state() == Request.Held.HELD) {
                        held++;
                        if (ids[i] > 0) {
                            now.put(tags.get(i), new Delivery.Tag(newGen, ids[i]));
                            recovered++;
                        }
                    } else if (listed.get(i).state() == Request.Held.ACKED && ids[i] > 0 && acking.containsKey(tags.get(i))) {
                        ackConfirmed.add(tags.get(i));
                    }
                }
                seen.forEach((tag, h) -> {
                    Delivery.Tag n = now.remove(tag);
                    renamed.put(n == null ? tag : n, h);
                    if (n != null) {
                        seenNow.add(n.id());
                    }
                });
                seen.clear();
                seen.putAll(renamed);
                remapped.putAll(now); // deliveries in hand, not in seen yet
            }
            if (held > 0) {
                LOG.info("Session {} recovered {} of the {} message(s) it held from the failed server", id, recovered, held);
            }
            if (committing) {
                finishCommit(t, ids, timeoutMs);
                return false;
            }
            if (mode != SESSION_TRANSACTED || txGen != lostGen) {
                return false;
            }
            if (recovered < held) {
                return false; // the commit will say that the transaction was rolled back
            }
            if (!seenNow.isEmpty()) {
                long[] acks = seenNow.stream().mapToLong(Long::longValue).toArray();
                t.call(new Request.Ack(id, acks), timeoutMs);
            }
            for (io.tern.protocol.WireMessage m : sends) {
                t.call(new Request.Send(id, m), timeoutMs);
            }
            txGen = newGen;
            LOG.info("Session {}: the open transaction goes on on the new server ({} received, {} sent)", id,
                    seenNow.size(), sends.size());
            return true;
        }
    }

    // ---- transactions and recovery ----------------------------------------------------------------

    /**
     * The generation of the link the open transaction did its first work on; 0 if it has done none.
     * A failover that replaces that link dooms the transaction: the old server dropped its work.
     */
    long transactionGen() {
        return txGen;
    }

    /** The transaction sends or receives on the link of {@code gen} (0: no link now). */
    void transactionWork(long gen) {
        if (txGen == 0) {
            connection.awaitNoMove();
            txGen = gen == 0 ? -1 : gen;
        }
    }

    private void transactionEnded() {
        synchronized (this) {
            txSends.clear();
        }
        txGen = 0;
        connection.transactionEnded();
    }

    @Override
    public boolean getTransacted() throws JMSException {
        checkNotClosed();
        return mode == SESSION_TRANSACTED;
    }

    @Override
    public int getAcknowledgeMode() throws JMSException {
        checkNotClosed();
        return mode;
    }

    @Override
    public void commit() throws JMSException {
        checkOpen();
        if (mode != SESSION_TRANSACTED) {
            throw new IllegalStateException("commit() on a session that is not transacted");
        }
        awaitProducerWindow();
        long gen = txGen;
        if (gen != 0 && gen != connection.generation()) {
            // The transaction's link broke: a failover under way may carry the transaction on (then it
            // moves txGen to the new link). Its outcome decides, not the moment of the commit.
            connection.awaitLinkAfter(gen);
            gen = txGen;
        }
        try {
            if (gen == 0) {
                connection.call(new Request.Commit(id));
            } else if (gen != connection.generation() || commitOn(gen) == null) {
                throw new TransactionRolledBackException("the connection moved to another server during this "
                        + "transaction, and the server it began on dropped its work: it was rolled back");
            }
        } catch (TransactionRolledBackException e) {
            rollbackAfterFailedCommit();
            throw e;
        } catch (JMSException e) {
            if (!io.tern.protocol.ErrorCode.NOT_IN_QUORUM.name().equals(e.getErrorCode())) {
                throw e;
            }
            // The node was taken over while the transaction ran there and discards it: nothing of it is applied.
            rollbackAfterFailedCommit();
            TransactionRolledBackException rolledBack = new TransactionRolledBackException("the server of this "
                    + "transaction was taken over and discarded its work: it was rolled back (" + e.getMessage() + ")");
            rolledBack.setLinkedException(e);
            throw rolledBack;
        } finally {
            synchronized (this) {
                seen.clear();
            }
            transactionEnded();
        }
    }

    /**
     * Commits on the link of {@code gen}. If that link breaks before the answer, waits for the
     * failover: its session recovery finishes the commit on the new server if it can tell what the
     * old one did (see {@link Recovery#finishCommit}), else the outcome is unknown.
     */
    private Response commitOn(long gen) throws JMSException {
        committingGen = gen;
        try {
            return connection.callOn(gen, new Request.Commit(id));
        } catch (JMSException e) {
            if (!"OUTCOME_UNKNOWN".equals(e.getErrorCode())) {
                throw e;
            }
            connection.awaitLinkAfter(gen);
            if (commitsFinished.remove(gen)) {
                return Response.OK;
            }
            throw e;
        } finally {
            committingGen = 0;
        }
    }

    private void rollbackAfterFailedCommit() {
        try {
            recoverWith(currentSeen());
        } catch (JMSException e) {
            LOG.debug("Rollback after a failed commit failed too: {}", e.getMessage());
        }
    }

    @Override
    public void rollback() throws JMSException {
        checkOpen();
        if (mode != SESSION_TRANSACTED) {
            throw new IllegalStateException("rollback() on a session that is not transacted");
        }
        try {
            recoverWith(currentSeen());
        } finally {
            transactionEnded();
        }
    }

    @Override
    public void recover() throws JMSException {
        checkOpen();
        if (mode == SESSION_TRANSACTED) {
            throw new IllegalStateException("recover() on a transacted session; use rollback()");
        }
        flushDupsOk();
        recoverWith(currentSeen());
    }

    private synchronized List<Delivery.Tag> currentSeen() {
        return List.copyOf(seen.keySet());
    }

    /**
     * Gives every unacknowledged delivery back to its server. On the current link the consumers'
     * buffers are emptied on the I/O thread the moment the answer arrives: deliveries before it were
     * returned, those after it are new. Deliveries of a link left by a move go back over that link.
     */
    private void recoverWith(List<Delivery.Tag> tags) throws JMSException {
        long current = connection.generation();
        Map<Long, long[]> groups = byGen(tags);
        try {
            for (Map.Entry<Long, long[]> e : groups.entrySet()) {
                if (e.getKey() != current) {
                    connection.callOn(e.getKey(), returnRequest(e.getValue()));
                }
            }
            connection.call(returnRequest(groups.getOrDefault(current, new long[0])),
                    () -> consumers.forEach(TernMessageConsumer::resetAfterReturn));
        } finally {
            synchronized (this) {
                seen.clear();
                dupsOkPending.clear();
            }
            connection.retireIfDone();
        }
    }

    private Request returnRequest(long[] seenIds) {
        return mode == SESSION_TRANSACTED ? new Request.Rollback(id, seenIds) : new Request.Recover(id, seenIds);
    }

    /** Blocks until every asynchronous send of the connection has been answered. */
    private void awaitProducerWindow() throws JMSException {
        int all = connection.config().producerWindowBytes();
        try {
            connection.producerWindow.acquire(all);
            connection.producerWindow.release(all);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JMSException("interrupted while waiting for sends to complete");
        }
    }

    // ---- close ------------------------------------------------------------------------------------

    @Override
    public void close() throws JMSException {
        if (closed) {
            return;
        }
        if (isSessionThread()) {
            throw new IllegalStateException("a message listener may not close its own session");
        }
        flushDupsOk();
        for (TernMessageProducer p : producers) {
            p.closeQuietly();
        }
        awaitListenerIdle();
        Map<Long, long[]> held = byGen(currentSeen());
        consumers.forEach(TernMessageConsumer::markClosed);
        closed = true;
        try {
            if (connection.failure() == null && !connection.isClosed()) {
                long current = connection.generation();
                for (Map.Entry<Long, long[]> e : held.entrySet()) {
                    if (e.getKey() != current) {
                        connection.callOn(e.getKey(), new Request.CloseSession(id, e.getValue()));
                    }
                }
                connection.call(new Request.CloseSession(id, held.getOrDefault(current, new long[0])));
            }
        } finally {
            synchronized (this) {
                seen.clear();
            }
            consumers.forEach(c -> connection.unregister(c));
            consumers.clear();
            connection.unregister(this);
            connection.retireIfDone();
            ExecutorService t = thread;
            if (t != null) {
                t.shutdown();
            }
        }
    }

    boolean isClosed() {
        return closed;
    }

    private void checkNotClosed() throws IllegalStateException {
        if (closed) {
            throw new IllegalStateException("the session is closed");
        }
    }

    void removed(TernMessageConsumer c) {
        consumers.remove(c);
    }

    void removed(TernMessageProducer p) {
        producers.remove(p);
    }

    // ---- factories ----------------------------------------------------------------------------

    @Override public BytesMessage createBytesMessage() throws JMSException { checkNotClosed(); return new TernBytesMessage(); }
    @Override public MapMessage createMapMessage() throws JMSException { checkNotClosed(); return new TernMapMessage(); }
    @Override public Message createMessage() throws JMSException { checkNotClosed(); return new TernMessage(); }
    @Override public ObjectMessage createObjectMessage() throws JMSException { checkNotClosed(); return new TernObjectMessage(); }
    @Override public StreamMessage createStreamMessage() throws JMSException { checkNotClosed(); return new TernStreamMessage(); }
    @Override public TextMessage createTextMessage() throws JMSException { checkNotClosed(); return new TernTextMessage(); }

    @Override
    public ObjectMessage createObjectMessage(Serializable object) throws JMSException {
        ObjectMessage m = createObjectMessage();
        m.setObject(object);
        return m;
    }

    @Override
    public TextMessage createTextMessage(String text) throws JMSException {
        TextMessage m = createTextMessage();
        m.setText(text);
        return m;
    }

    @Override
    public MessageListener getMessageListener() throws JMSException {
        checkNotClosed();
        return distinguishedListener;
    }

    @Override
    public void setMessageListener(MessageListener listener) throws JMSException {
        checkNotClosed();
        distinguishedListener = listener;
    }

    @Override
    public void run() {
        throw new jakarta.jms.IllegalStateRuntimeException("Session.run() belongs to application-server facilities Tern does not provide");
    }

    @Override
    public MessageProducer createProducer(Destination destination) throws JMSException {
        checkOpen();
        TernMessageProducer p = new TernMessageProducer(this, destination == null ? null : TernDestination.from(destination));
        producers.add(p);
        return p;
    }

    @Override
    public QueueSender createSender(Queue queue) throws JMSException {
        return (QueueSender) createProducer(queue);
    }

    @Override
    public TopicPublisher createPublisher(Topic topic) throws JMSException {
        return (TopicPublisher) createProducer(topic);
    }

    TernMessageConsumer consumer(Destination destination, String selector, boolean noLocal, String subscription,
                                 byte kind) throws JMSException {
        checkOpen();
        if (destination == null) {
            throw new InvalidDestinationException("consumer destination must not be null");
        }
        TernDestination d = TernDestination.from(destination);
        connection.lockClientId();
        TernMessageConsumer c = new TernMessageConsumer(this, connection.nextConsumerId(), d, selector, noLocal,
                connection.config().prefetch(), subscription, kind);
        connection.register(c);
        try {
            connection.call(c.createRequest());
        } catch (JMSException e) {
            connection.unregister(c);
            throw e;
        }
        consumers.add(c);
        return c;
    }

    @Override
    public MessageConsumer createConsumer(Destination destination) throws JMSException {
        return consumer(destination, null, false, null, Request.SUB_NONE);
    }

    @Override
    public MessageConsumer createConsumer(Destination destination, String selector) throws JMSException {
        return consumer(destination, selector, false, null, Request.SUB_NONE);
    }

    @Override
    public MessageConsumer createConsumer(Destination destination, String selector, boolean noLocal) throws JMSException {
        return consumer(destination, selector, noLocal, null, Request.SUB_NONE);
    }

    @Override
    public QueueReceiver createReceiver(Queue queue) throws JMSException {
        return consumer(queue, null, false, null, Request.SUB_NONE);
    }

    @Override
    public QueueReceiver createReceiver(Queue queue, String selector) throws JMSException {
        return consumer(queue, selector, false, null, Request.SUB_NONE);
    }

    @Override
    public TopicSubscriber createSubscriber(Topic topic) throws JMSException {
        return consumer(topic, null, false, null, Request.SUB_NONE);
    }

    @Override
    public TopicSubscriber createSubscriber(Topic topic, String selector, boolean noLocal) throws JMSException {
        return consumer(topic, selector, noLocal, null, Request.SUB_NONE);
    }

    private static void checkName(String name) {
        if (name == null || name.isEmpty()) {
            throw new jakarta.jms.JMSRuntimeException("subscription name must not be null or empty");
        }
    }

    private static Topic checkTopic(Topic topic) throws InvalidDestinationException {
        if (topic == null) {
            throw new InvalidDestinationException("topic must not be null");
        }
        return topic;
    }

    @Override
    public MessageConsumer createSharedConsumer(Topic topic, String name) throws JMSException {
        return createSharedConsumer(topic, name, null);
    }

    @Override
    public MessageConsumer createSharedConsumer(Topic topic, String name, String selector) throws JMSException {
        checkName(name);
        return consumer(checkTopic(topic), selector, false, name, Request.SUB_SHARED);
    }

    @Override
    public TopicSubscriber createDurableSubscriber(Topic topic, String name) throws JMSException {
        return createDurableSubscriber(topic, name, null, false);
    }

    @Override
    public TopicSubscriber createDurableSubscriber(Topic topic, String name, String selector, boolean noLocal) throws JMSException {
        checkName(name);
        return consumer(checkTopic(topic), selector, noLocal, name, Request.SUB_DURABLE);
    }

    @Override
    public MessageConsumer createDurableConsumer(Topic topic, String name) throws JMSException {
        return createDurableSubscriber(topic, name);
    }

    @Override
    public MessageConsumer createDurableConsumer(Topic topic, String name, String selector, boolean noLocal) throws JMSException {
        return createDurableSubscriber(topic, name, selector, noLocal);
    }

    @Override
    public MessageConsumer createSharedDurableConsumer(Topic topic, String name) throws JMSException {
        return createSharedDurableConsumer(topic, name, null);
    }

    @Override
    public MessageConsumer createSharedDurableConsumer(Topic topic, String name, String selector) throws JMSException {
        checkName(name);
        return consumer(checkTopic(topic), selector, false, name, Request.SUB_SHARED_DURABLE);
    }

    @Override
    public void unsubscribe(String name) throws JMSException {
        checkOpen();
        connection.call(new Request.Unsubscribe(name));
    }

    @Override
    public Queue createQueue(String name) throws JMSException {
        checkNotClosed();
        return new TernQueue(name);
    }

    @Override
    public Topic createTopic(String name) throws JMSException {
        checkNotClosed();
        return new TernTopic(name);
    }

    @Override
    public QueueBrowser createBrowser(Queue queue) throws JMSException {
        return createBrowser(queue, null);
    }

    @Override
    public QueueBrowser createBrowser(Queue queue, String selector) throws JMSException {
        checkOpen();
        if (queue == null) {
            throw new InvalidDestinationException("browser queue must not be null");
        }
        TernQueueBrowser b = new TernQueueBrowser(this, (TernQueue) TernDestination.from(queue), selector);
        b.validate();
        return b;
    }

    @Override
    public TemporaryQueue createTemporaryQueue() throws JMSException {
        checkOpen();
        return connection.createTemporaryQueue();
    }

    @Override
    public TemporaryTopic createTemporaryTopic() throws JMSException {
        checkOpen();
        return connection.createTemporaryTopic();
    }

    Response call(Request r) throws JMSException {
        return connection.call(r);
    }

    /** Wraps a received wire message as the application sees it. */
    TernMessage toMessage(Deliver d) throws JMSException {
        TernMessage.Acknowledger ack = mode == CLIENT_ACKNOWLEDGE ? this::acknowledgeAll : null;
        return TernMessage.fromWire(d.message(), d.deliveryCount(), ack);
    }
}
