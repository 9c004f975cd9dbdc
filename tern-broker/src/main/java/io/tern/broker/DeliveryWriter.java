package io.tern.broker;

import io.tern.broker.store.StoreBatch;
import io.tern.protocol.Deliver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Writes one queue's deliveries to their connections, in dispatch order. With a replicated store,
 * the backups learn first which stored messages went out to which session, so that a node taking this
 * one over keeps them for those sessions; the deliveries are written once the backups have it. Used
 * on the queue's executor.
 */
final class DeliveryWriter {
    private static final Logger LOG = LoggerFactory.getLogger(DeliveryWriter.class);

    /** A delivery dispatched to a session, to be written. */
    record Outgoing(ServerSession session, QueueEntry entry, Deliver frame) {
    }

    private final Broker broker;
    private final String queue;
    /** Gives back, on the queue's executor, a delivery to a link that was never written. */
    private final Consumer<QueueEntry> notWritten;
    /** Completes when every delivery made so far is written: later ones wait for it, so order holds. */
    private CompletableFuture<Void> written = CompletableFuture.completedFuture(null);

    DeliveryWriter(Broker broker, String queue, Consumer<QueueEntry> notWritten) {
        this.broker = broker;
        this.queue = queue;
        this.notWritten = notWritten;
    }

    /**
     * Completes once every delivery dispatched so far is written to its connection. A delivery is
     * recorded as out with its session when it is dispatched, but with a replicated store its frame is
     * written only after the backups confirm its delivery mark: whoever gives a session's deliveries
     * back to the queue must wait for this first, or the frame of a delivery already given back could
     * reach the client after the answer that told it to drop what it buffered.
     */
    CompletableFuture<Void> writesSoFar() {
        return written.handle((ok, failure) -> null);
    }

    void write(List<Outgoing> out) {
        if (out.isEmpty()) {
            return;
        }
        StoreBatch marks = marks(out);
        if (marks == null && written.isDone()) {
            writeNow(out);
        } else if (marks == null) {
            written = written.handle((ok, failure) -> {
                writeNow(out);
                return null;
            });
        } else {
            CompletableFuture<Void> marked = broker.markDelivered(marks);
            written = writesSoFar().thenCombine(marked.handle((ok, failure) -> failure), (ignored, failure) -> {
                if (failure == null) {
                    writeNow(out);
                } else {
                    notMarked(out, failure);
                }
                return null;
            });
        }
    }

    /** The delivery marks the backups must have before {@code out} is written; null if none. */
    private StoreBatch marks(List<Outgoing> out) {
        if (!broker.tracksDeliveries()) {
            return null;
        }
        StoreBatch marks = null;
        for (Outgoing o : out) {
            String owner = o.session().owner();
            if (o.entry().durable && owner != null) {
                marks = marks == null ? new StoreBatch() : marks;
                marks.add(new StoreBatch.MarkDelivered(queue, o.entry().sequence, owner));
            }
        }
        return marks;
    }

    /**
     * The backups did not confirm which session these deliveries go to (the node lost the quorum,
     * was taken over, or a replication send failed): a node taking this one over would not keep them
     * for those sessions, so they are not written. Their connections close; the clients fail over and
     * the messages go back to this queue (or are the taker's now).
     */
    private void notMarked(List<Outgoing> out, Throwable failure) {
        Set<ServerConnection> touched = new HashSet<>();
        for (Outgoing o : out) {
            touched.add(o.session().connection);
            if (o.session().connection.isLink() && o.session().unacked.remove(o.frame().deliveryId()) != null) {
                // Never written to the link: not in doubt, it is simply still here.
                notWritten.accept(o.entry());
            }
        }
        LOG.warn("{} delivery(ies) not made, their delivery marks were not replicated ({}); closing {} client connection(s)",
                out.size(), failure.getMessage(), touched.size());
        touched.forEach(ServerConnection::closeNow);
    }

    private static void writeNow(List<Outgoing> out) {
        Set<ServerConnection> touched = new HashSet<>();
        for (Outgoing o : out) {
            o.session().connection.writeDelivery(o.frame(), o.entry().size);
            touched.add(o.session().connection);
        }
        touched.forEach(ServerConnection::flush);
    }
}
