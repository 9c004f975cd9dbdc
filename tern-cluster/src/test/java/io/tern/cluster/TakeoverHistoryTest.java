package io.tern.cluster;

import io.tern.broker.PeerStart;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

@Timeout(10)
class TakeoverHistoryTest {

    @Test
    void whatAStartStoredIsHeldByTheFirstTakeoverOfThatStartFromTheViewItsLinkOpenedIn() {
        TakeoverHistory history = new TakeoverHistory();
        history.taken("r", 4, "r-1", "t-of-r1");      // the start before, taken over before the link opened
        history.taken("r", 9, "r-2", "t-after-pause"); // the link's start, taken over after a pause: it came back
        history.taken("r", 12, "r-2", "t-after-kill"); // and taken over again once it was killed
        history.taken("r", 15, "r-3", "t-of-r3");      // the start after

        assertThat(history.holderOf("r", new PeerStart("r-2", 7))).isEqualTo(new TakeoverHistory.Holder("t-after-pause", 9));
        assertThat(history.holderOf("r", new PeerStart("r-2", 10)).node()).as("a link opened after the pause")
                .isEqualTo("t-after-kill");
        assertThat(history.holderOf("r", new PeerStart("r-2", 12)).node()).as("opened in the view of the takeover (read late)")
                .isEqualTo("t-after-kill");
        assertThat(history.holderOf("r", new PeerStart("r-2", 13))).as("none since: the node itself")
                .isEqualTo(new TakeoverHistory.Holder("r", -1));
    }

    @Test
    void aTakerTakenOverSinceHandsOnWhatItHeld() {
        TakeoverHistory history = new TakeoverHistory();
        history.taken("r", 9, "r-2", "t");
        history.taken("t", 8, "t-1", "u-before"); // before t took r over: it did not hold r's then
        history.taken("t", 11, "t-1", "u");        // t paused, taken over by u: u holds what t took of r
        history.taken("u", 14, "", "v");            // and u, gone from every view, by v
        assertThat(history.holderOf("r", new PeerStart("r-2", 7))).isEqualTo(new TakeoverHistory.Holder("v", 14));
    }

    @Test
    void aTakeoverOfAStartNotNamedCountsForAnyStartAndOnlyTheLatestAreKept() {
        TakeoverHistory history = new TakeoverHistory();
        history.taken("r", 5, "", "t-any");
        assertThat(history.holderOf("r", new PeerStart("r-9", 3)).node()).isEqualTo("t-any");
        history.taken("r", 5, "", "t-any"); // told twice: kept once
        for (int epoch = 6; epoch < 14; epoch++) {
            history.taken("r", epoch, "r-" + epoch, "t-" + epoch);
        }
        assertThat(history.holderOf("r", new PeerStart("r-9", 3)).node()).as("the oldest went").isEqualTo("t-9");
    }
}
