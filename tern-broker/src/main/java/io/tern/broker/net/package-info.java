/**
 * The Netty acceptor of a node. Event loops here only move bytes: the handshake, frame decoding and
 * encoding, and handing each decoded request to its {@link io.tern.broker.ServerConnection}. A
 * protocol violation gets an ERROR frame with its code and the connection is closed; the server
 * and its other clients carry on.
 */
package io.tern.broker.net;
