package io.tern.cluster;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * Who a primary replicates to, and how far each one is: the failover nodes the map names (every
 * commit waits for each), those of them in sync (they get every batch), those being brought in
 * sync, the snapshots not confirmed yet, and the former failover nodes that still stand in while
 * the new ones get in sync (make before break).
 *
 * <p>Only the bookkeeping: {@link ReplicatingStore} sends the batches and the snapshots and guards
 * this with the lock that orders its commits, so this class is not thread-safe.
 */
final class BackupSet {
    /** The failover nodes of this node in the map: every commit waits for each of them. */
    private Set<String> target = Set.of();
    /** The failover nodes in sync, which get every batch as it is committed. */
    private Set<String> inSync = Set.of();
    /** The failover nodes being brought in sync. */
    private final Set<String> syncing = new HashSet<>();
    /** Backups whose snapshot has not been confirmed yet: backup to the snapshot's cut. */
    private final Map<String, Long> unconfirmed = new HashMap<>();
    /**
     * Backups in sync that the map no longer names, while its new failover nodes are not all in
     * sync yet. They still get every batch and every commit waits for them too, so that what was
     * acknowledged before the map changed is on a replica that can stand in for this node (a
     * takeover gets it handed over, {@link ReplicaHandover}) until the new ones can.
     */
    private Set<String> retiring = Set.of();
    /** Which start of each backup got its snapshot (see {@link ClusterNode#incarnation}). */
    private final Map<String, String> syncedIncarnation = new HashMap<>();

    /**
     * What a new map asks of the primary.
     *
     * @param toSync  failover nodes to bring in sync (a snapshot each)
     * @param dropped members that must drop what they hold of this node: neither named by the map
     *                nor standing in
     */
    record Change(Set<String> toSync, Set<String> dropped) {
    }

    /** The map's failover nodes now. */
    Set<String> target() {
        return target;
    }

    /** The backups in sync now. */
    Set<String> inSync() {
        return inSync;
    }

    /** Where each batch goes: the backups in sync, and the former ones still standing in. */
    Set<String> sendTo() {
        return union(inSync, retiring);
    }

    /** Whom each commit waits for: the map's failover nodes, and the former ones still standing in. */
    Set<String> waitFor() {
        return union(target, retiring);
    }

    /** The former failover nodes still standing in. */
    Set<String> retiring() {
        return retiring;
    }

    /**
     * The map now names {@code now} as this node's failover nodes. A backup in sync stays in sync
     * if the map still names it and it is the same start that got the snapshot (one that restarted
     * lost its replica or has an old one on disk). Backups in sync and confirmed that the map no
     * longer names stand in until every new one is in sync.
     *
     * @param incarnation the start of a member now, as {@link ClusterNode#incarnation}
     * @param others      every other member of the view
     */
    Change mapChanged(Set<String> now, Function<String, String> incarnation, Collection<String> others) {
        Set<String> standIns = new LinkedHashSet<>(sendTo());
        standIns.removeIf(b -> unconfirmed.containsKey(b) || !sameStart(b, incarnation));
        target = Set.copyOf(now);
        Set<String> kept = new LinkedHashSet<>(inSync);
        kept.retainAll(now);
        kept.removeIf(b -> !sameStart(b, incarnation));
        inSync = Set.copyOf(kept); // new ones join once their snapshot's cut is set
        unconfirmed.keySet().retainAll(kept);
        syncing.retainAll(now);
        Set<String> toSync = new LinkedHashSet<>();
        for (String b : now) {
            if (!inSync.contains(b) && syncing.add(b)) {
                toSync.add(b);
            }
        }
        standIns.removeAll(now);
        retiring = Set.copyOf(allInSync() ? Set.of() : standIns);
        syncedIncarnation.keySet().retainAll(union(kept, retiring));
        // Every other member not replicated to drops what it holds of this node: a former failover
        // node, one being brought in sync, or one that was away while this node changed its map.
        Set<String> dropped = new LinkedHashSet<>(others);
        dropped.removeAll(now);
        dropped.removeAll(retiring);
        return new Change(toSync, dropped);
    }

    private boolean sameStart(String backup, Function<String, String> incarnation) {
        return Objects.equals(syncedIncarnation.get(backup), incarnation.apply(backup));
    }

    /**
     * {@code backup} missed a batch (a send to it failed, or it says so): it is no longer in sync.
     * True if it is to be brought in sync again: the map still names it and no sync is under way.
     */
    boolean missed(String backup) {
        Set<String> kept = new LinkedHashSet<>(inSync);
        kept.remove(backup);
        inSync = Set.copyOf(kept);
        unconfirmed.remove(backup);
        return target.contains(backup) && syncing.add(backup);
    }

    /** A former failover node that missed a batch stops standing in. False if it was not standing in. */
    boolean stopRetiring(String backup) {
        if (!retiring.contains(backup)) {
            return false;
        }
        Set<String> rest = new LinkedHashSet<>(retiring);
        rest.remove(backup);
        retiring = Set.copyOf(rest);
        return true;
    }

    /** True while the map names {@code backup}, so that a sync of it is still wanted. */
    boolean wanted(String backup) {
        return target.contains(backup);
    }

    /** The sync of {@code backup} was given up: the map moved on, or its snapshot could not begin. */
    void syncAbandoned(String backup) {
        syncing.remove(backup);
    }

    /**
     * {@code backup} (this start of it) gets a snapshot cut after batch {@code cut}: it gets every
     * batch from now on, and it can stand in once it confirms the snapshot.
     */
    void syncBegun(String backup, long cut, String incarnation) {
        syncing.remove(backup);
        Set<String> with = new LinkedHashSet<>(inSync);
        with.add(backup);
        inSync = Set.copyOf(with);
        unconfirmed.put(backup, cut);
        syncedIncarnation.put(backup, incarnation);
    }

    /**
     * {@code backup} confirmed its snapshot at {@code cut}. Returns the former failover nodes this
     * releases: all of them once every failover node of the map is in sync and confirmed, else none.
     * An older snapshot's confirmation releases nothing (the newer one is still on its way).
     */
    Set<String> confirmed(String backup, long cut) {
        Long pending = unconfirmed.get(backup);
        if (pending == null || pending != cut) {
            return Set.of();
        }
        unconfirmed.remove(backup);
        if (retiring.isEmpty() || !allInSync()) {
            return Set.of();
        }
        Set<String> released = retiring;
        retiring = Set.of();
        syncedIncarnation.keySet().retainAll(inSync);
        return released;
    }

    /** The cut of {@code backup}'s snapshot not confirmed yet; null if none is under way. */
    Long snapshotCut(String backup) {
        return unconfirmed.get(backup);
    }

    /** This node was taken over: it replicates to nobody until it resyncs. */
    void clear() {
        target = Set.of();
        inSync = Set.of();
        retiring = Set.of();
        unconfirmed.clear();
        syncing.clear();
    }

    /** True if every failover node of the map is in sync and has confirmed its snapshot. */
    private boolean allInSync() {
        return syncing.isEmpty() && inSync.containsAll(target) && target.stream().noneMatch(unconfirmed::containsKey);
    }

    static Set<String> union(Set<String> a, Set<String> b) {
        if (b.isEmpty()) {
            return a;
        }
        Set<String> all = new LinkedHashSet<>(a);
        all.addAll(b);
        return all;
    }

    @Override
    public String toString() {
        return "target=" + target + ", inSync=" + inSync + ", syncing=" + syncing + ", unconfirmed="
                + unconfirmed.keySet() + ", retiring=" + retiring;
    }
}
