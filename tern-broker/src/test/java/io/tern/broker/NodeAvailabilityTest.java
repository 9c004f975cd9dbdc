package io.tern.broker;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The node's one state machine: every event, what it allows, and the transitions it reports. */
@Timeout(10)
class NodeAvailabilityTest {
    private final NodeAvailability node = new NodeAvailability("n1", true);
    private final List<String> transitions = new ArrayList<>();

    NodeAvailabilityTest() {
        node.addListener((from, to) -> transitions.add(from + " -> " + to));
    }

    /** The node as its cluster leaves it once it found it was not taken over (every test but the first). */
    private void serving() {
        node.started();
        transitions.clear();
    }

    @Test
    void aClusteredNodeStartsHeldAndServesOnceItKnowsItWasNotTakenOver() {
        assertThat(node.state()).as("held from its first moment: it never serves before its cluster checked it")
                .isEqualTo(NodeState.STARTING);
        assertThat(node.clientsRefused()).contains("has started");
        assertThat(node.delivers()).isFalse();
        node.starting("checking whether it was taken over"); // still starting: no transition
        assertThat(node.state()).isEqualTo(NodeState.STARTING);
        node.started();
        assertThat(node.state()).isEqualTo(NodeState.SERVING);
        assertThat(node.clientsRefused()).isNull();
        assertThat(node.sendsRefused()).isNull();
        assertThat(node.delivers()).isTrue();
        assertThat(transitions).containsExactly("starting -> serving");
    }

    @Test
    void withoutTheQuorumAReplicatedNodeRefusesSendsAndHoldsDeliveriesButServesClients() {
        serving();
        node.quorum("alone in a minority partition");
        assertThat(node.state()).isEqualTo(NodeState.NO_QUORUM);
        assertThat(node.sendsRefused()).isEqualTo("alone in a minority partition");
        assertThat(node.delivers()).isFalse();
        assertThat(node.clientsRefused()).isNull();
        node.quorum(null);
        assertThat(node.state()).isEqualTo(NodeState.SERVING);
        assertThat(node.delivers()).isTrue();
    }

    @Test
    void withoutReplicationANodeWithoutTheQuorumStillDelivers() {
        NodeAvailability single = new NodeAvailability("n2", false);
        assertThat(single.state()).as("nobody can take its messages over: it serves at once").isEqualTo(NodeState.SERVING);
        single.quorum("alone");
        assertThat(single.sendsRefused()).isEqualTo("alone");
        assertThat(single.delivers()).isTrue();
    }

    @Test
    void aFenceOverridesTheQuorumAndTheNodeReturnsToWhereItWasWhenItLifts() {
        serving();
        node.quorum("minority");
        node.fence("discarding what was taken over");
        assertThat(node.state()).isEqualTo(NodeState.FENCED);
        assertThat(node.clientsRefused()).isEqualTo("discarding what was taken over");
        node.unfence("discarded");
        assertThat(node.state()).isEqualTo(NodeState.NO_QUORUM);
        assertThat(node.sendsRefused()).as("the reason of the condition that holds again").isEqualTo("minority");
        node.quorum(null);
        assertThat(transitions).containsExactly("serving -> no-quorum", "no-quorum -> fenced", "fenced -> no-quorum",
                "no-quorum -> serving");
    }

    @Test
    void aDrainedNodeStaysDrainedAcrossALostQuorumAndStopsLast() {
        serving();
        node.drain();
        assertThat(node.state()).isEqualTo(NodeState.DRAINING);
        assertThat(node.draining()).isTrue();
        node.quorum("minority");
        assertThat(node.state()).isEqualTo(NodeState.NO_QUORUM);
        node.quorum(null);
        assertThat(node.state()).isEqualTo(NodeState.DRAINING);
        node.stop();
        node.fence("too late to matter");
        assertThat(node.state()).isEqualTo(NodeState.STOPPING);
        assertThat(node.sendsRefused()).isNull();
    }

    @Test
    void anEventThatChangesNothingReportsNothing() {
        serving();
        node.quorum(null);
        node.unfence("nothing to lift");
        assertThat(transitions).isEmpty();
    }

    @Test
    void aFenceUntilRestartIsNotLiftedByTheEndOfAnotherFence() {
        serving();
        node.fence("discarding what was taken over");
        node.fenceUntilRestart("a takeover could not be recorded");
        assertThat(node.clientsRefused()).as("the reason of the fence that holds now").isEqualTo("a takeover could not be recorded");
        node.unfence("discarded");
        assertThat(node.state()).isEqualTo(NodeState.FENCED);
        assertThat(transitions).containsExactly("serving -> fenced");
    }

    @Test
    void theReasonIsTheConditionsThatHoldsAlsoWithoutATransition() {
        node.starting("checking whether it was taken over");
        assertThat(node.reason()).isEqualTo("checking whether it was taken over");
        node.started();
        node.quorum("minority");
        node.fence("discarding");
        node.unfence("discarded");
        assertThat(node.reason()).as("back to no-quorum: its reason, not the fence's end").isEqualTo("minority");
    }
}
