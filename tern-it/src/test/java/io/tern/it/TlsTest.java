package io.tern.it;

import io.netty.handler.ssl.ClientAuth;
import io.tern.broker.BrokerConfig;
import io.tern.broker.NodeView;
import io.tern.client.TernConnectionFactory;
import io.tern.protocol.TlsSettings;
import io.tern.server.EmbeddedTern;
import io.tern.testkit.TestCertificates;
import jakarta.jms.JMSContext;
import jakarta.jms.JMSException;
import jakarta.jms.JMSSecurityException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * TLS for clients ({@code terns://}): the server's certificate from PEM files or a PKCS#12 store,
 * checked by the client against its trust and the host name; client certificates name the user; and
 * every refusal (plaintext on the TLS port, TLS on the plaintext port, an untrusted, expired or
 * misnamed certificate, a missing client certificate) is a clear error while the node serves the others.
 */
@Timeout(60)
class TlsTest {
    @TempDir
    static Path certDir;
    private static TestCertificates ca;
    private static TestCertificates otherCa;
    private static TestCertificates.Issued server;

    private final List<EmbeddedTern> nodes = new ArrayList<>();

    @BeforeAll
    static void issue() {
        ca = TestCertificates.authority(certDir.resolve("ca"), "tern-test-ca");
        otherCa = TestCertificates.authority(certDir.resolve("other"), "someone-else");
        server = ca.server("node");
    }

    @AfterEach
    void stop() {
        nodes.forEach(EmbeddedTern::close);
    }

    private EmbeddedTern node(TlsSettings tls, UnaryOperator<BrokerConfig.Builder> more) {
        EmbeddedTern n = EmbeddedTern.start(b -> more.apply(b.tls(tls)));
        nodes.add(n);
        return n;
    }

    private EmbeddedTern pemNode() {
        return node(new TlsSettings(server.certPem(), server.keyPem(), null, null, null, ClientAuth.NONE), b -> b);
    }

    private static TernConnectionFactory factory(EmbeddedTern n, String options) {
        return new TernConnectionFactory(n.url() + "?" + options);
    }

    private static String trusting(Path caFile) {
        return "trust=" + caFile;
    }

    /** A message goes through the node, to show it serves. */
    private static void roundTrip(TernConnectionFactory cf, String queue) {
        try (JMSContext ctx = cf.createContext()) {
            ctx.createProducer().send(ctx.createQueue(queue), "over TLS");
            assertThat(ctx.createConsumer(ctx.createQueue(queue)).receiveBody(String.class, 5000)).isEqualTo("over TLS");
        }
    }

    private static String errorOf(TernConnectionFactory cf) {
        try (JMSContext ignored = cf.createContext()) {
            throw new AssertionError("the connection was accepted");
        } catch (RuntimeException e) {
            return e.getMessage();
        }
    }

    @Test
    void aClientTrustingTheCaSendsAndReceivesOverTls() {
        EmbeddedTern n = pemNode();
        assertThat(n.url()).startsWith("terns://127.0.0.1:");
        roundTrip(factory(n, trusting(ca.caPem())), "tls-pem");
    }

    @Test
    void pkcs12StoresServeAsWellAsPemFiles() {
        EmbeddedTern n = node(new TlsSettings(server.p12(), null, TestCertificates.STORE_PASSWORD.toCharArray(), null, null,
                ClientAuth.NONE), b -> b);
        roundTrip(factory(n, "trust=" + ca.caP12() + "&trustPassword=" + TestCertificates.STORE_PASSWORD), "tls-p12");
    }

    @Test
    void aPlaintextClientOnTheTlsPortIsToldToUseTernsAndOthersAreServed() throws Exception {
        EmbeddedTern n = pemNode();
        String plain = n.url().replace("terns://", "tern://");
        assertThatThrownBy(() -> new TernConnectionFactory(plain).createConnection())
                .isInstanceOf(JMSSecurityException.class)
                .hasMessageContaining("takes only TLS clients: connect with terns://");
        assertThat(n.server().acceptor().stats().refusedHandshakes()).isEqualTo(1);
        assertThat(n.broker().view().refusals()).containsEntry("handshakes", 1L);
        roundTrip(factory(n, trusting(ca.caPem())), "tls-after-plain");
    }

    @Test
    void aTlsClientOnThePlaintextPortIsToldItIsPlaintextAndOthersAreServed() {
        EmbeddedTern plain = EmbeddedTern.start();
        nodes.add(plain);
        String tls = plain.url().replace("tern://", "terns://");
        assertThat(errorOf(new TernConnectionFactory(tls + "?" + trusting(ca.caPem()))))
                .contains("did not answer in TLS: the port is a plaintext one (connect with tern://)");
        await().atMost(Duration.ofSeconds(5)).until(() -> plain.server().acceptor().stats().refusedHandshakes() == 1);
        roundTrip(plain.factory(), "plain-after-tls");
    }

    @Test
    void aServerCertificateFromAnUntrustedCaIsRefused() {
        EmbeddedTern n = pemNode();
        assertThat(errorOf(factory(n, trusting(otherCa.caPem()))))
                .contains("the server's certificate is not trusted");
        // Nor does the JVM's own trust (no trust option) accept a private CA.
        assertThat(errorOf(new TernConnectionFactory(n.url()))).contains("the server's certificate is not trusted");
        roundTrip(factory(n, trusting(ca.caPem())), "tls-after-untrusted");
    }

    @Test
    void aServerCertificateForAnotherHostIsRefused() {
        TestCertificates.Issued elsewhere = ca.issue("elsewhere", List.of("127.0.0.2", "elsewhere.example"),
                Instant.now().minus(Duration.ofHours(1)), Duration.ofDays(1));
        EmbeddedTern n = node(new TlsSettings(elsewhere.certPem(), elsewhere.keyPem(), null, null, null, ClientAuth.NONE), b -> b);
        assertThat(errorOf(factory(n, trusting(ca.caPem())))).contains("the server's certificate is not for host 127.0.0.1");
    }

    @Test
    void anExpiredServerCertificateIsRefused() {
        TestCertificates.Issued expired = ca.expired("old-node");
        EmbeddedTern n = node(new TlsSettings(expired.certPem(), expired.keyPem(), null, null, null, ClientAuth.NONE), b -> b);
        assertThat(errorOf(factory(n, trusting(ca.caPem())))).contains("the server's certificate is not valid now");
    }

    @Test
    void aVerifiedClientCertificateNamesTheUserWithoutAPassword() throws JMSException {
        EmbeddedTern n = node(new TlsSettings(server.certPem(), server.keyPem(), null, ca.caPem(), null, ClientAuth.REQUIRE),
                b -> b.users(Map.of("alice", "secret")));
        TestCertificates.Issued carol = ca.client("carol");
        TernConnectionFactory cf = factory(n, trusting(ca.caPem()) + "&cert=" + carol.certPem() + "&key=" + carol.keyPem());
        try (var c = cf.createConnection()) {
            c.start();
            NodeView.ConnectionView seen = n.broker().view().connections().stream()
                    .filter(v -> "open".equals(v.state())).findFirst().orElseThrow();
            assertThat(seen.user()).isEqualTo("carol");
        }
        roundTrip(cf, "mtls");
        // A HELLO naming another user than the certificate does is refused.
        assertThat(errorOf(factory(n, trusting(ca.caPem()) + "&cert=" + carol.p12() + "&keyPassword="
                + TestCertificates.STORE_PASSWORD + "&user=alice&password=secret")))
                .contains("the client certificate names user 'carol', not 'alice'");
    }

    @Test
    void withClientCertificatesRequiredAClientWithoutOneOrWithABadOneIsRefused() {
        EmbeddedTern n = node(new TlsSettings(server.certPem(), server.keyPem(), null, ca.caPem(), null, ClientAuth.REQUIRE), b -> b);
        assertThatThrownBy(() -> factory(n, trusting(ca.caPem())).createConnection())
                .isInstanceOf(JMSSecurityException.class)
                .hasMessageContaining("TLS handshake with " + n.url() + " failed: the server requires a client certificate");
        TestCertificates.Issued stranger = otherCa.client("mallory");
        assertThat(errorOf(factory(n, trusting(ca.caPem()) + "&cert=" + stranger.certPem() + "&key=" + stranger.keyPem())))
                .contains("TLS handshake with " + n.url() + " failed: the server refused this client's certificate");
        TestCertificates.Issued expired = ca.expired("dave");
        assertThat(errorOf(factory(n, trusting(ca.caPem()) + "&cert=" + expired.certPem() + "&key=" + expired.keyPem())))
                .contains("TLS handshake with " + n.url() + " failed: the server refused this client's certificate");
        TestCertificates.Issued bob = ca.client("bob");
        roundTrip(factory(n, trusting(ca.caPem()) + "&cert=" + bob.certPem() + "&key=" + bob.keyPem()), "mtls-after-refusals");
    }

    @Test
    void tlsOptionsOnAPlaintextUrlAndUnreadableFilesAreClearErrors() {
        EmbeddedTern n = pemNode();
        assertThatThrownBy(() -> new TernConnectionFactory(n.url().replace("terns://", "tern://") + "?trust=" + ca.caPem())
                .createConnection())
                .hasMessageContaining("option trust is for TLS: use terns://");
        assertThatThrownBy(() -> factory(n, "trust=" + certDir.resolve("missing.pem")).createContext())
                .isInstanceOf(jakarta.jms.JMSRuntimeException.class)
                .hasMessageContaining("missing.pem is not a readable file");
        assertThatThrownBy(() -> new TlsSettings(server.certPem(), null, null, null, null, null))
                .hasMessageContaining("give its private key too");
    }

    @Test
    void theConsoleOfATlsNodeServesHttpsWithTheNodesCertificate() throws Exception {
        EmbeddedTern n = pemNode();
        try (io.tern.console.Console console = io.tern.console.Console.start(n.broker(), "127.0.0.1", 0)) {
            assertThat(console.uri()).startsWith("https://127.0.0.1:");
            java.net.URI api = java.net.URI.create(console.uri() + "/api/node");
            java.net.http.HttpClient trusting = java.net.http.HttpClient.newBuilder()
                    .sslContext(TlsSettings.trusting(ca.caPem(), null).jdkContext(false)).build();
            assertThat(trusting.send(java.net.http.HttpRequest.newBuilder(api).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            java.net.http.HttpClient stranger = java.net.http.HttpClient.newBuilder()
                    .sslContext(TlsSettings.trusting(otherCa.caPem(), null).jdkContext(false)).build();
            assertThatThrownBy(() -> stranger.send(java.net.http.HttpRequest.newBuilder(api).build(),
                    java.net.http.HttpResponse.BodyHandlers.discarding())).isInstanceOf(javax.net.ssl.SSLHandshakeException.class);
            java.net.URI plain = java.net.URI.create(console.uri().replace("https://", "http://") + "/api/node");
            assertThatThrownBy(() -> java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(plain)
                    .timeout(Duration.ofSeconds(10)).build(), java.net.http.HttpResponse.BodyHandlers.discarding()))
                    .isInstanceOf(java.io.IOException.class);
        }
    }
}
