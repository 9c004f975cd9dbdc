package io.tern.cluster;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The bookkeeping of who a primary replicates to, through map changes, snapshots and restarts. */
@Timeout(10)
class BackupSetTest {
    private final BackupSet set = new BackupSet();
    private final Map<String, String> starts = new HashMap<>(Map.of("b", "b1", "c", "c1", "d", "d1"));

    private BackupSet.Change map(String... failover) {
        return set.mapChanged(Set.of(failover), starts::get, List.of("b", "c", "d"));
    }

    /** b is the failover node, synced and confirmed at cut 10. */
    private void bInSync() {
        assertThat(map("b").toSync()).containsExactly("b");
        set.syncBegun("b", 10, "b1");
        set.confirmed("b", 10);
    }

    @Test
    void aNewFailoverNodeIsSyncedAndTheOthersDropTheirReplicas() {
        BackupSet.Change change = map("b");
        assertThat(change.toSync()).containsExactly("b");
        assertThat(change.dropped()).containsExactlyInAnyOrder("c", "d");
        assertThat(set.waitFor()).containsExactly("b");
        assertThat(set.sendTo()).isEmpty(); // not before its snapshot's cut is set

        set.syncBegun("b", 10, "b1");
        assertThat(set.sendTo()).containsExactly("b");
        assertThat(map("b").toSync()).isEmpty(); // a view that changes nothing for b starts no second sync
    }

    @Test
    void aFormerFailoverNodeStandsInUntilTheNewOneConfirms() {
        bInSync();
        BackupSet.Change change = map("c");
        assertThat(change.toSync()).containsExactly("c");
        assertThat(change.dropped()).containsExactly("d"); // b keeps its replica: it stands in
        assertThat(set.retiring()).containsExactly("b");
        assertThat(set.sendTo()).containsExactly("b");
        assertThat(set.waitFor()).containsExactlyInAnyOrder("b", "c");

        set.syncBegun("c", 20, "c1");
        assertThat(set.sendTo()).containsExactlyInAnyOrder("b", "c");
        assertThat(set.confirmed("c", 19)).isEmpty(); // an older snapshot's confirmation releases nothing
        assertThat(set.retiring()).containsExactly("b");

        assertThat(set.confirmed("c", 20)).containsExactly("b");
        assertThat(set.retiring()).isEmpty();
        assertThat(set.waitFor()).containsExactly("c");
        assertThat(set.sendTo()).containsExactly("c");
    }

    @Test
    void aBackupNotYetConfirmedCannotStandIn() {
        map("b");
        set.syncBegun("b", 10, "b1");
        map("c");
        assertThat(set.retiring()).isEmpty();
        assertThat(set.waitFor()).containsExactly("c");
    }

    @Test
    void aRestartedBackupGetsASnapshotAgainAndCannotStandIn() {
        bInSync();
        starts.put("b", "b2");
        assertThat(map("b").toSync()).containsExactly("b");
        assertThat(set.inSync()).isEmpty();

        bInSyncAgain();
        starts.put("b", "b3");
        map("c");
        assertThat(set.retiring()).isEmpty(); // its replica is gone with its old start
    }

    private void bInSyncAgain() {
        set.syncBegun("b", 30, "b2");
        set.confirmed("b", 30);
    }

    @Test
    void aBackupThatMissedABatchIsSyncedAgainOnce() {
        bInSync();
        assertThat(set.missed("b")).isTrue();
        assertThat(set.inSync()).isEmpty();
        assertThat(set.waitFor()).containsExactly("b"); // commits keep waiting: the new snapshot covers them
        assertThat(set.missed("b")).isFalse(); // the sync is already under way
        set.syncAbandoned("b");
        map("c");
        assertThat(set.missed("b")).isFalse(); // the map no longer names it
    }

    @Test
    void aStandInThatMissedABatchStopsStandingIn() {
        bInSync();
        map("c");
        assertThat(set.stopRetiring("b")).isTrue();
        assertThat(set.stopRetiring("b")).isFalse();
        assertThat(set.waitFor()).containsExactly("c");
        assertThat(set.sendTo()).isEmpty();
    }

    @Test
    void clearedItReplicatesToNobody() {
        bInSync();
        map("c");
        set.clear();
        assertThat(set.target()).isEmpty();
        assertThat(set.sendTo()).isEmpty();
        assertThat(set.waitFor()).isEmpty();
        assertThat(set.wanted("c")).isFalse();
    }
}
