package io.tern.cluster;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Every replication message reads back as written; a short or unknown one is refused with a reason. */
@Timeout(10)
class ReplicationMessageTest {
    @Test
    void everyMessageReadsBackAsWritten() {
        byte[] body = {1, 2, 3};
        for (ReplicationMessage m : List.of(new ReplicationMessage.Batch(5, body), new ReplicationMessage.Batch(5, body, true), new ReplicationMessage.Ack(6),
                new ReplicationMessage.AckRange(6, 9), new ReplicationMessage.AckRange(6, 6),
                new ReplicationMessage.Refused(7), new ReplicationMessage.Conflict(12), new ReplicationMessage.SnapshotBegin(8, 42, 3, "i-1"),
                new ReplicationMessage.SnapshotChunk(8, body), new ReplicationMessage.SnapshotEnd(8),
                new ReplicationMessage.InSync(8), new ReplicationMessage.OutOfSync(9), new ReplicationMessage.Retired(10, "i-1"))) {
            byte[] framed = new byte[m.encode().length + 2];
            System.arraycopy(m.encode(), 0, framed, 2, m.encode().length);
            ReplicationMessage back = ReplicationMessage.decode(framed, 2, framed.length - 2);
            assertThat(back.getClass()).isEqualTo(m.getClass());
            assertThat(back.toString()).isEqualTo(m.toString());
        }
        byte[] begun = new ReplicationMessage.SnapshotBegin(8, 42, 7, "start-2").encode();
        ReplicationMessage.SnapshotBegin begin = (ReplicationMessage.SnapshotBegin) ReplicationMessage.decode(begun, 0, begun.length);
        assertThat(begin.discardedEpoch()).isEqualTo(42);
        assertThat(begin.viewId()).isEqualTo(7);
        assertThat(begin.incarnation()).isEqualTo("start-2");
        // From a primary of before the start was sent: not known.
        ReplicationMessage.SnapshotBegin noStart = (ReplicationMessage.SnapshotBegin) ReplicationMessage.decode(begun, 0, 25);
        assertThat(noStart.viewId()).isEqualTo(7);
        assertThat(noStart.incarnation()).isEmpty();
        // From a primary of before the view was sent: not known.
        ReplicationMessage.SnapshotBegin older = (ReplicationMessage.SnapshotBegin) ReplicationMessage.decode(begun, 0, 17);
        assertThat(older.discardedEpoch()).isEqualTo(42);
        assertThat(older.viewId()).isEqualTo(-1);
        ReplicationMessage.SnapshotBegin oldest = (ReplicationMessage.SnapshotBegin) ReplicationMessage.decode(begun, 0, 9);
        assertThat(oldest.discardedEpoch()).isEqualTo(-1);
        assertThat(oldest.incarnation()).isEmpty();
        // A start whose length says more than the message holds is refused, not read short.
        assertThatThrownBy(() -> ReplicationMessage.decode(begun, 0, begun.length - 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("start");
    }

    @Test
    void aShortOrUnknownMessageIsRefused() {
        assertThatThrownBy(() -> ReplicationMessage.decode(new byte[] {'A', 0, 0}, 0, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 9 bytes");
        byte[] noFirst = new ReplicationMessage.Ack(9).encode();
        noFirst[0] = 'a';
        assertThatThrownBy(() -> ReplicationMessage.decode(noFirst, 0, noFirst.length))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("names its first batch");
        byte[] backwards = new ReplicationMessage.AckRange(9, 6).encode();
        assertThatThrownBy(() -> ReplicationMessage.decode(backwards, 0, backwards.length))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batches 9 to 6");
        byte[] unknown = new ReplicationMessage.Ack(1).encode();
        unknown[0] = 'X';
        assertThatThrownBy(() -> ReplicationMessage.decode(unknown, 0, unknown.length))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown replication message type X");
    }
}
