package io.tern.cluster;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The one way the cluster's classes ask the other members something and wait for their answers: a
 * question goes to every other member with a round number, each answer comes back with that number
 * ({@link #answered}), and the asker waits until the answers so far are enough for it, or until its
 * deadline. Used by the takeover ("did you take me over?", "who owns this node?"), the gone
 * confirmation ("do you see these nodes gone too?") and the replica hand-over ("what do you hold of
 * this node?").
 *
 * <p>Not JGroups' {@code RpcDispatcher}: it would take over the channel's receiver (every cluster
 * message would go through it, replication's batches too), and its response modes wait for all
 * members, the first, or a majority of the view, while these questions wait for conditions of
 * their own: a majority of the last stable view (not of the view), or every member that may hold a
 * replica. Answers are plain cluster messages, so a member that does not answer costs the asker its
 * deadline and nothing else.
 */
final class MemberPoll {
    private final ClusterNode node;
    private final LongSupplier clock;
    private final AtomicLong rounds = new AtomicLong();
    /** Rounds under way: round to member to its answer. */
    private final Map<Long, Map<String, Object>> open = new ConcurrentHashMap<>();

    MemberPoll(ClusterNode node, LongSupplier nanoClock) {
        this.node = node;
        this.clock = nanoClock;
    }

    /**
     * Sends {@code question} (made for the round number) to every other member and returns the
     * answers (member to answer) that came before {@code enough} held of them, or before {@code
     * timeoutMs} passed. Interrupted: the answers so far, with the thread's interrupt flag set.
     */
    @SuppressWarnings("unchecked")
    <A> Map<String, A> ask(LongFunction<byte[]> question, Predicate<Map<String, A>> enough, long timeoutMs) {
        long round = rounds.incrementAndGet();
        Map<String, Object> got = new HashMap<>();
        open.put(round, got);
        try {
            node.sendToOthers(question.apply(round));
            long deadlineNs = clock.getAsLong() + timeoutMs * 1_000_000L;
            synchronized (got) {
                while (!enough.test((Map<String, A>) (Map<String, ?>) Map.copyOf(got))) {
                    long leftMs = (deadlineNs - clock.getAsLong()) / 1_000_000L;
                    if (leftMs <= 0) {
                        break;
                    }
                    got.wait(leftMs);
                }
                return (Map<String, A>) (Map<String, ?>) Map.copyOf(got);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            synchronized (got) {
                return (Map<String, A>) (Map<String, ?>) Map.copyOf(got);
            }
        } finally {
            open.remove(round);
        }
    }

    /** An answer of {@code from} to round {@code round}; ignored if that round is over. */
    void answered(long round, String from, Object answer) {
        Map<String, Object> got = open.get(round);
        if (got != null) {
            synchronized (got) {
                got.put(from, answer);
                got.notifyAll();
            }
        }
    }

    /** Enough when every member now in the view but this node answered. */
    <A> Predicate<Map<String, A>> everyOtherMember() {
        String self = node.self().nodeId();
        return got -> node.members().stream().allMatch(m -> m.nodeId().equals(self) || got.containsKey(m.nodeId()));
    }
}
