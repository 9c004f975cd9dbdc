package io.tern.cluster;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The one way the cluster's classes ask the other members something and wait for their answers: a
 * question goes to every other member with a round number, each answer comes back with that number
 * ({@link #answered}), and the asker waits until the answers so far are enough for it, or until its
 * deadline; blocking ({@link #ask}) or not ({@link #askAsync}). Used by the takeover ("did you take
 * me over?", "who owns this node?"), the gone confirmation ("do you see these nodes gone too?"), the
 * replica hand-over ("what do you hold of this node?"), the destinations homed across nodes
 * ("keep a part of this one") and a graceful leave ("note that I leave").
 *
 * <p>Not JGroups' {@code RpcDispatcher}: it would take over the channel's receiver (every cluster
 * message would go through it, replication's batches too), and its response modes wait for all
 * members, the first, or a majority of the view, while these questions wait for conditions of
 * their own: a majority of the last stable view (not of the view), or every member that may hold a
 * replica. Answers are plain cluster messages, so a member that does not answer costs the asker its
 * deadline and nothing else.
 *
 * <p>Two exchanges are not polls, and have their own messages: a message group's claim goes to the
 * one member that arbitrates that group, and to the next arbiter after a view change
 * ({@link GroupOwnership}); a replica handed over is a stream of chunks from one member
 * ({@link ReplicaHandover}).
 */
final class MemberPoll {
    private final ClusterNode node;
    private final LongSupplier clock;
    private final AtomicLong rounds = new AtomicLong();
    /** Rounds under way, by number. */
    private final Map<Long, Round> open = new ConcurrentHashMap<>();

    /** One question's answers so far, and whether they are enough. */
    private static final class Round {
        private final Map<String, Object> got = new HashMap<>(); // guarded by this
        private final Predicate<Map<String, Object>> enough;
        private final CompletableFuture<Map<String, Object>> done = new CompletableFuture<>();

        Round(Predicate<Map<String, Object>> enough) {
            this.enough = enough;
        }

        /** True once the round is over; ends it if its answers are enough now. */
        synchronized boolean test() {
            if (!done.isDone() && enough.test(Map.copyOf(got))) {
                finish();
            }
            return done.isDone();
        }

        synchronized void add(String from, Object answer) {
            got.put(from, answer);
            test();
            notifyAll(); // a blocking asker tests again
        }

        /** Ends the round with the answers so far (enough or not); returns them. */
        synchronized Map<String, Object> finish() {
            Map<String, Object> answers = Map.copyOf(got);
            done.complete(answers);
            notifyAll();
            return done.join();
        }
    }

    MemberPoll(ClusterNode node, LongSupplier nanoClock) {
        this.node = node;
        this.clock = nanoClock;
    }

    /**
     * Sends {@code question} (made for the round number) to every other member and returns the
     * answers (member to answer) that came before {@code enough} held of them, or before {@code
     * timeoutMs} passed. Interrupted: the answers so far, with the thread's interrupt flag set.
     */
    <A> Map<String, A> ask(LongFunction<byte[]> question, Predicate<Map<String, A>> enough, long timeoutMs) {
        long number = rounds.incrementAndGet();
        Round r = new Round(typed(enough));
        open.put(number, r);
        try {
            node.sendToOthers(question.apply(number));
            long deadlineNs = clock.getAsLong() + timeoutMs * 1_000_000L;
            synchronized (r) {
                while (!r.test()) {
                    long leftMs = (deadlineNs - clock.getAsLong()) / 1_000_000L;
                    if (leftMs <= 0) {
                        break;
                    }
                    r.wait(leftMs);
                }
                return answers(r.finish());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return answers(r.finish());
        } finally {
            open.remove(number);
        }
    }

    /**
     * As {@link #ask}, without waiting: completes with the answers once {@code enough} holds of them
     * (tested at each answer and at each {@link #reconsider}), or after {@code timeoutMs}.
     */
    <A> CompletableFuture<Map<String, A>> askAsync(LongFunction<byte[]> question, Predicate<Map<String, A>> enough,
                                                   long timeoutMs) {
        long number = rounds.incrementAndGet();
        Round r = new Round(typed(enough));
        open.put(number, r);
        r.done.whenComplete((answers, failure) -> open.remove(number));
        node.sendToOthers(question.apply(number));
        r.test(); // there may be nobody to ask
        CompletableFuture.delayedExecutor(timeoutMs, TimeUnit.MILLISECONDS).execute(r::finish);
        return r.done.thenApply(MemberPoll::answers);
    }

    /** An answer of {@code from} to round {@code round}; ignored if that round is over. */
    void answered(long round, String from, Object answer) {
        Round r = open.get(round);
        if (r != null) {
            r.add(from, answer);
        }
    }

    /** What {@code enough} depends on besides the answers changed (the view): every round tests it again. */
    void reconsider() {
        open.values().forEach(Round::test);
    }

    /** Enough when every member now in the view but this node answered. */
    <A> Predicate<Map<String, A>> everyOtherMember() {
        String self = node.self().nodeId();
        return got -> node.members().stream().allMatch(m -> m.nodeId().equals(self) || got.containsKey(m.nodeId()));
    }

    @SuppressWarnings("unchecked")
    private static <A> Predicate<Map<String, Object>> typed(Predicate<Map<String, A>> enough) {
        return got -> enough.test((Map<String, A>) (Map<String, ?>) got);
    }

    @SuppressWarnings("unchecked")
    private static <A> Map<String, A> answers(Map<String, Object> got) {
        return (Map<String, A>) (Map<String, ?>) got;
    }
}
