/**
 * The composition root: {@link io.tern.server.Main} is {@code bin/tern}; {@link io.tern.server.TernServer}
 * wires store, broker and acceptor from a {@link io.tern.server.ServerOptions}; the demo and the
 * load tools ({@code produce}, {@code consume}) live here because they drive real server processes.
 */
package io.tern.server;
