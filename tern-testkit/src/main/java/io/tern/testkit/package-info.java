/**
 * What the system tests and benchmarks drive a broker with, from the outside: {@link io.tern.testkit.RawClient}
 * (raw bytes to a server, for bad-input tests), {@link io.tern.testkit.TcpProxy} and
 * {@link io.tern.testkit.TestNetwork} (faults between nodes), {@link io.tern.testkit.SettlingReceiver} and
 * {@link io.tern.testkit.CheckedDrain} (consumers that record what they settled) and
 * {@link io.tern.testkit.TotalQueueChecker} (nothing lost, nothing twice). It depends on the client
 * only; nodes come from {@code tern-server} ({@code ServerProcess} as users run them,
 * {@code EmbeddedTern} in the JVM), free ports from {@link io.tern.discovery.FreePorts}.
 */
package io.tern.testkit;
