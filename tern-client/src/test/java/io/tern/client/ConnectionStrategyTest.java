package io.tern.client;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(10)
class ConnectionStrategyTest {
    private static final List<String> SERVERS = List.of("a", "b", "c");

    @Test
    void stickyKeepsTheListedOrderUntilAServerWorksThenStaysWithIt() {
        ConnectionStrategy<String> s = ConnectionStrategy.named("sticky");
        assertThat(s.order(SERVERS)).containsExactly("a", "b", "c");
        s.connected("b");
        assertThat(s.order(SERVERS)).containsExactly("b", "a", "c");
        assertThat(s.order(List.of("a", "c"))).as("a vanished server is not tried").containsExactly("a", "c");
        assertThat(ConnectionStrategy.<String>named(null)).isInstanceOf(ConnectionStrategy.Sticky.class);
    }

    @Test
    void roundRobinStartsOneFurtherEachTime() {
        ConnectionStrategy<String> s = ConnectionStrategy.named("roundrobin");
        assertThat(s.order(SERVERS)).containsExactly("a", "b", "c");
        assertThat(s.order(SERVERS)).containsExactly("b", "c", "a");
        assertThat(s.order(SERVERS)).containsExactly("c", "a", "b");
        assertThat(s.order(SERVERS)).containsExactly("a", "b", "c");
    }

    @Test
    void randomTriesEveryServerInSomeOrder() {
        ConnectionStrategy<String> s = new ConnectionStrategy.RandomOrder<>(new Random(42));
        java.util.Set<String> firsts = new java.util.HashSet<>();
        for (int i = 0; i < 50; i++) {
            List<String> order = s.order(SERVERS);
            assertThat(order).containsExactlyInAnyOrderElementsOf(SERVERS);
            firsts.add(order.get(0));
        }
        assertThat(firsts).containsExactlyInAnyOrder("a", "b", "c");
    }

    public static final class Reversed implements ConnectionStrategy<String> {
        @Override
        public List<String> order(List<String> servers) {
            List<String> r = new java.util.ArrayList<>(servers);
            java.util.Collections.reverse(r);
            return r;
        }
    }

    @Test
    void aStrategyCanBeNamedByItsClass() {
        ConnectionStrategy<String> s = ConnectionStrategy.named(Reversed.class.getName());
        assertThat(s.order(SERVERS)).containsExactly("c", "b", "a");
        assertThatThrownBy(() -> ConnectionStrategy.named("fastest")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sticky, random, roundrobin");
    }
}
