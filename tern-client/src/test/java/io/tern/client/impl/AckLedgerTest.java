package io.tern.client.impl;

import io.tern.protocol.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The session's acknowledgement ledger across acknowledgements and failovers. */
@Timeout(10)
class AckLedgerTest {
    private final AckLedger ledger = new AckLedger(3, 2);

    private static Delivery.Tag tag(long gen, long id) {
        return new Delivery.Tag(gen, id);
    }

    @Test
    void heldDeliveriesAreNamedPerConsumerAndLinkUntilAcknowledged() {
        ledger.held(tag(1, 10), 7, "m10");
        ledger.held(tag(1, 11), 8, "m11");
        ledger.held(tag(2, 12), 7, "m12");
        assertThat(ledger.seenIds(7, 1)).containsExactly(10);
        assertThat(ledger.holds(1)).isTrue();
        assertThat(ledger.holds(3)).isFalse();

        List<Delivery.Tag> acking = ledger.startAcknowledging();
        assertThat(acking).containsExactly(tag(1, 10), tag(1, 11), tag(2, 12));
        assertThat(ledger.seen()).isEmpty();
        assertThat(ledger.holds(2)).as("an acknowledgement on its way still holds the link").isTrue();
        ledger.acknowledged(acking);
        assertThat(ledger.holds(1)).isFalse();
        assertThat(ledger.holds(2)).isFalse();
    }

    @Test
    void dupsOkAcknowledgesInBatches() {
        assertThat(ledger.dupsOk(tag(1, 1), 7, "a")).isEmpty();
        assertThat(ledger.holds(1)).isTrue();
        assertThat(ledger.dupsOk(tag(1, 2), 7, "b")).containsExactly(tag(1, 1), tag(1, 2));
        assertThat(ledger.holds(1)).isFalse();
        assertThat(ledger.dupsOk(tag(2, 3), 7, "c")).isEmpty();
        assertThat(ledger.takeDupsOk()).containsExactly(tag(2, 3));
        assertThat(ledger.takeDupsOk()).isEmpty();
    }

    @Test
    void recoveryListsHeldAckingAndRecentAcksOfTheLostLinkOnly() {
        ledger.autoAcked(tag(1, 1), 7, "old-1"); // pushed out: only the last 3 are remembered
        ledger.autoAcked(tag(1, 2), 7, "auto-2");
        ledger.autoAcked(tag(2, 3), 7, "other-link");
        ledger.autoAcked(tag(1, 4), 7, "auto-4");
        ledger.held(tag(1, 5), 7, "acking-5");
        ledger.startAcknowledging();
        ledger.held(tag(1, 6), 8, "held-6");

        List<Request.HeldMessage> listed = new ArrayList<>();
        List<Delivery.Tag> tags = new ArrayList<>();
        ledger.listForRecovery(1, false, listed, tags);
        assertThat(listed).containsExactly(
                new Request.HeldMessage(8, "held-6", Request.Held.HELD),
                new Request.HeldMessage(7, "acking-5", Request.Held.ACKED),
                new Request.HeldMessage(7, "auto-2", Request.Held.ACKED),
                new Request.HeldMessage(7, "auto-4", Request.Held.ACKED));
        assertThat(tags).containsExactly(tag(1, 6), tag(1, 5), tag(1, 2), tag(1, 4));

        List<Request.HeldMessage> committing = new ArrayList<>();
        ledger.listForRecovery(1, true, committing, new ArrayList<>());
        assertThat(committing.get(0).state()).as("a commit in flight lists what it received as acknowledged")
                .isEqualTo(Request.Held.ACKED);
    }

    @Test
    void theNewNodesAnswerRenamesHeldDeliveriesAndSettlesAcknowledgementsInFlight() {
        ledger.held(tag(1, 5), 7, "acking-5");
        ledger.held(tag(1, 9), 7, "acking-9");
        List<Delivery.Tag> acking = ledger.startAcknowledging();
        ledger.held(tag(1, 6), 8, "held-6");
        List<Request.HeldMessage> listed = new ArrayList<>();
        List<Delivery.Tag> tags = new ArrayList<>();
        ledger.listForRecovery(1, false, listed, tags);
        // new link 2: held-6 recovered as delivery 40, acking-5 stored, acking-9 not
        AckLedger.Recovered r = ledger.applyRecovery(listed, tags, new long[] {40, 1, 0}, 2);
        assertThat(r.held()).isEqualTo(1);
        assertThat(r.recovered()).isEqualTo(1);
        assertThat(r.seenNow()).containsExactly(40);
        assertThat(ledger.seen()).containsExactly(tag(2, 40));
        assertThat(ledger.holds(2)).isTrue();

        AckLedger.Settlement s = ledger.settleAfterFailover(acking);
        assertThat(s.again()).isEmpty();
        assertThat(s.lost()).as("acking-9's acknowledgement no node stored").isEqualTo(1);
        ledger.acknowledged(acking);
        assertThat(ledger.holds(1)).isFalse();
    }

    @Test
    void aDeliveryRecoveredBeforeTheApplicationSawItGetsItsNewTagWhenItIsDelivered() {
        List<Request.HeldMessage> listed = List.of(new Request.HeldMessage(7, "in-hand", Request.Held.HELD));
        List<Delivery.Tag> tags = List.of(tag(1, 3));
        ledger.applyRecovery(listed, tags, new long[] {77}, 2);
        assertThat(ledger.current(tag(1, 3))).isEqualTo(tag(2, 77));
        assertThat(ledger.current(tag(1, 3))).as("renamed once").isEqualTo(tag(1, 3));
    }

    @Test
    void tagsGroupByLinkInFirstSeenOrder() {
        assertThat(AckLedger.byGen(List.of(tag(2, 1), tag(1, 2), tag(2, 3))))
                .containsExactly(java.util.Map.entry(2L, new long[] {1, 3}), java.util.Map.entry(1L, new long[] {2}));
    }
}
