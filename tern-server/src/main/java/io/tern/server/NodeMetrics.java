package io.tern.server;

import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tern.broker.Broker;
import io.tern.broker.BrokerMetrics;

/**
 * The meters of a server node, for {@code GET /metrics} on its console: the JVM's and the process's
 * (Micrometer's binders), the broker's ({@link BrokerMetrics}) and, once it has joined, the
 * cluster's ({@link io.tern.cluster.ClusterMetrics}); every one tagged with the node's name.
 */
final class NodeMetrics implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final BrokerMetrics broker;
    private final JvmGcMetrics gc = new JvmGcMetrics();

    NodeMetrics(Broker broker, String nodeName) {
        registry.config().commonTags("node", nodeName);
        for (MeterBinder b : new MeterBinder[] {new JvmMemoryMetrics(), gc, new JvmThreadMetrics(), new ClassLoaderMetrics(),
                new ProcessorMetrics(), new UptimeMetrics(), new FileDescriptorMetrics()}) {
            b.bindTo(registry);
        }
        this.broker = new BrokerMetrics(broker);
        this.broker.bindTo(registry);
    }

    void bind(MeterBinder binder) {
        binder.bindTo(registry);
    }

    /** The meters now, in Prometheus' text format. */
    String scrape() {
        broker.refresh();
        return registry.scrape();
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
