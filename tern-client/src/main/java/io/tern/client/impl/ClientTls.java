package io.tern.client.impl;

import io.netty.handler.ssl.SslContext;

/**
 * A connection's TLS: the context every link uses, and whether it holds a client certificate (which
 * tells a server's refusal of the certificate apart from a server that wants one).
 */
public record ClientTls(SslContext context, boolean hasCertificate) {
}
