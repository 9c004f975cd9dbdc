package io.tern.cluster;

import io.tern.protocol.NodeInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@Timeout(30)
class TakeoverRetriesTest {
    private final NodeInfo gone = new NodeInfo("n-2", "node-2", "m2", List.of("tern://127.0.0.1:1"), "");
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final Set<String> pending = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean back = new AtomicBoolean();
    /** The tries made: the start each was for, and its round. */
    private final List<TakeoverRetries.Failed> tries = new CopyOnWriteArrayList<>();
    private final AtomicInteger failuresLeft = new AtomicInteger();

    private final TakeoverRetries retries = new TakeoverRetries(new TakeoverRetries.Membership() {
        @Override
        public boolean isMember(String nodeId) {
            return back.get();
        }

        @Override
        public boolean confirmGone(NodeInfo node) {
            return !back.get();
        }

        @Override
        public long viewId() {
            return 7;
        }
    }, pending, timer, Runnable::run, id -> true, (node, incarnation, copies, epoch) -> {
        assertThat(pending).as("marked under way while it is tried").contains(node.nodeId());
        tries.add(new TakeoverRetries.Failed(node, incarnation, copies));
        return failuresLeft.getAndDecrement() <= 0;
    }, () -> { });

    @AfterEach
    void stop() {
        timer.shutdownNow();
    }

    @Test
    void aNewerFailureOfTheNodeWhileATryWaitsIsTheOneTried() {
        RoundCopies older = new RoundCopies();
        RoundCopies newer = new RoundCopies();
        retries.failed(new TakeoverRetries.Failed(gone, "start-1", older));
        // The node came back with a new start and failed again; its takeover failed too.
        retries.failed(new TakeoverRetries.Failed(gone, "start-2", newer));
        assertThat(retries.waiting()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> !retries.waits(gone.nodeId()));
        assertThat(tries).hasSize(1);
        assertThat(tries.get(0).incarnation()).isEqualTo("start-2");
        assertThat(tries.get(0).copies()).isSameAs(newer);
        assertThat(pending).isEmpty();
    }

    @Test
    void aTryThatFailsIsTriedAgainUntilOneSucceeds() {
        failuresLeft.set(1);
        retries.failed(new TakeoverRetries.Failed(gone, "start-1", new RoundCopies()));
        await().atMost(Duration.ofSeconds(10)).until(() -> !retries.waits(gone.nodeId()));
        assertThat(tries).hasSize(2);
    }

    @Test
    void aNodeBackInTheViewIsNotTakenOver() {
        back.set(true);
        retries.failed(new TakeoverRetries.Failed(gone, "start-1", new RoundCopies()));
        await().atMost(Duration.ofSeconds(10)).until(() -> !retries.waits(gone.nodeId()));
        assertThat(tries).isEmpty();
    }
}
