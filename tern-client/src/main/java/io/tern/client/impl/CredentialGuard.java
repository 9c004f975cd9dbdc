package io.tern.client.impl;

import io.tern.protocol.ClusterTopology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Decides whether a connection may hand its user and password to a server. With TLS every server proves
 * itself with its certificate, and a connection without credentials risks nothing. Otherwise the
 * password goes only to the servers the application named in its URL, to servers in a cluster list
 * that came over authenticated channels (a cluster with a secret: encrypted membership, signed
 * discovery), and to servers found by multicast only when the client checks signatures itself (it has
 * the cluster secret). A forged discovery packet or a list built from one cannot lure it elsewhere.
 */
final class CredentialGuard {
    private static final Logger LOG = LoggerFactory.getLogger(CredentialGuard.class);

    private final ClientConfig config;
    private final Supplier<ClusterTopology> topology;
    private final Set<ClientUrl.HostPort> warned = ConcurrentHashMap.newKeySet();

    CredentialGuard(ClientConfig config, Supplier<ClusterTopology> topology) {
        this.config = config;
        this.topology = topology;
    }

    /** Whether a password could be given away: no TLS, and the connection has credentials. */
    boolean atRisk() {
        return config.tls() == null && (config.user() != null || config.password() != null);
    }

    /** Whether {@code server}, learned from a server (a cluster list, a redirect, a notice), may have the password. */
    boolean mayTell(ClientUrl.HostPort server) {
        if (!atRisk() || config.url().servers().contains(server) && !config.url().isMulticast()) {
            return true;
        }
        ClusterTopology t = topology.get();
        if (t != null && t.authenticated()) {
            return true;
        }
        if (warned.add(server)) {
            LOG.warn("Not sending this connection's password to {}: it came in a cluster list that nobody signed (the "
                    + "cluster has no secret) and the connection does not use TLS (terns://)", config.uri(server));
        }
        return false;
    }

    /** For a failover's error: the servers skipped for the password's sake, and what would let the client use them. */
    String skipped() {
        if (warned.isEmpty()) {
            return "";
        }
        return "; skipped, not to send the password over an unsigned cluster list: " + warned.stream().map(config::uri)
                .sorted().toList() + " (name them in the URL, give the cluster a secret, or use terns://)";
    }

    /** Refuses a multicast search whose answer could not be checked while a password would follow it. */
    void checkMulticast() throws jakarta.jms.JMSException {
        if (atRisk() && !MulticastLocator.checksSignatures(config.url())) {
            throw new jakarta.jms.JMSSecurityException("this connection would send its password to a server found by unsigned "
                    + "multicast discovery: give the cluster secret (URL option secret=, or env TERN_CLUSTER_SECRET) or use TLS "
                    + "(schemes=terns)", io.tern.protocol.ErrorCode.NOT_AUTHORIZED.name());
        }
    }
}
