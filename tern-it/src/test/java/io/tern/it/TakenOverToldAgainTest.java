package io.tern.it;

import org.jgroups.protocols.DISCARD;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A node cut off, taken over and back in the view is told so ('T') when the takeover is done and at
 * each view change. If none of those reach it, and no view change follows, the members that hold
 * the record tell it again until it has discarded: it does not go on serving messages it no longer owns.
 */
@Timeout(120)
class TakenOverToldAgainTest extends InJvmClusterTest {

    @Test
    void aNodeThatMissedBeingToldItWasTakenOverIsToldAgainAndDiscards() throws Exception {
        cluster = new InJvmCluster(dir);
        cluster.startInSync("a", "b", "c");
        InJvmCluster.Node cutOff = cluster.nodes.get(2);
        InJvmCluster.Node taker = cluster.failoverOf(cutOff);
        sendOrders(cutOff, 3);
        AtomicBoolean deaf = new AtomicBoolean(true);
        DropsClusterMessages told = DropsClusterMessages.into(cutOff, 'T', m -> deaf.get());

        DISCARD isolation = cutOff.cluster().jgroupsChannel().getProtocolStack().findProtocol(DISCARD.class);
        isolation.discardAll(true);
        await().atMost(Duration.ofSeconds(30)).until(() -> taker.takeover().records().containsKey(cutOff.id()));
        isolation.discardAll(false);
        // Back in the view: every 'T' (the taker's and the other member's, at the view change) is lost.
        await().atMost(Duration.ofSeconds(60)).until(() -> cutOff.cluster().members().size() == 3 && told.dropped.get() >= 2);
        assertThat(cutOff.takeover().lastDiscardedEpoch()).as("nothing told it yet").isEqualTo(-1);

        deaf.set(false);
        await().atMost(Duration.ofSeconds(20)).until(() -> cutOff.takeover().lastDiscardedEpoch() >= 0);
        assertThat(cutOff.server().broker().messageCount("orders")).as("it discarded what the taker owns now").isZero();
        await().atMost(Duration.ofSeconds(20)).until(() -> !taker.takeover().records().containsKey(cutOff.id()));
        assertThat(drainOrders(taker)).as("the taker has the three messages, once").containsExactly("m0", "m1", "m2", "after");
    }
}
