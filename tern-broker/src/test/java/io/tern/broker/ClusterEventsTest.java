package io.tern.broker;

import io.tern.protocol.ClusterTopology;
import io.tern.protocol.NodeInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

@Timeout(10)
class ClusterEventsTest {
    private final AtomicLong clock = new AtomicLong(1_000);
    private final ClusterEvents events = new ClusterEvents(clock::get);

    private static ClusterTopology view(String... names) {
        List<NodeInfo> members = new ArrayList<>();
        for (String n : names) {
            members.add(new NodeInfo("id-" + n, n, "machine-" + n, List.of("tern://" + n + ":5445"), ""));
        }
        return new ClusterTopology(members, Map.of(), true);
    }

    @Test
    void aViewTellsWhoJoinedAndWhoLeftByNameEvenAfterTheyAreGone() {
        events.viewChanged(view("a"));
        assertThat(events.after(0)).as("the first view is where this node starts, not a join").isEmpty();
        events.viewChanged(view("a", "b", "c"));
        events.viewChanged(view("a", "c"));
        List<ClusterEvents.Event> all = events.after(0);
        assertThat(all).extracting(ClusterEvents.Event::kind).containsExactly("joined", "joined", "left");
        assertThat(all).extracting(ClusterEvents.Event::node).containsExactlyInAnyOrder("b", "c", "b");
        assertThat(all.get(0).detail()).startsWith("on machine machine-");
        assertThat(events.nameOf("id-b")).isEqualTo("b");
        assertThat(events.nameOf("id-unknown")).isEqualTo("id-unknown");
    }

    @Test
    void eventsAreNumberedTimedKeptUpToTheCapacityAndToldToSubscribers() {
        List<ClusterEvents.Event> heard = new ArrayList<>();
        Runnable stop = events.subscribe(heard::add);
        ClusterEvents.Event first = events.record("suspected", "b", "silent");
        clock.set(2_000);
        events.record("taken-over", "b", "by a");
        stop.run();
        events.record("failed-back", "b", null);
        assertThat(first.id()).isEqualTo(1);
        assertThat(first.timeMs()).isEqualTo(1_000);
        assertThat(heard).extracting(ClusterEvents.Event::kind).containsExactly("suspected", "taken-over");
        assertThat(events.after(1)).extracting(ClusterEvents.Event::id).containsExactly(2L, 3L);
        assertThat(events.after(3)).isEmpty();
        assertThat(events.after(2).get(0).detail()).isEmpty();
        for (int i = 0; i < ClusterEvents.CAPACITY + 10; i++) {
            events.record("joined", "n" + i, "");
        }
        List<ClusterEvents.Event> kept = events.after(0);
        assertThat(kept).hasSize(ClusterEvents.CAPACITY);
        assertThat(kept.get(0).id()).isEqualTo(3 + 10 + 1);
    }
}
