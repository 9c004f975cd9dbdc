package io.tern.client.impl;

import io.tern.protocol.ErrorCode;
import io.tern.protocol.Request;
import io.tern.protocol.Response;
import jakarta.jms.JMSException;
import jakarta.jms.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Takes a connection's requests to a server: on the current link, or parked until there is one
 * (see {@link LinkStates}). A request whose link broke under it is resent, answered, or failed as
 * {@link #afterLinkLost} decides; a send its node refuses for want of quorum moves the connection on.
 * What concerns deliveries of one link (acknowledgements, a transaction's commit) goes to that link
 * only ({@link #callOn}).
 */
final class RequestRouter {
    private static final Logger LOG = LoggerFactory.getLogger(RequestRouter.class);

    /** A request waiting for a link; {@code refusals}: how often its node refused it for want of quorum, since {@code refusedSinceNs}. */
    record Waiting(Request request, Runnable onArrival, CompletableFuture<Response> result, int refusals,
                   long refusedSinceNs) {
    }

    private enum AfterLoss { RESEND, DONE, UNKNOWN }

    private final TernConnection connection;
    private final ClientConfig config;
    private final LinkStates<Waiting> states;
    /** Dup ids of persistent sends resent after their link broke: reported with the failover. */
    private final List<String> inDoubt = new CopyOnWriteArrayList<>();

    RequestRouter(TernConnection connection, ClientConfig config, LinkStates<Waiting> states) {
        this.connection = connection;
        this.config = config;
        this.states = states;
    }

    /**
     * Sends a request and waits for its answer, across a failover if one happens meanwhile (the
     * call timeout counts from the last time a link was up). An ERROR answer is thrown.
     */
    Response call(Request request, Runnable onArrival) throws JMSException {
        connection.checkUsable();
        CompletableFuture<Response> f = request(request, onArrival);
        long gen = states.generation();
        Response r;
        while (true) {
            try {
                r = f.get(config.callTimeoutMs(), TimeUnit.MILLISECONDS);
                break;
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                throw c instanceof JMSException j ? j : JmsErrors.wrap(request.getClass().getSimpleName() + " failed", c);
            } catch (TimeoutException e) {
                LinkStates.Link now = states.link();
                if (now == null || now.gen() != gen) {
                    gen = now == null ? 0 : now.gen(); // a failover ran meanwhile: the request waited for it, not for the server
                    continue;
                }
                throw JmsErrors.wrap(JmsErrors.noAnswer(request, config.uri(now.server()), config.callTimeoutMs()), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw JmsErrors.wrap("interrupted waiting for the server", e);
            }
        }
        if (r instanceof Response.Error error) {
            throw JmsErrors.toJms(error);
        }
        return r;
    }

    /** Sends a request on the current link, or once there is one; the future has the answer. */
    CompletableFuture<Response> request(Request request, Runnable onArrival) {
        CompletableFuture<Response> result = new CompletableFuture<>();
        attempt(new Waiting(request, onArrival, result, 0, 0), null);
        return result;
    }

    /**
     * One try of {@code w}, not on {@code refusedBy}. A send refused for want of quorum moves on to
     * another server, again and again (a partition, or a split the cluster is healing, can leave
     * more than one node without quorum for a while), with a growing pause between moves, until the
     * call timeout since the first refusal has passed; then the refusal is the answer.
     */
    private void attempt(Waiting w, LinkStates.Link refusedBy) {
        LinkStates.Link l;
        try {
            l = states.linkOrPark(w, refusedBy);
        } catch (JMSException closed) {
            JMSException failure = connection.failure();
            w.result().completeExceptionally(failure != null ? failure : closed);
            return;
        }
        if (l == null) {
            return;
        }
        l.transport().request(w.request(), w.onArrival()).whenComplete((r, e) -> {
            long since = w.refusals() == 0 ? System.nanoTime() : w.refusedSinceNs();
            if (e == null && r instanceof Response.Error err && err.code() == ErrorCode.NOT_IN_QUORUM && config.failover()
                    && w.request() instanceof Request.Send && System.nanoTime() - since < config.callTimeoutMs() * 1_000_000L) {
                // The node is in a minority partition: move to another node and send there.
                LOG.info("{} refuses sends ({}); moving to another server", config.uri(l.server()), err.message());
                connection.failoverAgent().leave(l, "", config.uri(l.server()) + " refuses sends: " + err.message(),
                        Math.min(100L << Math.min(w.refusals(), 4), 1000));
                attempt(new Waiting(w.request(), w.onArrival(), w.result(), w.refusals() + 1, since), l);
            } else if (e == null) {
                // An error names the server that said it: with many servers, the application must know which.
                w.result().complete(r instanceof Response.Error err
                        ? new Response.Error(err.code(), config.uri(l.server()) + ": " + err.message()) : r);
            } else if (!(e instanceof LinkLostException)) {
                w.result().completeExceptionally(e);
            } else {
                connection.failoverAgent().linkLost(l.gen(), e);
                switch (afterLinkLost(w.request())) {
                    case RESEND -> attempt(w, null);
                    case DONE -> w.result().complete(Response.OK);
                    default -> w.result().completeExceptionally(new JMSException(w.request().getClass().getSimpleName()
                            + " was in flight when the connection to " + config.uri(l.server())
                            + " broke; its outcome is unknown", "OUTCOME_UNKNOWN"));
                }
            }
        });
    }

    /**
     * A new link is up: the requests that waited for it go on it, except the sends of a transaction
     * the failover carried over ({@code recoveredTransactions}: their sessions sent them with it).
     */
    void resume(List<Waiting> waiting, Set<Integer> recoveredTransactions) {
        for (Waiting w : waiting) {
            if (w.request() instanceof Request.Send send && recoveredTransactions.contains(send.sessionId())) {
                w.result().complete(Response.OK); // sent with the recovered transaction already
            } else {
                attempt(w, null);
            }
        }
    }

    /** The connection closed or failed: what waited for a link fails with {@code e}. */
    static void fail(List<Waiting> waiting, JMSException e) {
        waiting.forEach(w -> w.result().completeExceptionally(e));
    }

    /** The persistent sends resent since the last failover, by duplicate-detection id; cleared by the call. */
    List<String> takeInDoubt() {
        List<String> doubt = List.copyOf(inDoubt);
        inDoubt.removeAll(doubt);
        return doubt;
    }

    /**
     * What becomes of a request whose link broke before its answer came. Creations are resent on the
     * new link. A persistent send outside a transaction is resent with its duplicate-detection id.
     * A non-persistent send is dropped, as at-most-once allows. A transacted send, and the
     * acknowledgements, recoveries and closes, concern state the old server kept for this connection
     * and drops with it: they are done. Only a commit's outcome is unknown.
     */
    private AfterLoss afterLinkLost(Request r) {
        if (r instanceof Request.Send s) {
            TernSession session = connection.session(s.sessionId());
            if (s.message().persistent() && (session == null || session.mode() != Session.SESSION_TRANSACTED)) {
                Object dupId = s.message().properties().get(io.tern.protocol.WireMessage.DUPLICATE_ID);
                inDoubt.add(String.valueOf(dupId));
                return AfterLoss.RESEND;
            }
            return AfterLoss.DONE;
        }
        if (r instanceof Request.Commit) {
            return AfterLoss.UNKNOWN;
        }
        if (r instanceof Request.CreateSession || r instanceof Request.CreateConsumer || r instanceof Request.Browse
                || r instanceof Request.CreateTemp || r instanceof Request.Unsubscribe || r instanceof Request.SetClientId) {
            return AfterLoss.RESEND;
        }
        return AfterLoss.DONE;
    }

    /** Sends without an answer; the server reports a failure with an ERROR frame, which is logged. */
    void fireAndForget(Request request) {
        LinkStates.Link l = states.link();
        if (l != null) {
            l.transport().send(request);
        }
    }

    /**
     * Sends what concerns deliveries that came on the link of generation {@code gen} (acknowledgements,
     * recoveries, a transaction's commit) to that link, if it is still open: no other server knows
     * those deliveries. Returns the answer, or null when the link is gone (its server takes the
     * deliveries back, and drops the transaction). A commit lost in flight has an unknown outcome.
     */
    Response callOn(long gen, Request request) throws JMSException {
        LinkStates.Link l = states.linkOf(gen);
        if (l == null) {
            LOG.debug("{} not sent: the link it concerns is gone, and its server takes the deliveries back", request);
            return null;
        }
        try {
            return l.transport().call(request, config.callTimeoutMs());
        } catch (JMSException e) {
            if (!(e.getCause() instanceof LinkLostException || e instanceof LinkLostException)) {
                throw e;
            }
            if (request instanceof Request.Commit) {
                throw new JMSException("the connection to " + config.uri(l.server()) + " broke during commit; "
                        + "the transaction's outcome is unknown", "OUTCOME_UNKNOWN");
            }
            return null;
        }
    }

    /** As {@link #callOn} for a one-way request. */
    void sendOn(long gen, Request request) {
        LinkStates.Link l = states.linkOf(gen);
        if (l != null) {
            l.transport().send(request);
        }
    }
}
