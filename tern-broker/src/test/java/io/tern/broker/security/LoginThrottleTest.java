package io.tern.broker.security;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** Password guessing from one address slows down, doubling, and a success or time clears it; with a fake clock. */
@Timeout(10)
class LoginThrottleTest {
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final LoginThrottle throttle = new LoginThrottle(now::get);

    @Test
    void fiveFailuresAreFreeThenTheAddressWaitsLongerEachTime() {
        for (int i = 1; i <= LoginThrottle.FREE_FAILURES - 1; i++) {
            assertThat(throttle.failed("127.0.0.1")).isEqualTo(i);
            assertThat(throttle.lockedForMs("127.0.0.1")).isZero();
        }
        throttle.failed("127.0.0.1");
        assertThat(throttle.lockedForMs("127.0.0.1")).isEqualTo(1000);
        assertThat(throttle.lockedForMs("127.0.0.2")).as("another address").isZero();
        now.addAndGet(1000);
        assertThat(throttle.lockedForMs("127.0.0.1")).isZero();
        throttle.failed("127.0.0.1");
        assertThat(throttle.lockedForMs("127.0.0.1")).isEqualTo(2000);
        for (int i = 0; i < 30; i++) {
            throttle.failed("127.0.0.1");
        }
        assertThat(throttle.lockedForMs("127.0.0.1")).isEqualTo(LoginThrottle.MAX_LOCK_MS);
        throttle.succeeded("127.0.0.1");
        assertThat(throttle.lockedForMs("127.0.0.1")).isZero();
    }

    @Test
    void failuresLeftAloneAreForgotten() {
        for (int i = 0; i < LoginThrottle.FREE_FAILURES; i++) {
            throttle.failed("127.0.0.3");
        }
        now.addAndGet(LoginThrottle.FORGET_MS + 1);
        assertThat(throttle.failed("127.0.0.3")).isEqualTo(1);
        assertThat(throttle.lockedForMs("127.0.0.3")).isZero();
    }
}
