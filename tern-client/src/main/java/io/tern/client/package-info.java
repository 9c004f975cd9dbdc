/**
 * Tern's Jakarta Messaging provider, the public part: {@link io.tern.client.TernConnectionFactory}
 * (also reachable through JNDI with {@link io.tern.client.jndi.TernInitialContextFactory}) and the
 * destination classes. Everything else is in {@code io.tern.client.impl} and is not API.
 */
package io.tern.client;
