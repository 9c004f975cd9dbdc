/**
 * Benchmarks. {@link io.tern.bench.CompareBench} runs the same Jakarta Messaging workloads against an
 * embedded Tern node and an embedded Apache ActiveMQ Artemis broker in one JVM and prints the ratio.
 * Nothing here is a test: figures are printed, never asserted.
 */
package io.tern.bench;
