package io.tern.broker;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.LongSupplier;

/**
 * What a node tells its operators: its {@link NodeView} (queues, connections, refusals), what passed
 * through it ({@link Traffic}) and what it saw happen ({@link ClusterEvents}). The console, the
 * metrics and {@code tern status} read it; the broker and the cluster only count into it.
 */
final class NodeReport {
    private final Broker broker;
    private final Traffic traffic = new Traffic();
    private final ClusterEvents events = new ClusterEvents(System::currentTimeMillis);
    /** Counters of refusals kept outside the broker (the acceptor's handshakes, discovery's packets). */
    private final Map<String, LongSupplier> refusalCounters = new ConcurrentSkipListMap<>();

    NodeReport(Broker broker) {
        this.broker = broker;
    }

    Traffic traffic() {
        return traffic;
    }

    ClusterEvents events() {
        return events;
    }

    void countRefusals(String name, LongSupplier count) {
        refusalCounters.put(name, count);
    }

    /** Each queue's part is read on its own executor, so each is exact for its queue; the whole is not one snapshot. */
    NodeView view() {
        List<NodeView.QueueView> qs = new ArrayList<>();
        for (MessageQueue q : broker.destinations().all()) {
            qs.add(q.executor().call(q::view).join());
        }
        qs.sort(Comparator.comparing(NodeView.QueueView::name));
        List<NodeView.ConnectionView> cs = broker.connections().all().stream().map(ServerConnection::view)
                .sorted(Comparator.comparingLong(NodeView.ConnectionView::id)).toList();
        Map<String, Long> refused = new LinkedHashMap<>();
        refused.put("failedLogins", broker.config().accessControl().failedLogins());
        refused.put("withoutPermission", broker.config().accessControl().refusals());
        refusalCounters.forEach((name, count) -> refused.put(name, count.getAsLong()));
        return new NodeView(broker.config().name(), broker.nodeId(), broker.state(), broker.holds().count(),
                broker.memoryUsed(), qs, cs, refused, traffic.messagesIn(), traffic.messagesOut());
    }
}
