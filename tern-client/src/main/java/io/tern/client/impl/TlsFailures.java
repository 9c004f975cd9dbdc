package io.tern.client.impl;

import io.netty.handler.ssl.NotSslRecordException;

import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.ArrayList;
import java.util.List;

/**
 * Says in a user's words why a client's TLS handshake failed, from the exception the TLS layer gave:
 * what the client could not accept about the server, or what the server's alert says about the client.
 */
final class TlsFailures {
    private TlsFailures() {
    }

    static String explain(Throwable failure, String host) {
        List<Throwable> chain = chainOf(failure);
        for (Throwable t : chain) {
            if (t instanceof NotSslRecordException) {
                return "the server did not answer in TLS: the port is a plaintext one (connect with tern://)";
            }
        }
        for (Throwable t : chain) {
            if (t instanceof CertificateExpiredException || t instanceof CertificateNotYetValidException) {
                return "the server's certificate is not valid now (" + t.getMessage() + ")";
            }
        }
        for (Throwable t : chain) {
            String m = String.valueOf(t.getMessage());
            if (m.contains("No subject alternative") || m.contains("No name matching")) {
                return "the server's certificate is not for host " + host + " (" + m + ")";
            }
        }
        for (Throwable t : chain) {
            if (t instanceof CertPathBuilderException || t instanceof CertPathValidatorException) {
                return "the server's certificate is not trusted (" + t.getMessage()
                        + "); give the CA that signed it with the URL option trust=FILE";
            }
        }
        return rootMessage(chain, failure);
    }

    /**
     * After the client's side of the handshake (TLS 1.3 checks the client's certificate then): what the
     * server's alert says about this client, which {@code hasCertificate} or not. A JDK client sends its
     * certificate only if it comes from a CA the server names, so a certificate from another CA meets
     * the same alert as none.
     */
    static String refusedByServer(Throwable failure, boolean hasCertificate) {
        List<Throwable> chain = chainOf(failure);
        for (Throwable t : chain) {
            String m = String.valueOf(t.getMessage());
            boolean refused = m.contains("certificate_required") || m.contains("bad_certificate") || m.contains("unknown_ca")
                    || m.contains("certificate_unknown") || m.contains("certificate_expired");
            if (refused && !hasCertificate) {
                return "the server requires a client certificate: give the URL options cert=FILE and key=FILE";
            }
            if (refused) {
                return "the server refused this client's certificate: expired, or not from a CA it trusts (" + m + ")";
            }
        }
        return explain(failure, "");
    }

    private static List<Throwable> chainOf(Throwable failure) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable t = failure; t != null && !chain.contains(t); t = t.getCause()) {
            chain.add(t);
        }
        return chain;
    }

    private static String rootMessage(List<Throwable> chain, Throwable failure) {
        Throwable root = chain.get(chain.size() - 1);
        return root.getMessage() != null ? root.getMessage() : String.valueOf(failure);
    }
}
