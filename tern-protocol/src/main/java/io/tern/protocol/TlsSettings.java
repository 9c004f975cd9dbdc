package io.tern.protocol;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Locale;

/**
 * Where one side of a TLS connection finds its key material and whom it trusts, validated once; files
 * are read when a context is made ({@link #serverContext()}, {@link #clientContext()}), and a file that
 * cannot be read fails there with its name and the reason.
 *
 * <p>Key material is either a PEM certificate chain with its PEM PKCS#8 private key ({@code key} set),
 * or a PKCS#12 file ({@code .p12}/{@code .pfx}, {@code key} null) holding both. Trust is a PEM file of
 * CA certificates or a PKCS#12 trust store; null trusts what the JVM trusts (its {@code cacerts}, or
 * {@code javax.net.ssl.trustStore}). Only TLS 1.3 and 1.2 are spoken, with the JDK's provider.
 *
 * @param cert         the certificate chain (PEM) or key store (PKCS#12); null: none (a client without a certificate)
 * @param key          the private key (PEM, PKCS#8) beside a PEM {@code cert}; null with a PKCS#12 store
 * @param keyPassword  of an encrypted key or of the PKCS#12 store; null if none
 * @param trust        CA certificates (PEM) or a PKCS#12 trust store; null: the JVM's
 * @param trustPassword of a PKCS#12 trust store; null if none
 * @param clientAuth   on a server: whether clients must present a certificate ({@code NONE}, {@code OPTIONAL},
 *                     {@code REQUIRE}); ignored on a client
 */
public record TlsSettings(Path cert, Path key, char[] keyPassword, Path trust, char[] trustPassword,
                          ClientAuth clientAuth) {
    /** The protocols Tern speaks; anything older is refused in the handshake. */
    public static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    public TlsSettings {
        if (key != null && cert == null) {
            throw new IllegalArgumentException("a TLS private key needs its certificate chain beside it");
        }
        if (cert != null && key == null && !isKeyStore(cert)) {
            throw new IllegalArgumentException("TLS certificate " + cert + " is PEM (not .p12 or .pfx): give its private key too");
        }
        if (key != null && isKeyStore(cert)) {
            throw new IllegalArgumentException("TLS key store " + cert + " holds its own key: give no separate key file");
        }
        clientAuth = clientAuth == null ? ClientAuth.NONE : clientAuth;
    }

    /** A client's settings: whom it trusts, and no certificate of its own. */
    public static TlsSettings trusting(Path trust, char[] trustPassword) {
        return new TlsSettings(null, null, null, trust, trustPassword, ClientAuth.NONE);
    }

    /** The context a server's listener uses; it needs key material. */
    public SslContext serverContext() {
        if (cert == null) {
            throw new IllegalArgumentException("a TLS server needs a certificate and key (PEM) or a PKCS#12 key store");
        }
        SslContextBuilder b = key != null
                ? SslContextBuilder.forServer(file(cert, "certificate").toFile(), file(key, "private key").toFile(), password(keyPassword))
                : SslContextBuilder.forServer(keyManagers());
        if (clientAuth != ClientAuth.NONE || trust != null) {
            trustInto(b);
        }
        return build(b.clientAuth(clientAuth), "server");
    }

    /** The context a client uses; it checks the server's certificate and host name. */
    public SslContext clientContext() {
        SslContextBuilder b = SslContextBuilder.forClient().endpointIdentificationAlgorithm("HTTPS");
        if (cert != null) {
            if (key != null) {
                b.keyManager(file(cert, "certificate").toFile(), file(key, "private key").toFile(), password(keyPassword));
            } else {
                b.keyManager(keyManagers());
            }
        }
        if (trust != null) {
            trustInto(b);
        }
        return build(b, "client");
    }

    /**
     * The JDK's {@code SSLContext} of this side (for the JDK's HTTP server and client, which the web
     * console and {@code tern status} use): {@code server} with the key material and no client
     * certificates asked, else a client that trusts {@code trust}.
     */
    public javax.net.ssl.SSLContext jdkContext(boolean server) {
        SslContext c = server ? new TlsSettings(cert, key, keyPassword, null, null, ClientAuth.NONE).serverContext()
                : clientContext();
        return ((io.netty.handler.ssl.JdkSslContext) c).context();
    }

    /**
     * Whom a node trusts for its peers' consoles: the trust it was given, else its own PEM chain (peers'
     * certificates from the same CA verify against the CA in it); null: the JVM's trust.
     */
    public TlsSettings peerTrust() {
        Path anchors = trust != null ? trust : key != null ? cert : null;
        return trusting(anchors, anchors == trust ? trustPassword : null);
    }

    private void trustInto(SslContextBuilder b) {
        if (trust == null) {
            return; // the JVM's default trust
        }
        if (isKeyStore(trust)) {
            try {
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(load(trust, trustPassword, "trust store"));
                b.trustManager(tmf);
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException("cannot use TLS trust store " + trust + ": " + e.getMessage(), e);
            }
        } else {
            b.trustManager(file(trust, "trusted CA certificates").toFile());
        }
    }

    private KeyManagerFactory keyManagers() {
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(load(cert, keyPassword, "key store"), keyPassword == null ? new char[0] : keyPassword);
            return kmf;
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot use TLS key store " + cert + ": " + e.getMessage(), e);
        }
    }

    private static KeyStore load(Path path, char[] password, String what) {
        try (InputStream in = Files.newInputStream(file(path, what))) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, password);
            return ks;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read TLS " + what + " " + path + ": " + reason(e), e);
        }
    }

    private static SslContext build(SslContextBuilder b, String side) {
        try {
            return b.sslProvider(SslProvider.JDK).protocols(PROTOCOLS).build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot set up TLS for the " + side + ": " + reason(e), e);
        }
    }

    private static Path file(Path path, String what) {
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            throw new IllegalArgumentException("TLS " + what + " " + path + " is not a readable file");
        }
        return path;
    }

    private static String password(char[] p) {
        return p == null ? null : new String(p);
    }

    private static String reason(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + t.getMessage() + ")";
    }

    static boolean isKeyStore(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".p12") || n.endsWith(".pfx");
    }

    @Override
    public String toString() {
        return "TlsSettings[cert=" + cert + ", key=" + key + ", trust=" + trust + ", clientAuth=" + clientAuth + "]";
    }
}
