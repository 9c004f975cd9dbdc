package io.tern.client.impl;

import io.tern.protocol.Request;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A session's record of the deliveries the application was given and how far each one's
 * acknowledgement got: held (not acknowledged yet), being acknowledged, acknowledged automatically
 * of late, and, after a failover, renamed by the node that took over. Each delivery is named by its
 * {@link Delivery.Tag}: the link generation it came on and the server's delivery id, since only the
 * server of that link can acknowledge it.
 *
 * <p>A failover asks the ledger what to list for the session's recovery
 * ({@link #listForRecovery}) and applies the new node's answer ({@link #applyRecovery}); an
 * acknowledgement whose link broke is settled from that answer ({@link #settleAfterFailover}).
 * Thread-safe: every method holds the ledger's monitor.
 */
final class AckLedger {
    /** What the application holds of a delivery: the consumer it came through and the message id. */
    record Held(long consumerId, String messageId) {
    }

    private record Acked(Delivery.Tag tag, long consumerId, String messageId) {
    }

    /** What {@link #settleAfterFailover} found: acknowledgements to send again (renamed), and how many are lost. */
    record Settlement(List<Delivery.Tag> again, int lost) {
    }

    /** What {@link #applyRecovery} found: how many held deliveries were listed and recovered, and the new ids of those in hand. */
    record Recovered(int held, int recovered, long[] seenNow) {
    }

    private final int recentLimit;
    private final int dupsOkBatch;
    /** Deliveries the application was given and has not acknowledged (CLIENT) or committed (TRANSACTED). */
    private final LinkedHashMap<Delivery.Tag, Held> seen = new LinkedHashMap<>();
    private final List<Delivery.Tag> dupsOkPending = new ArrayList<>();
    /** The last deliveries acknowledged automatically (AUTO, DUPS_OK): their acknowledgement may be lost in a crash. */
    private final ArrayDeque<Acked> recentAcks = new ArrayDeque<>();
    /**
     * CLIENT_ACKNOWLEDGE deliveries whose acknowledgement is on its way: a failover meanwhile lists
     * them as acknowledged, and the node that took over says which it stored ({@link #ackConfirmed}).
     */
    private final LinkedHashMap<Delivery.Tag, Held> acking = new LinkedHashMap<>();
    private final Set<Delivery.Tag> ackConfirmed = new HashSet<>();
    /** Deliveries of a broken link that the failover node gave new ids (session recovery), not yet in hand. */
    private final Map<Delivery.Tag, Delivery.Tag> remapped = new HashMap<>();

    /** Remembers the last {@code recentLimit} automatic acknowledgements; DUPS_OK acknowledges in batches of {@code dupsOkBatch}. */
    AckLedger(int recentLimit, int dupsOkBatch) {
        this.recentLimit = recentLimit;
        this.dupsOkBatch = dupsOkBatch;
    }

    /** The tag a delivery has now: a new one if a failover recovered it on another node. */
    synchronized Delivery.Tag current(Delivery.Tag tag) {
        Delivery.Tag now = remapped.remove(tag);
        return now == null ? tag : now;
    }

    /** Acknowledged automatically (AUTO_ACKNOWLEDGE, or an expired delivery). */
    synchronized void autoAcked(Delivery.Tag tag, long consumerId, String messageId) {
        recentAcks.addLast(new Acked(tag, consumerId, messageId));
        if (recentAcks.size() > recentLimit) {
            recentAcks.removeFirst();
        }
    }

    /** Acknowledged lazily (DUPS_OK_ACKNOWLEDGE); returns the batch to send once it is full, else an empty list. */
    synchronized List<Delivery.Tag> dupsOk(Delivery.Tag tag, long consumerId, String messageId) {
        autoAcked(tag, consumerId, messageId);
        dupsOkPending.add(tag);
        return dupsOkPending.size() >= dupsOkBatch ? takeDupsOk() : List.of();
    }

    /** The DUPS_OK acknowledgements not sent yet; cleared by the call. */
    synchronized List<Delivery.Tag> takeDupsOk() {
        List<Delivery.Tag> batch = List.copyOf(dupsOkPending);
        dupsOkPending.clear();
        return batch;
    }

    /** The application holds this delivery until it acknowledges (CLIENT) or commits (TRANSACTED). */
    synchronized void held(Delivery.Tag tag, long consumerId, String messageId) {
        seen.put(tag, new Held(consumerId, messageId));
    }

    /** True if the application holds unacknowledged deliveries that came on the link of {@code gen}. */
    synchronized boolean holds(long gen) {
        return acking.keySet().stream().anyMatch(t -> t.gen() == gen) || seen.keySet().stream().anyMatch(t -> t.gen() == gen)
                || dupsOkPending.stream().anyMatch(t -> t.gen() == gen);
    }

    /** Every held delivery, in the order the application got them. */
    synchronized List<Delivery.Tag> seen() {
        return List.copyOf(seen.keySet());
    }

    /** Ids of the deliveries of {@code consumerId} that the application holds, from the link of {@code gen}. */
    synchronized long[] seenIds(long consumerId, long gen) {
        return seen.entrySet().stream().filter(e -> e.getValue().consumerId() == consumerId && e.getKey().gen() == gen)
                .mapToLong(e -> e.getKey().id()).toArray();
    }

    /** The held deliveries were committed, rolled back or recovered: the ledger forgets them (and unsent DUPS_OK ones too). */
    synchronized void forgetSeen() {
        seen.clear();
    }

    synchronized void forgetSeenAndDupsOk() {
        seen.clear();
        dupsOkPending.clear();
    }

    /** CLIENT_ACKNOWLEDGE: every held delivery is being acknowledged; returns their tags. */
    synchronized List<Delivery.Tag> startAcknowledging() {
        List<Delivery.Tag> tags = List.copyOf(seen.keySet());
        seen.forEach(acking::put);
        seen.clear();
        return tags;
    }

    /** The acknowledgement of {@code tags} is over, whatever its outcome. */
    synchronized void acknowledged(Collection<Delivery.Tag> tags) {
        tags.forEach(acking::remove);
        tags.forEach(ackConfirmed::remove);
    }

    /**
     * Acknowledgements whose link broke before the answer: after the failover, each is done if the
     * node that took over stored it, sent again under its new tag if that node recovered the
     * delivery as held, or lost.
     */
    synchronized Settlement settleAfterFailover(List<Delivery.Tag> unanswered) {
        List<Delivery.Tag> again = new ArrayList<>();
        int lost = 0;
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
        return new Settlement(again, lost);
    }

    /**
     * Lists what the session had on the link of {@code lostGen}, which broke: held deliveries (as
     * acknowledged if a commit was in flight on that link, {@code committing}: the new node settles
     * them), those being acknowledged, and those acknowledged automatically of late.
     */
    synchronized void listForRecovery(long lostGen, boolean committing, List<Request.HeldMessage> listed,
                                      List<Delivery.Tag> tags) {
        Request.Held inHand = committing ? Request.Held.ACKED : Request.Held.HELD;
        seen.forEach((tag, held) -> {
            if (tag.gen() == lostGen) {
                listed.add(new Request.HeldMessage(held.consumerId(), held.messageId(), inHand));
                tags.add(tag);
            }
        });
        acking.forEach((tag, held) -> {
            if (tag.gen() == lostGen) {
                listed.add(new Request.HeldMessage(held.consumerId(), held.messageId(), Request.Held.ACKED));
                tags.add(tag);
            }
        });
        for (Acked a : recentAcks) {
            if (a.tag().gen() == lostGen) {
                listed.add(new Request.HeldMessage(a.consumerId(), a.messageId(), Request.Held.ACKED));
                tags.add(a.tag());
            }
        }
    }

    /**
     * The new node's answer to the recovery: {@code ids[i]} is the new delivery id of
     * {@code listed[i]} on the link of {@code newGen} if it was held and recovered, 1 (or more) if an
     * acknowledgement was stored, 0 if not. Held deliveries get their new tags; acknowledgements
     * in flight that the node stored are confirmed.
     */
    synchronized Recovered applyRecovery(List<Request.HeldMessage> listed, List<Delivery.Tag> tags, long[] ids, long newGen) {
        int held = 0;
        int recovered = 0;
        Map<Delivery.Tag, Delivery.Tag> now = new HashMap<>();
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
        LinkedHashMap<Delivery.Tag, Held> renamed = new LinkedHashMap<>();
        List<Long> seenNow = new ArrayList<>();
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
        return new Recovered(held, recovered, seenNow.stream().mapToLong(Long::longValue).toArray());
    }

    /** Delivery ids grouped by the generation of the link they came on, in first-seen order. */
    static Map<Long, long[]> byGen(Collection<Delivery.Tag> tags) {
        Map<Long, List<Long>> lists = new LinkedHashMap<>();
        for (Delivery.Tag t : tags) {
            lists.computeIfAbsent(t.gen(), g -> new ArrayList<>()).add(t.id());
        }
        Map<Long, long[]> arrays = new LinkedHashMap<>();
        lists.forEach((gen, ids) -> arrays.put(gen, ids.stream().mapToLong(Long::longValue).toArray()));
        return arrays;
    }
}
