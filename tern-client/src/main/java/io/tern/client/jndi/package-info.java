/**
 * JNDI for Tern clients, following the conventions of the other Java brokers:
 * {@code java.naming.factory.initial=io.tern.client.jndi.TernInitialContextFactory},
 * {@code java.naming.provider.url=tern://...}; names {@code ConnectionFactory},
 * {@code queue.<jndi>=<name>}, {@code topic.<jndi>=<name>}, {@code connectionFactory.<jndi>=<url>},
 * and {@code dynamicQueues/<name>}, {@code dynamicTopics/<name>}.
 */
package io.tern.client.jndi;
