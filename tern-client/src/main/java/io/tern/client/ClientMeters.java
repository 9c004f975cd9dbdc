package io.tern.client;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tern.client.impl.ClientEvents;

/**
 * A factory's connections counted in the application's {@link MeterRegistry}
 * ({@link TernConnectionFactory#setMeterRegistry}): connections opened and closed, failovers and
 * planned moves started, completed and failed, and persistent sends left in doubt by a failover.
 * Counters only, so that the factories of one application share them.
 */
final class ClientMeters implements ClientEvents {
    private final Counter opened;
    private final Counter closed;
    private final MeterRegistry registry;
    private final Counter inDoubt;

    ClientMeters(MeterRegistry registry) {
        this.registry = registry;
        this.opened = Counter.builder("tern.client.connections.opened").description("Connections opened").register(registry);
        this.closed = Counter.builder("tern.client.connections.closed").description("Connections closed").register(registry);
        this.inDoubt = Counter.builder("tern.client.sends.in.doubt")
                .description("Persistent sends in flight when a server failed, resent to the next (FailoverEvent)").register(registry);
    }

    @Override
    public void opened() {
        opened.increment();
    }

    @Override
    public void closed() {
        closed.increment();
    }

    @Override
    public void failover(FailoverEvent event) {
        Counter.builder("tern.client.failovers").description("Moves between servers: failovers and planned moves, by step")
                .tags("step", event.kind().name().toLowerCase(java.util.Locale.ROOT), "planned", Boolean.toString(event.planned()))
                .register(registry).increment();
        inDoubt.increment(event.inDoubtMessageIds().size());
    }
}
