/**
 * Multicast discovery (seed 003). Each server multicasts one small packet per service it offers,
 * {@code group:service:uri}; presence means alive, absence for the timeout means gone, and a goodbye
 * packet says so at once on a graceful stop. A client may multicast a query and servers answer
 * immediately. Packets may be signed with a cluster secret. The packet grammar is in
 * {@link io.tern.discovery.DiscoveryPacket}; {@link io.tern.discovery.DiscoveryAgent} does the rest.
 * JDK only: nothing here needs a library.
 */
package io.tern.discovery;
