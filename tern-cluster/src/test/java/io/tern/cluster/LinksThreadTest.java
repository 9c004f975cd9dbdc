package io.tern.cluster;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

/** The links' thread runs what it is given until its stop, and drops (never throws back) what comes after. */
@Timeout(30)
class LinksThreadTest {

    @Test
    void runsWorkInOrderUntilStoppedThenDropsWhatComesWithoutThrowing() throws InterruptedException {
        LinksThread thread = new LinksThread("links-test");
        StringBuilder order = new StringBuilder();
        CountDownLatch ran = new CountDownLatch(3);
        thread.execute(() -> {
            order.append('a');
            ran.countDown();
        });
        thread.schedule(() -> {
            order.append('c');
            ran.countDown();
        }, 50);
        thread.execute(() -> {
            order.append('b');
            ran.countDown();
        });
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(order).hasToString("abc");

        AtomicInteger late = new AtomicInteger();
        thread.schedule(late::incrementAndGet, 200); // due after the stop: dropped with it
        thread.stop();
        assertThat(thread.stopped()).isTrue();
        assertThatCode(() -> {
            thread.execute(late::incrementAndGet);
            thread.schedule(late::incrementAndGet, 0);
        }).as("work handed over after the stop is dropped, not thrown back").doesNotThrowAnyException();
        // stop() returned once the thread had ended (it waits for that): nothing can run any more.
        assertThat(late).hasValue(0);
    }
}
