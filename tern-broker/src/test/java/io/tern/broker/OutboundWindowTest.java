package io.tern.broker;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

@Timeout(10)
class OutboundWindowTest {
    private final AtomicInteger woken = new AtomicInteger();
    private final OutboundWindow window = new OutboundWindow(1000, woken::incrementAndGet);

    @Test
    void aFullWindowWakesTheQueueThatFoundItFullOnceItDrainedToHalf() {
        window.taken(600);
        assertThat(window.roomOrWake()).as("600 of 1000 unwritten: room").isTrue();
        window.taken(600);
        assertThat(window.roomOrWake()).as("1200 of 1000 unwritten: full").isFalse();
        window.written(600);
        assertThat(woken).as("600 left: not drained to half yet").hasValue(0);
        window.written(200);
        assertThat(woken).as("400 left: drained").hasValue(1);
        window.written(400);
        assertThat(woken).as("woken once per time it was found full").hasValue(1);
        assertThat(window.unwritten()).isZero();
    }

    @Test
    void aWindowNobodyFoundFullWakesNobody() {
        window.taken(5000); // one message larger than the window is given when it has room
        window.written(5000);
        assertThat(woken).hasValue(0);
    }

    @Test
    void aWriteBetweenTheCheckAndTheMarkIsNotMissed() {
        window.taken(1000);
        assertThat(window.roomOrWake()).isFalse();
        window.written(1000);
        assertThat(woken).hasValue(1);
        assertThat(window.roomOrWake()).isTrue();
    }
}
