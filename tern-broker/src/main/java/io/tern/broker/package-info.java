/**
 * One Tern node. {@link io.tern.broker.Broker} owns the destinations and the store; each
 * {@link io.tern.broker.MessageQueue} is served by its own {@link io.tern.broker.SerialExecutor}, so
 * queue state is only touched by one thread at a time and needs no locks; each client connection
 * ({@link io.tern.broker.ServerConnection}) handles its requests in order on its own serial executor.
 * The Netty acceptor lives in {@code io.tern.broker.net} and only moves frames.
 */
package io.tern.broker;
