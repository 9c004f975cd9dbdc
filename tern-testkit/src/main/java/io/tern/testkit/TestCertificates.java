package io.tern.testkit;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A certificate authority of a test, in a directory of its own: it issues server and client
 * certificates (EC P-256) as PEM files and PKCS#12 stores, valid now or expired, so that TLS tests run
 * on a fresh machine without fixtures that age.
 */
public final class TestCertificates {
    /** The password of every PKCS#12 store this class writes. */
    public static final String STORE_PASSWORD = "changeit";
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    /** One issued certificate and where its files are. */
    public record Issued(String name, Path certPem, Path keyPem, Path p12, X509Certificate certificate) {
    }

    private final Path dir;
    private final String name;
    private final KeyPair caKeys;
    private final X509Certificate ca;
    private final Path caPem;

    private TestCertificates(Path dir, String name) {
        this.dir = dir;
        this.name = name;
        try {
            Files.createDirectories(dir);
            caKeys = keys();
            X500Name subject = new X500Name("CN=" + name);
            Instant now = Instant.now();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))), subject, caKeys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            ca = sign(b, caKeys);
            caPem = dir.resolve(name + "-ca.pem");
            writePem(caPem, "CERTIFICATE", ca.getEncoded());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot create the test CA", e);
        }
    }

    /** A new CA named {@code name}, writing its files under {@code dir}. */
    public static TestCertificates authority(Path dir, String name) {
        return new TestCertificates(dir, name);
    }

    /** The CA's certificate (PEM): what a peer trusts. */
    public Path caPem() {
        return caPem;
    }

    /** The CA's certificate in a PKCS#12 trust store, password {@value #STORE_PASSWORD}. */
    public Path caP12() {
        Path p = dir.resolve(name + "-ca.p12");
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setCertificateEntry("ca", ca);
            try (OutputStream out = Files.newOutputStream(p)) {
                ks.store(out, STORE_PASSWORD.toCharArray());
            }
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A server certificate for 127.0.0.1 and localhost, valid now. */
    public Issued server(String cn) {
        return issue(cn, List.of("127.0.0.1", "localhost"), Instant.now().minus(Duration.ofHours(1)), Duration.ofDays(1));
    }

    /** A client certificate whose common name is {@code user}, valid now. */
    public Issued client(String user) {
        return issue(user, List.of(), Instant.now().minus(Duration.ofHours(1)), Duration.ofDays(1));
    }

    /** A certificate for 127.0.0.1 and localhost named {@code cn} that expired an hour ago. */
    public Issued expired(String cn) {
        return issue(cn, List.of("127.0.0.1", "localhost"), Instant.now().minus(Duration.ofDays(2)), Duration.ofDays(1).plusHours(23));
    }

    /** A certificate named {@code cn}, for the given IP addresses and host names, valid from {@code from} for {@code validity}. */
    public Issued issue(String cn, List<String> hosts, Instant from, Duration validity) {
        try {
            KeyPair keys = keys();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca, serial(), Date.from(from),
                    Date.from(from.plus(validity)), new X500Name("CN=" + cn + ",O=Tern tests"), keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
            if (!hosts.isEmpty()) {
                List<GeneralName> names = new ArrayList<>();
                for (String h : hosts) {
                    names.add(new GeneralName(Character.isDigit(h.charAt(0)) || h.contains(":")
                            ? GeneralName.iPAddress : GeneralName.dNSName, h));
                }
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(new GeneralName[0])));
            }
            X509Certificate cert = sign(b, caKeys);
            String file = cn.replaceAll("[^A-Za-z0-9_.-]", "_") + "-" + cert.getSerialNumber();
            Path certPem = dir.resolve(file + ".pem");
            Path keyPem = dir.resolve(file + "-key.pem");
            Path p12 = dir.resolve(file + ".p12");
            Files.writeString(certPem, pem("CERTIFICATE", cert.getEncoded()) + pem("CERTIFICATE", ca.getEncoded()),
                    StandardCharsets.US_ASCII);
            writePem(keyPem, "PRIVATE KEY", keys.getPrivate().getEncoded());
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry(cn, keys.getPrivate(), STORE_PASSWORD.toCharArray(), new Certificate[]{cert, ca});
            try (OutputStream out = Files.newOutputStream(p12)) {
                ks.store(out, STORE_PASSWORD.toCharArray());
            }
            return new Issued(cn, certPem, keyPem, p12, cert);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot issue a test certificate for " + cn, e);
        }
    }

    private static KeyPair keys() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIAL.incrementAndGet());
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair signer) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
        } catch (org.bouncycastle.operator.OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static void writePem(Path path, String type, byte[] der) throws IOException {
        Files.writeString(path, pem(type, der), StandardCharsets.US_ASCII);
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[]{'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
