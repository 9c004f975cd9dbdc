package io.tern.cluster;

import io.tern.protocol.NodeInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.DataInputStream;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Before a takeover: do members that, with this node, make a majority of the last stable view see
 * the node gone too? A view can hold members this node no longer reaches (in a partition, the first
 * view after it may drop the other side's coordinator and keep a member not yet suspected), and so
 * look like a majority; a node cut off from the others never hears enough yeses and takes nothing
 * over.
 *
 * <p>A node is gone when that start of it is gone ({@link ClusterNode#incarnation}): a node that
 * restarted before it was found gone is in the view again, but its previous self, whose messages
 * the failover node holds, is gone. An empty incarnation means any start of the node.
 *
 * <pre>
 * message := 'Q' round:i64 n:i32 (node:utf incarnation:utf)*n   -- do you see these nodes gone too?
 *          | 'Y' round:i64 gone:bool           -- the answer
 * </pre>
 */
final class GoneConfirmation implements ClusterNode.PayloadHandler {
    private static final Logger LOG = LoggerFactory.getLogger(GoneConfirmation.class);
    static final String TYPES = "QY";
    /** How long a member asked waits for its own view to drop the nodes before it answers no. */
    private static final long ANSWER_WAIT_NS = 300_000_000L;

    private final ClusterNode node;
    private final MemberPoll poll;
    private final LongSupplier clock;
    private final ScheduledExecutorService timer;
    private volatile boolean closed;

    GoneConfirmation(ClusterNode node, MemberPoll poll, LongSupplier nanoClock, ScheduledExecutorService timer) {
        this.node = node;
        this.poll = poll;
        this.clock = nanoClock;
        this.timer = timer;
        node.addPayloadHandler(TYPES, this);
    }

    /**
     * Waits until members that, with this node, make a majority of the last stable view
     * ({@code quorumBase} members, see {@link ClusterNode#quorumBase}) answer that they see every node
     * of {@code gone} gone too (each waits a moment for its own view). Asks again while this node
     * has the quorum and none of them is back; false once that no longer holds. Without the quorum
     * rule ({@code quorumBase} 0), asks nobody.
     */
    boolean confirm(List<NodeInfo> gone, Map<String, String> incarnations, int quorumBase) {
        if (quorumBase == 0) {
            return true;
        }
        long startNs = clock.getAsLong();
        boolean told = false;
        while (!closed) {
            if (!mayTakeOver(gone, incarnations)) {
                LOG.warn("No takeover of {}: {}", names(gone), node.hasQuorum()
                        ? "back in the view" : "this node lost the quorum before a majority confirmed them gone");
                return false;
            }
            int yes = askOnce(gone, incarnations, quorumBase);
            if (Thread.currentThread().isInterrupted()) {
                return false;
            }
            if ((1 + yes) * 2 > quorumBase) {
                if (!mayTakeOver(gone, incarnations)) {
                    continue; // the view changed while the answers came: judged again at the top
                }
                if (told) {
                    LOG.info("A majority confirmed {} gone after {} ms", names(gone), (clock.getAsLong() - startNs) / 1_000_000L);
                }
                return true;
            }
            // A member that has not installed the view yet answers no for a moment: that is not worth a warning.
            if (!told && clock.getAsLong() - startNs > 1_000_000_000L) {
                LOG.warn("Takeover of {} waits: only {} of the {} members of the last stable view confirmed them gone, a "
                        + "majority of the last stable view is needed (this node may be cut off from the others)",
                        names(gone), 1 + yes, quorumBase);
                told = true;
            }
        }
        return false;
    }

    /** One round: asks every other member, and returns how many said yes before the round's deadline. */
    private int askOnce(List<NodeInfo> gone, Map<String, String> incarnations, int quorumBase) {
        // A member answers once its view drops the nodes too, or no after ANSWER_WAIT_NS.
        Map<String, Boolean> answers = poll.ask(round -> ClusterCodec.encode('Q', out -> {
            out.writeLong(round);
            out.writeInt(gone.size());
            for (NodeInfo g : gone) {
                out.writeUTF(g.nodeId());
                out.writeUTF(incarnations.getOrDefault(g.nodeId(), ""));
            }
        }), got -> (1 + yeses(got)) * 2 > quorumBase, ANSWER_WAIT_NS / 1_000_000L + 200);
        return yeses(answers);
    }

    private static int yeses(Map<String, Boolean> answers) {
        return (int) answers.values().stream().filter(Boolean::booleanValue).count();
    }

    @Override
    public void received(String from, byte[] payload, int offset, int length) {
        DataInputStream in = ClusterCodec.reader(payload, offset, length);
        try {
            byte type = in.readByte();
            long round = in.readLong();
            if (type == 'Q') {
                int n = in.readInt();
                Map<String, String> asked = new java.util.HashMap<>();
                for (int i = 0; i < n; i++) {
                    asked.put(in.readUTF(), in.readUTF());
                }
                answerWhenGone(from, round, asked, clock.getAsLong() + ANSWER_WAIT_NS);
            } else {
                poll.answered(round, from, in.readBoolean());
            }
        } catch (IOException e) {
            LOG.warn("Malformed takeover confirmation from {}: {}", from, e.getMessage());
        }
    }

    /**
     * Answers a 'Q': yes as soon as none of {@code asked} is in this node's view (the asker's view
     * usually comes a moment earlier), no if one still is at {@code deadlineNs}.
     */
    private void answerWhenGone(String asker, long round, Map<String, String> asked, long deadlineNs) {
        boolean gone = asked.entrySet().stream().allMatch(e -> isGone(e.getKey(), e.getValue()));
        if (!gone && clock.getAsLong() - deadlineNs < 0 && !closed) {
            timer.schedule(() -> answerWhenGone(asker, round, asked, deadlineNs), 10, TimeUnit.MILLISECONDS);
            return;
        }
        node.send(asker, ClusterCodec.encode('Y', out -> {
            out.writeLong(round);
            out.writeBoolean(gone);
        }));
    }

    /** The ids of the members of the view now. */
    Set<String> liveIds() {
        Set<String> live = new HashSet<>();
        node.members().forEach(m -> live.add(m.nodeId()));
        return live;
    }

    /** True while this node has the quorum and no start of {@code gone} named in {@code incarnations} is back in the view. */
    boolean mayTakeOver(List<NodeInfo> gone, Map<String, String> incarnations) {
        return node.hasQuorum() && gone.stream().allMatch(g -> isGone(g.nodeId(), incarnations.getOrDefault(g.nodeId(), "")));
    }

    /** True if the start {@code incarnation} of node {@code id} (any start: empty) is not in the view. */
    private boolean isGone(String id, String incarnation) {
        String now = node.incarnation(id);
        return now == null || (!incarnation.isEmpty() && !incarnation.equals(now));
    }

    private static List<String> names(List<NodeInfo> nodes) {
        return nodes.stream().map(NodeInfo::name).toList();
    }

    void close() {
        closed = true;
    }
}
