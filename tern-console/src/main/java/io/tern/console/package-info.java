/**
 * The web console of a node: {@link io.tern.console.Console} serves the page, the JSON API, the
 * health probes, the event stream and the metrics, checks each request's credentials and
 * permission, and drains this node; {@link io.tern.console.ConsolePeers} asks the other members'
 * consoles for their views (the cluster page) and forwards a drain to the member it names.
 * The page itself is {@code index.html}, a resource of this module.
 */
package io.tern.console;
