package io.tern.cluster;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** A replicated batch of {@link ReplicatingStore} waiting until every failover node it needs confirmed it. */
final class WaitingCommit {
    private final Set<String> needed = new HashSet<>();    // guarded by this
    private final Set<String> confirmed = new HashSet<>(); // guarded by this
    final CompletableFuture<Void> done = new CompletableFuture<>();
    /** When it started waiting (System.nanoTime), for the replication lag. */
    final long since = System.nanoTime();

    WaitingCommit(Set<String> target) {
        needed.addAll(target);
    }

    /** Completes {@link #done} outside this monitor: what runs on completion may commit again. */
    void confirmed(String backup) {
        boolean complete;
        synchronized (this) {
            confirmed.add(backup);
            complete = needed.remove(backup) && needed.isEmpty();
        }
        if (complete) {
            done.complete(null);
        }
    }

    /**
     * The map's failover nodes are now {@code target}: those not in it are not waited for, new ones
     * are; one that left and came back must confirm again (it may have lost its replica meanwhile).
     */
    void retarget(Set<String> target) {
        boolean complete;
        synchronized (this) {
            needed.retainAll(target);
            confirmed.retainAll(target);
            for (String t : target) {
                if (!confirmed.contains(t)) {
                    needed.add(t);
                }
            }
            complete = needed.isEmpty();
        }
        if (complete) {
            done.complete(null);
        }
    }

    synchronized boolean needs(String backup) {
        return needed.contains(backup);
    }
}
