/**
 * What tests of every module need: {@link io.tern.testkit.EmbeddedTern} (a node in this JVM on a free
 * port with its own data directory), {@link io.tern.testkit.Ports}, {@link io.tern.testkit.RawClient}
 * (raw bytes to a server, for bad-input tests) and {@link io.tern.testkit.TotalQueueChecker}.
 */
package io.tern.testkit;
