package io.tern.client.impl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The connection's link state machine, driven with a fake clock and links without transports. */
@Timeout(10)
class LinkStatesTest {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final LinkStates<String> states = new LinkStates<>(5_000, nanos::get);

    private static LinkStates.Link link(long gen, int port) {
        return new LinkStates.Link(null, gen, new ClientUrl.HostPort("127.0.0.1", port), "node-" + port);
    }

    private LinkStates.Link connectedTo(long gen, int port) {
        LinkStates.Link l = link(gen, port);
        states.accept(gen);
        assertThat(states.connected(l, "test")).isEmpty();
        return l;
    }

    @Test
    void requestsWithoutALinkAreParkedAndHandedToTheNextLink() throws Exception {
        assertThat(states.state()).isEqualTo(LinkStates.State.CONNECTING);
        LinkStates.Link first = connectedTo(1, 7001);
        assertThat(states.linkOrPark("a", null)).isSameAs(first);

        assertThat(states.lost(1, "broke")).isSameAs(first);
        assertThat(states.state()).isEqualTo(LinkStates.State.RECONNECTING);
        assertThat(states.link()).isNull();
        assertThat(states.accepting()).as("no deliveries count from a broken link").isZero();
        assertThat(states.linkOrPark("b", null)).isNull();
        assertThat(states.linkOrPark("c", null)).isNull();

        states.giveUpReconnecting("gone");
        assertThat(states.state()).isEqualTo(LinkStates.State.FAILING_OVER);
        LinkStates.Link second = link(2, 7002);
        assertThat(states.connected(second, "failed over")).containsExactly("b", "c");
        assertThat(states.state()).isEqualTo(LinkStates.State.CONNECTED);
        assertThat(states.generation()).isEqualTo(2);
        assertThat(states.lost(1, "late report of the old link")).as("an old link's loss changes nothing").isNull();
        assertThat(states.state()).isEqualTo(LinkStates.State.CONNECTED);
    }

    @Test
    void aRequestRefusedByALinkWaitsForTheNextOneNotThatLink() throws Exception {
        LinkStates.Link first = connectedTo(1, 7001);
        assertThat(states.leave(1, "", "refuses sends", 0)).isNotNull();
        assertThat(states.linkOrPark("refused", first)).as("parked, not sent to the refusing link again").isNull();
        assertThat(states.linkOrPark("other", null)).as("other requests still flow while leaving").isSameAs(first);
        assertThat(states.connected(link(2, 7002), "moved")).containsExactly("refused");
    }

    @Test
    void aPlannedMoveLetsOpenTransactionsEndUntilItsDeadline() throws Exception {
        LinkStates.Link first = connectedTo(1, 7001);
        LinkStates.Move m = states.leave(1, "127.0.0.1:7002", "lame duck", 0);
        assertThat(m).isNotNull();
        assertThat(states.state()).isEqualTo(LinkStates.State.LEAVING);
        assertThat(states.leave(1, "", "again", 0)).as("one move at a time").isNull();
        assertThat(states.mayLeave(true)).as("a transaction is open, deadline not reached").isFalse();
        assertThat(states.mayLeave(false)).isTrue();
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(4_999));
        assertThat(states.mayLeave(true)).isFalse();
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(1));
        assertThat(states.mayLeave(true)).as("past the deadline the move leaves anyway").isTrue();

        assertThat(states.awaitLeft(m, () -> true)).isTrue();
        assertThat(states.state()).isEqualTo(LinkStates.State.MOVING);
        assertThat(states.link()).isNull();
        assertThat(states.retiring()).containsExactly(first);
        assertThat(states.accepting()).as("deliveries still count until the consumers hand back").isEqualTo(1);
    }

    @Test
    void aTransactionWaitsWhileAMoveIsUnderWayAndGoesOnWhenItEnds() throws Exception {
        connectedTo(1, 7001);
        LinkStates.Move m = states.leave(1, "", "lame duck", 0);
        CountDownLatch began = new CountDownLatch(1);
        Thread tx = new Thread(() -> {
            try {
                states.awaitNoMove();
                began.countDown();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        tx.start();
        assertThat(began.await(100, TimeUnit.MILLISECONDS)).as("held while LEAVING").isFalse();
        assertThat(states.awaitLeft(m, () -> false)).isTrue();
        assertThat(began.await(100, TimeUnit.MILLISECONDS)).as("held while MOVING").isFalse();
        states.accept(2);
        states.connected(link(2, 7002), "moved");
        assertThat(began.await(5, TimeUnit.SECONDS)).as("goes on once CONNECTED").isTrue();
        tx.join();
    }

    @Test
    void aMoveOvertakenByABrokenLinkBecomesAFailover() throws Exception {
        LinkStates.Link first = connectedTo(1, 7001);
        LinkStates.Move m = states.leave(1, "", "lame duck", 0);
        assertThat(states.lost(1, "broke while leaving")).isSameAs(first);
        assertThat(states.state()).isEqualTo(LinkStates.State.RECONNECTING);
        assertThat(states.awaitLeft(m, () -> false)).as("the move gives way to the failover").isFalse();
        assertThat(states.retiring()).isEmpty();
    }

    @Test
    void failbackWaitsUntilNothingOfTheLinkIsHeld() {
        connectedTo(3, 7003);
        states.failbackDue(3, "tern://127.0.0.1:7001");
        assertThat(states.state()).isEqualTo(LinkStates.State.FAILBACK_DUE);
        assertThat(states.failbackIfFree(gen -> gen == 3)).as("the application holds a delivery of link 3").isNull();
        assertThat(states.state()).isEqualTo(LinkStates.State.FAILBACK_DUE);
        LinkStates.Move m = states.failbackIfFree(gen -> false);
        assertThat(m).isNotNull();
        assertThat(m.target()).isEqualTo("tern://127.0.0.1:7001");
        assertThat(states.state()).isEqualTo(LinkStates.State.LEAVING);
        assertThat(states.failbackIfFree(gen -> false)).as("started once").isNull();
    }

    @Test
    void aFailbackNoticeFromAnOldLinkIsIgnored() {
        connectedTo(3, 7003);
        states.failbackDue(2, "tern://127.0.0.1:7001");
        assertThat(states.state()).isEqualTo(LinkStates.State.CONNECTED);
    }

    @Test
    void awaitingTheNextLinkEndsAtTheDeadlineOfTheFakeClockOrWhenALinkComes() throws Exception {
        connectedTo(1, 7001);
        states.lost(1, "broke");
        Thread connector = new Thread(() -> states.connected(link(2, 7002), "failed over"));
        connector.start();
        states.awaitLinkAfter(1, 5_000);
        connector.join();
        assertThat(states.generation()).isEqualTo(2);
        states.awaitLinkAfter(1, 5_000); // already replaced: returns at once
    }

    @Test
    void closeFailsWhatWaitsAndNamesTheLinksToClose() throws Exception {
        LinkStates.Link first = connectedTo(1, 7001);
        LinkStates.Move m = states.leave(1, "", "lame duck", 0);
        states.awaitLeft(m, () -> false);
        assertThat(states.linkOrPark("waiting", null)).isNull();
        List<String> parked = new ArrayList<>();
        assertThat(states.close("closed by the application", parked)).containsExactly(first);
        assertThat(parked).containsExactly("waiting");
        assertThat(states.state()).isEqualTo(LinkStates.State.CLOSED);
        assertThat(states.connected(link(2, 7002), "too late")).as("no link after close").isNull();
        assertThatThrownBy(() -> states.linkOrPark("after", null)).hasMessageContaining("closed");
    }
}
