package io.tern.cluster;

import io.tern.broker.store.StoreBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A replica keeps a primary's batches only one after the other from its snapshot's cut: one that
 * missed batches acknowledges nothing more and says it cannot stand in, until a new snapshot; and
 * what it holds can be handed over whole to another node.
 */
@Timeout(10)
class ReplicaTest {
    private static StoreBatch add(String queue, long seq) {
        StoreBatch b = new StoreBatch();
        b.add(new StoreBatch.AddMessage(queue, seq, ("m" + seq).getBytes(StandardCharsets.UTF_8)));
        return b;
    }

    @Test
    void aReplicaThatMissedABatchAcknowledgesNothingUntilANewSnapshot() {
        Replica r = new Replica();
        r.beginSnapshot(10, "i-1");
        r.endSnapshot();
        assertThat(r.batch(11, add("q", 1))).isNotNull();
        assertThat(r.complete()).isTrue();

        assertThat(r.batch(13, add("q", 3))).as("batch 12 never came").isNull();
        assertThat(r.batch(14, add("q", 4))).as("nor does a later one count").isNull();
        assertThat(r.complete()).isFalse();
        assertThat(r.messages().get("q")).containsOnlyKeys(1L);

        r.beginSnapshot(20, "i-1");
        r.snapshotChunk(add("q", 5));
        assertThat(r.complete()).as("while the snapshot streams").isFalse();
        r.endSnapshot();
        assertThat(r.batch(21, add("q", 6))).isNotNull();
        assertThat(r.complete()).isTrue();
        assertThat(r.messages().get("q")).containsOnlyKeys(5L, 6L);
        assertThat(r.lastBatch()).isEqualTo(21);
    }

    @Test
    void aBatchAlreadyInTheSnapshotIsAcknowledgedWithoutBeingAppliedTwice() {
        Replica r = new Replica();
        r.beginSnapshot(10, "");
        r.snapshotChunk(add("q", 1));
        r.endSnapshot();
        assertThat(r.batch(9, add("q", 99))).isNotNull().isDone();
        assertThat(r.messages().get("q")).containsOnlyKeys(1L);
        assertThat(r.complete()).isTrue();
    }

    @Test
    void aReplicaIsUnverifiedAfterMissedViewsUntilTheNextSnapshot() {
        Replica r = new Replica();
        r.beginSnapshot(0, "i-1");
        r.endSnapshot();
        r.unverified();
        assertThat(r.verified()).isFalse();
        assertThat(r.complete()).as("unverified is not incomplete").isTrue();
        r.beginSnapshot(5, "i-1");
        r.endSnapshot();
        assertThat(r.verified()).isTrue();
    }

    @Test
    void itsContentsMakeTheSameReplicaElsewhere() {
        Replica r = new Replica();
        r.beginSnapshot(0, "i-1");
        StoreBatch all = new StoreBatch();
        all.add(new StoreBatch.PutQueue("q", new byte[] {7}));
        all.add(new StoreBatch.AddMessage("q", 1, new byte[] {1}));
        all.add(new StoreBatch.AddMessage("q", 2, new byte[] {2}));
        all.add(new StoreBatch.AddDuplicateId(3, "dup-1"));
        all.add(new StoreBatch.MarkDelivered("q", 2, "client-1/1"));
        all.add(new StoreBatch.ClientConnected("client-1"));
        r.snapshotChunk(all);
        r.endSnapshot();

        Replica copy = new Replica();
        copy.beginSnapshot(r.lastBatch(), r.incarnation());
        copy.snapshotChunk(r.contents());
        copy.endSnapshot();
        assertThat(copy.queues()).containsOnlyKeys("q");
        assertThat(copy.messages().get("q")).containsOnlyKeys(1L, 2L);
        assertThat(copy.duplicateIds()).containsExactly("dup-1");
        assertThat(copy.hasDuplicateId("dup-1")).isTrue();
        assertThat(copy.owners()).isEqualTo(r.owners()).containsKey("q");
        assertThat(copy.clients()).containsExactly("client-1");
        assertThat(copy.incarnation()).isEqualTo("i-1");
    }
}
