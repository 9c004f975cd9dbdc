package io.tern.broker;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The memory limit counts the copies of other nodes' messages this node holds (its replicas) beside
 * its own queues: they share its heap. A send waits while both together reach the limit, and goes
 * once the copies shrink.
 */
@Timeout(10)
class MemoryGovernorTest {
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

    @Test
    void copiesOfOtherNodesCountTowardsTheLimitAndASendGoesWhenTheyShrink() {
        AtomicLong copies = new AtomicLong(600);
        MemoryGovernor memory = new MemoryGovernor(1000, copies::get);
        memory.add(300);
        assertThat(memory.used()).isEqualTo(900);
        assertThat(memory.full()).isFalse();

        memory.add(200); // 500 queued here, 600 held for another node: past the limit of 1000
        assertThat(memory.full()).isTrue();
        assertThat(memory.copies()).isEqualTo(600);
        AtomicBoolean went = new AtomicBoolean();
        AtomicBoolean timedOut = new AtomicBoolean();
        memory.whenRoom(100, true, 60_000, timers, reserved -> went.set(true), () -> timedOut.set(true));
        assertThat(went).as("waits: the copies fill the heap too").isFalse();
        assertThat(memory.blocked()).isEqualTo(1);

        copies.set(100); // the other node's consumers took its messages
        memory.copiesShrunk();
        assertThat(went).as("room again").isTrue();
        assertThat(timedOut).isFalse();
        assertThat(memory.blocked()).isZero();
    }
}
