package io.tern.it;

import io.tern.broker.NodeState;
import jakarta.jms.Connection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A takeover that stored the dead node's messages but cannot record itself (its records file cannot
 * be written) fails loudly: the taker is fenced, delivers none of them, removes them from its store
 * again, and keeps no record of a takeover only in memory, so that nobody tells the dead node, once
 * back, to discard what it still holds alone.
 */
@Timeout(120)
class TakeoverNotRecordedTest extends InJvmClusterTest {

    @Test
    void aTakeoverThatCannotBeRecordedFencesTheTakerAndUndoesItself() throws Exception {
        cluster = new InJvmCluster(dir);
        cluster.startInSync("a", "b", "c");
        InJvmCluster.Node gone = cluster.nodes.get(0);
        InJvmCluster.Node taker = cluster.failoverOf(gone);
        sendOrders(gone, 5);
        // The records file is replaced through a temporary file beside it: a directory there fails every save.
        Files.createDirectories(dir.resolve(taker.name()).resolve("takeovers.tmp").resolve("in-the-way"));
        cluster.crash(gone);

        await().atMost(Duration.ofSeconds(30)).until(() -> taker.server().broker().availability().state() == NodeState.FENCED);
        assertThat(taker.server().broker().availability().reason()).contains("could not be recorded");
        assertThat(taker.takeover().records()).as("no record only in memory").doesNotContainKey(gone.id());
        assertThat(taker.server().broker().messageCount("orders")).as("none of them placed for delivery").isZero();
        await().atMost(Duration.ofSeconds(30)).until(() -> stored(taker.store(), "orders") == 0);
    }
}
