package io.tern.broker.store;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StoreBatchCodecTest {

    @Test
    void everyOpSurvivesTheRoundTrip() {
        StoreBatch batch = new StoreBatch()
                .add(new StoreBatch.PutQueue("orders", new byte[] {1, 2}))
                .add(new StoreBatch.AddMessage("orders", 7, new byte[] {9, 9, 9}))
                .add(new StoreBatch.RemoveMessage("orders", 6))
                .add(new StoreBatch.AddDuplicateId(3, "ID:abc"))
                .add(new StoreBatch.RemoveDuplicateBucket(2))
                .add(new StoreBatch.DeleteQueue("old"))
                .add(new StoreBatch.MarkDelivered("orders", 8, "conn-1/3"))
                .add(new StoreBatch.MarkReturned("orders", 8))
                .add(new StoreBatch.RemoveDuplicateId(3, "ID:abc"));
        byte[] bytes = StoreBatchCodec.encode(batch);
        byte[] framed = new byte[bytes.length + 5];
        System.arraycopy(bytes, 0, framed, 5, bytes.length);
        StoreBatch back = StoreBatchCodec.decode(framed, 5, bytes.length);
        assertThat(back.ops()).hasSize(9);
        assertThat(back.ops().get(1)).isInstanceOfSatisfying(StoreBatch.AddMessage.class, m -> {
            assertThat(m.queue()).isEqualTo("orders");
            assertThat(m.sequence()).isEqualTo(7);
            assertThat(m.message()).containsExactly(9, 9, 9);
        });
        assertThat(back.ops().get(2)).isEqualTo(new StoreBatch.RemoveMessage("orders", 6));
        assertThat(back.ops().get(3)).isEqualTo(new StoreBatch.AddDuplicateId(3, "ID:abc"));
        assertThat(back.ops().get(4)).isEqualTo(new StoreBatch.RemoveDuplicateBucket(2));
        assertThat(back.ops().get(5)).isEqualTo(new StoreBatch.DeleteQueue("old"));
        assertThat(back.ops().get(6)).isEqualTo(new StoreBatch.MarkDelivered("orders", 8, "conn-1/3"));
        assertThat(back.ops().get(7)).isEqualTo(new StoreBatch.MarkReturned("orders", 8));
        assertThat(back.ops().get(8)).isEqualTo(new StoreBatch.RemoveDuplicateId(3, "ID:abc"));
        assertThat(back.onlyMarks()).isFalse();
        assertThat(new StoreBatch().add(new StoreBatch.MarkReturned("q", 1)).onlyMarks()).isTrue();
    }

    @Test
    void truncatedOrUnknownBytesAreRefusedClearly() {
        byte[] bytes = StoreBatchCodec.encode(new StoreBatch().add(new StoreBatch.AddMessage("q", 1, new byte[100])));
        assertThatThrownBy(() -> StoreBatchCodec.decode(bytes, 0, bytes.length - 10))
                .isInstanceOf(IllegalArgumentException.class);
        byte[] unknown = Arrays.copyOf(StoreBatchCodec.encode(new StoreBatch().add(new StoreBatch.DeleteQueue("q"))), 8);
        unknown[4] = 42;
        assertThatThrownBy(() -> StoreBatchCodec.decode(unknown, 0, unknown.length))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown store op 42");
    }
}
