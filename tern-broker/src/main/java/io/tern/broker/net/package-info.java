/**
 * The Netty acceptor of a node. Event loops here only move bytes: the handshake, frame decoding and
 * encoding, and handing each decoded request to its {@link io.tern.broker.ServerConnection}. A
 * protocol violation gets an ERROR frame with its code and the connection is closed; the server
 * and its other clients carry on. On a TLS port ({@code terns://}) the {@link io.tern.broker.net.TlsPortHandler}
 * comes first: it hands a TLS client to Netty's {@code SslHandler} and tells a plaintext one to use
 * {@code terns://}; a plaintext port tells a TLS client, through its TLS layer, that it is plaintext.
 */
package io.tern.broker.net;
