package io.tern.client.impl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

@Timeout(30)
class MessageIdsTest {
    @Test
    void idsAreJmsIdsAndNeverRepeatWithinOrAcrossProducers() {
        MessageIds a = new MessageIds();
        MessageIds b = new MessageIds();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String x = a.next();
            String y = b.next();
            assertThat(x).startsWith("ID:");
            assertThat(seen.add(x)).as("repeated %s", x).isTrue();
            assertThat(seen.add(y)).as("repeated %s", y).isTrue();
        }
    }

    @Test
    void threadsSharingOneProducerStillGetDistinctIds() throws Exception {
        MessageIds ids = new MessageIds();
        Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                for (int i = 0; i < 20_000; i++) {
                    seen.add(ids.next());
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(seen).hasSize(4 * 20_000);
    }
}
