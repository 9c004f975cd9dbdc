package io.tern.broker;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * The meters of one node: messages and bytes in and out, per node and per queue; each queue's depth,
 * messages in flight and paged, consumers and moves; memory against its limit; connections,
 * consumers and failovers served; refusals by reason; duplicates dropped; the store's own figures.
 *
 * <p>Named queues and durable subscriptions have meters of their own; temporary queues and
 * non-durable subscriptions, made and named per connection, count in the node's totals only.
 * Queues come and go, and their figures are read on their own executors: {@link #refresh()},
 * called before each scrape, takes one {@link NodeView} and adds the meters of new queues (and
 * removes those of queues gone), and every queue meter reads that view. Node counters read
 * {@link Traffic}, which is exact at any moment.
 */
public final class BrokerMetrics implements MeterBinder {
    private final Broker broker;
    private MeterRegistry registry;
    private volatile NodeView view;
    private volatile Map<String, NodeView.QueueView> queues = Map.of();
    private final Map<String, List<Meter>> queueMeters = new HashMap<>();
    private final Set<String> namedFigures = new HashSet<>();
    /**
     * Kinds of queue that live as long as a connection, under generated names: a meter each would
     * grow the scrape without bound (they count in the node's totals).
     */
    private static final Set<String> PER_CONNECTION = Set.of("temporary", "subscription");

    public BrokerMetrics(Broker broker) {
        this.broker = broker;
    }

    @Override
    public synchronized void bindTo(MeterRegistry r) {
        registry = r;
        Traffic t = broker.traffic();
        counter("tern.messages.in", "Messages placed in this node's queues (sent, moved in, taken over)", t, Traffic::messagesIn);
        counter("tern.messages.out", "Messages acknowledged out of this node's queues", t, Traffic::messagesOut);
        FunctionCounter.builder("tern.messages.in.bytes", t, x -> x.bytesIn()).baseUnit("bytes")
                .description("Memory cost of the messages placed in this node's queues").register(r);
        FunctionCounter.builder("tern.messages.out.bytes", t, x -> x.bytesOut()).baseUnit("bytes")
                .description("Memory cost of the messages acknowledged out of this node's queues").register(r);
        counter("tern.failovers.served", "Client connections that came here failing over from another node", t,
                Traffic::failoversServed);
        counter("tern.duplicates.dropped", "Sends dropped as duplicates of one already stored", broker,
                Broker::duplicatesDropped);
        Gauge.builder("tern.memory.used", broker, b -> b.memoryUsed()).baseUnit("bytes")
                .description("Bytes the memory limit counts: queued messages in memory and the replicas of other nodes").register(r);
        Gauge.builder("tern.memory.replicas", broker, b -> b.replicaMemory()).baseUnit("bytes")
                .description("Bytes of the replicas of the nodes this node backs up (counted in tern.memory.used)").register(r);
        Gauge.builder("tern.memory.limit", broker, b -> b.config().memoryLimitBytes()).baseUnit("bytes")
                .description("--memory-limit: past it producers wait or are refused").register(r);
        nodeGauge("tern.connections", "Client connections", v -> v.connections().stream().filter(c -> !c.admin()).count());
        nodeGauge("tern.consumers", "Consumers of client connections", v -> v.connections().stream()
                .mapToInt(NodeView.ConnectionView::consumers).sum());
        nodeGauge("tern.queues", "Queues, temporary queues and subscriptions on this node", v -> v.queues().size());
        nodeGauge("tern.held.for.recovery", "Messages taken over and kept for the sessions that had them", NodeView::heldForRecovery);
        for (NodeState s : NodeState.values()) {
            String state = s.label();
            Gauge.builder("tern.node.state", this, m -> m.view != null && state.equals(m.view.state()) ? 1 : 0)
                    .tags("state", state).description("1 for the node's state now, 0 for the others").register(r);
        }
        refreshLocked();
    }

    private <T> void counter(String name, String description, T source, ToDoubleFunction<T> value) {
        FunctionCounter.builder(name, source, value).description(description).register(registry);
    }

    private void nodeGauge(String name, String description, ToDoubleFunction<NodeView> value) {
        Gauge.builder(name, this, m -> m.view == null ? Double.NaN : value.applyAsDouble(m.view))
                .description(description).register(registry);
    }

    /** Reads the node once for the meters, adding those of new queues and refusal reasons, removing those of queues gone. */
    public synchronized void refresh() {
        if (registry != null) {
            refreshLocked();
        }
    }

    private void refreshLocked() {
        NodeView v = broker.view();
        Map<String, NodeView.QueueView> byName = new HashMap<>();
        v.queues().forEach(q -> byName.put(q.name(), q));
        view = v;
        queues = byName;
        Set<String> metered = new HashSet<>();
        for (NodeView.QueueView q : v.queues()) {
            if (!PER_CONNECTION.contains(q.kind())) {
                metered.add(q.name() + "\0" + q.kind());
            }
        }
        for (String gone : new ArrayList<>(queueMeters.keySet())) {
            if (!metered.contains(gone)) {
                queueMeters.remove(gone).forEach(registry::remove);
            }
        }
        for (NodeView.QueueView q : v.queues()) {
            if (!PER_CONNECTION.contains(q.kind())) {
                queueMeters.computeIfAbsent(q.name() + "\0" + q.kind(), key -> queueMeters(q));
            }
        }
        v.refusals().keySet().forEach(reason -> {
            if (namedFigures.add("refusal:" + reason)) {
                FunctionCounter.builder("tern.refusals", this, m -> m.view.refusals().getOrDefault(reason, 0L))
                        .tags("reason", reason).description("What this node refused, by reason").register(registry);
            }
        });
        broker.storeFigures().keySet().forEach(figure -> {
            if (namedFigures.add("store:" + figure)) {
                Gauge.builder("tern.store." + figure, broker, b -> b.storeFigures().getOrDefault(figure, 0L))
                        .description("The store's " + figure.replace('_', ' ') + " (RocksDB)").register(registry);
            }
        });
    }

    private List<Meter> queueMeters(NodeView.QueueView first) {
        String name = first.name();
        Tags tags = Tags.of("queue", name, "kind", first.kind());
        List<Meter> meters = new ArrayList<>();
        meters.add(queueCounter("tern.queue.messages.in", "Messages placed in this node's part of the queue", tags, name,
                NodeView.QueueView::messagesIn));
        meters.add(queueCounter("tern.queue.messages.out", "Messages acknowledged out of this node's part of the queue", tags,
                name, NodeView.QueueView::messagesOut));
        meters.add(queueCounter("tern.queue.moved.in", "Messages other nodes moved here for this node's consumers", tags, name,
                NodeView.QueueView::movedIn));
        meters.add(queueCounter("tern.queue.moved.out", "Deliveries to other nodes' cluster links", tags, name,
                NodeView.QueueView::movedOut));
        meters.add(queueGauge("tern.queue.depth", "Messages in this node's part of the queue (ready, in flight, scheduled, paged)",
                tags, name, NodeView.QueueView::messages));
        meters.add(queueGauge("tern.queue.in.flight", "Messages delivered and not yet acknowledged", tags, name,
                NodeView.QueueView::inFlight));
        meters.add(queueGauge("tern.queue.paged", "Messages of the queue kept in the store only", tags, name,
                NodeView.QueueView::paged));
        meters.add(queueGauge("tern.queue.consumers", "Consumers of this node's clients", tags, name,
                NodeView.QueueView::consumers));
        return meters;
    }

    private Meter queueCounter(String meter, String description, Tags tags, String queue, ToDoubleFunction<NodeView.QueueView> value) {
        return FunctionCounter.builder(meter, this, m -> m.queueFigure(queue, value)).tags(tags).description(description)
                .register(registry);
    }

    private Meter queueGauge(String meter, String description, Tags tags, String queue, ToDoubleFunction<NodeView.QueueView> value) {
        return Gauge.builder(meter, this, m -> m.queueFigure(queue, value)).tags(tags).description(description)
                .register(registry);
    }

    private double queueFigure(String queue, ToDoubleFunction<NodeView.QueueView> value) {
        NodeView.QueueView q = queues.get(queue);
        return q == null ? Double.NaN : value.applyAsDouble(q);
    }
}
