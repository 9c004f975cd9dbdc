package io.tern.testkit;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Accounts for every message of a run: what was sent (acknowledged by the server), what was received
 * and acknowledged, what came again after its acknowledgement (a duplicate), what came again before
 * it (a legitimate redelivery), and what arrived that nobody sent. A delivered message whose
 * acknowledgement died with the connection is in doubt: settled if it never comes back (the server
 * stored the acknowledgement), a redelivery if it does.
 */
public final class TotalQueueChecker {
    private final Set<String> sent = ConcurrentHashMap.newKeySet();
    private final Set<String> received = ConcurrentHashMap.newKeySet();
    private final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    private final Set<String> duplicated = ConcurrentHashMap.newKeySet();
    private final Set<String> recovered = ConcurrentHashMap.newKeySet();
    private final Set<String> unexpected = ConcurrentHashMap.newKeySet();
    private final Set<String> inDoubt = ConcurrentHashMap.newKeySet();
    private final Set<String> sendsInDoubt = ConcurrentHashMap.newKeySet();
    private final Set<String> resentTwice = ConcurrentHashMap.newKeySet();
    private final Set<String> sendsFailed = ConcurrentHashMap.newKeySet();

    public void sent(String id) {
        sent.add(id);
    }

    /** A message reached the application. */
    public void received(String id) {
        if (acknowledged.contains(id)) {
            (sendsInDoubt.contains(id) ? resentTwice : duplicated).add(id);
        } else if (!received.add(id)) {
            recovered.add(id);
        }
        inDoubt.remove(id);
    }

    /**
     * The acknowledgement covering this delivered message failed with the connection: the server may
     * have stored it or not. It is lost only if it is neither redelivered nor acknowledged later.
     */
    public void acknowledgementInDoubt(String id) {
        if (!acknowledged.contains(id)) {
            inDoubt.add(id);
        }
    }

    /**
     * The send of this message was in flight when its server died, and the client resent it to
     * another server (a {@code FailoverEvent}'s in-doubt id): if the dead server had stored it, it
     * exists twice. Such a second copy is counted apart from {@link #duplicated()}.
     */
    public void sendInDoubt(String id) {
        sendsInDoubt.add(id);
    }

    /**
     * The send of this message threw: the application was told it failed, so it may or may not
     * arrive (not lost if it never does, not unexpected if it does).
     */
    public void sendFailed(String id) {
        sendsFailed.add(id);
    }

    /** Sends that threw (see {@link #sendFailed}). */
    public Set<String> sendsFailed() {
        return sendsFailed;
    }

    /**
     * Delivered messages whose acknowledgement threw and that neither came again nor were
     * acknowledged later: the checker cannot say whether they are lost. Where the README promises
     * that acknowledgements are transparent across a failover, a test asserts this is empty.
     */
    public Set<String> inDoubt() {
        return inDoubt;
    }

    /** Messages received again after acknowledgement because their send was in doubt and resent. */
    public Set<String> resentTwice() {
        return resentTwice;
    }

    /** The acknowledgement covering this message returned. */
    public void acknowledged(String id) {
        acknowledged.add(id);
    }

    public Set<String> lost() {
        Set<String> lost = ConcurrentHashMap.newKeySet();
        lost.addAll(sent);
        lost.removeAll(acknowledged);
        lost.removeAll(inDoubt);
        return lost;
    }

    public Set<String> duplicated() {
        return duplicated;
    }

    public Set<String> unexpected() {
        Set<String> u = ConcurrentHashMap.newKeySet();
        u.addAll(received);
        u.removeAll(sent);
        u.removeAll(sendsFailed);
        u.addAll(unexpected);
        return u;
    }

    public Set<String> recovered() {
        return recovered;
    }

    public int acknowledgedCount() {
        return acknowledged.size();
    }

    @Override
    public String toString() {
        return "sent=" + sent.size() + " acknowledged=" + acknowledged.size() + " lost=" + lost().size()
                + " duplicated=" + duplicated.size() + " unexpected=" + unexpected().size() + " recovered=" + recovered.size()
                + " inDoubt=" + inDoubt.size() + (sendsFailed.isEmpty() ? "" : " sendsFailed=" + sendsFailed.size())
                + (resentTwice.isEmpty() ? "" : " resentTwice=" + resentTwice.size());
    }
}
