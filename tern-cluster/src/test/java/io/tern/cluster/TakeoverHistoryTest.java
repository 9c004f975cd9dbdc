package io.tern.cluster;

import io.tern.broker.PeerStart;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

@Timeout(10)
class TakeoverHistoryTest {

    @Test
    void theTakerOfAStartIsTheFirstTakeoverOfThatStartAfterItsLinkOpened() {
        TakeoverHistory history = new TakeoverHistory();
        history.taken("r", 4, "r-1", "t-of-r1");      // the start before, taken over before the link opened
        history.taken("r", 9, "r-2", "t-after-pause"); // the link's start, taken over after a pause: it came back
        history.taken("r", 12, "r-2", "t-after-kill"); // and taken over again once it was killed
        history.taken("r", 15, "r-3", "t-of-r3");      // the start after

        assertThat(history.takerOf("r", new PeerStart("r-2", 7))).isEqualTo("t-after-pause");
        assertThat(history.takerOf("r", new PeerStart("r-2", 10))).as("a link opened after the pause").isEqualTo("t-after-kill");
        assertThat(history.takerOf("r", new PeerStart("r-2", 12))).as("none after the view it opened in").isNull();
        assertThat(history.takerOf("other", new PeerStart("r-2", 0))).isNull();
    }

    @Test
    void aTakeoverOfAStartNotNamedCountsForAnyStartAndOnlyTheLatestAreKept() {
        TakeoverHistory history = new TakeoverHistory();
        history.taken("r", 5, "", "t-any");
        assertThat(history.takerOf("r", new PeerStart("r-9", 3))).isEqualTo("t-any");
        history.taken("r", 5, "", "t-any"); // told twice: kept once
        for (int epoch = 6; epoch < 14; epoch++) {
            history.taken("r", epoch, "r-" + epoch, "t-" + epoch);
        }
        assertThat(history.takerOf("r", new PeerStart("r-9", 3))).as("the oldest went").isEqualTo("t-9");
    }
}
