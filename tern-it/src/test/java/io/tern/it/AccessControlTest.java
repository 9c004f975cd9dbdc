package io.tern.it;

import io.netty.handler.ssl.ClientAuth;
import io.tern.broker.security.AccessControl;
import io.tern.broker.security.PasswordHash;
import io.tern.broker.security.UsersFile;
import io.tern.client.TernAdmin;
import io.tern.client.TernConnectionFactory;
import io.tern.console.Console;
import io.tern.protocol.TlsSettings;
import io.tern.server.EmbeddedTern;
import io.tern.testkit.TestCertificates;
import jakarta.jms.Connection;
import jakarta.jms.JMSContext;
import jakarta.jms.JMSException;
import jakarta.jms.JMSSecurityException;
import jakarta.jms.JMSSecurityRuntimeException;
import jakarta.jms.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Users and roles from files: each operation without its permission is refused with a
 * {@code JMSSecurityException} that names the permission and the destination, counted, while what is
 * granted goes on; a wrong password or an unknown user is refused alike; the console and {@code drain}
 * need {@code manage}.
 */
@Timeout(60)
class AccessControlTest {
    /** Few iterations: the hash is the same kind as production's, only cheaper to check in a test. */
    private static final int ITERATIONS = 10_000;

    @TempDir
    Path dir;
    private EmbeddedTern tern;
    private Console console;

    @BeforeEach
    void start() throws Exception {
        Map<String, UsersFile.User> users = new LinkedHashMap<>();
        users.put("ops", user("ops", "admin"));
        users.put("orders", user("orders", "orders-app"));
        users.put("reader", user("reader", "auditors"));
        users.put("nobody", user("nobody"));
        users.put("carol", new UsersFile.User("carol", Set.of("orders-app"), UsersFile.NO_PASSWORD));
        Path usersFile = dir.resolve("users");
        UsersFile.write(usersFile, users);
        Path permissions = Files.writeString(dir.resolve("permissions"), String.join("\n",
                "# role       permissions              destinations",
                "admin        all",
                "orders-app   send,consume,create      queue:orders.*",
                "orders-app   consume                  topic:prices",
                "auditors     browse                   queue:*",
                "auditors     send                     queue:audit.*",
                ""));
        AccessControl access = AccessControl.fromFiles(usersFile, permissions);
        tern = EmbeddedTern.start(b -> b.accessControl(access));
        console = Console.start(tern.broker(), "127.0.0.1", 0);
    }

    private static UsersFile.User user(String name, String... roles) {
        return new UsersFile.User(name, Set.of(roles), PasswordHash.of((name + "-password").toCharArray(), ITERATIONS));
    }

    @AfterEach
    void stop() {
        console.close();
        tern.close();
    }

    private TernConnectionFactory as(String user) {
        return tern.factory("user=" + user + "&password=" + user + "-password");
    }

    private long refusals() {
        return tern.broker().config().accessControl().refusals();
    }

    @Test
    void aWrongPasswordAndAnUnknownUserAreRefusedAlikeAndCounted() {
        long before = tern.broker().config().accessControl().failedLogins();
        assertThatThrownBy(() -> tern.factory("user=orders&password=wrong").createConnection())
                .isInstanceOf(JMSSecurityException.class).hasMessageContaining("wrong user name or password");
        assertThatThrownBy(() -> tern.factory("user=mallory&password=orders-password").createConnection())
                .isInstanceOf(JMSSecurityException.class).hasMessageContaining("wrong user name or password");
        assertThatThrownBy(() -> tern.factory().createConnection())
                .isInstanceOf(JMSSecurityException.class).hasMessageContaining("wrong user name or password");
        // A certificate-only user cannot log in with any password.
        assertThatThrownBy(() -> tern.factory("user=carol&password=-").createConnection())
                .isInstanceOf(JMSSecurityException.class);
        assertThat(tern.broker().config().accessControl().failedLogins()).isEqualTo(before + 4);
        try (JMSContext ctx = as("orders").createContext()) {
            ctx.createProducer().send(ctx.createQueue("orders.eu"), "still serving");
        }
    }

    @Test
    void eachOperationWithoutItsPermissionIsRefusedNamingItWhileGrantedOnesGoOn() throws JMSException {
        try (Connection c = as("orders").createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            s.createProducer(s.createQueue("orders.eu")).send(s.createTextMessage("granted"));
            assertThat(s.createConsumer(s.createQueue("orders.eu")).receive(5000)).isNotNull();

            long before = refusals();
            assertThatThrownBy(() -> s.createProducer(s.createQueue("payments")).send(s.createTextMessage("no")))
                    .isInstanceOf(JMSSecurityException.class).hasMessageContaining("user 'orders' may not send queue 'payments'");
            assertThatThrownBy(() -> s.createBrowser(s.createQueue("orders.eu")).getEnumeration().hasMoreElements())
                    .hasMessageContaining("user 'orders' may not browse queue 'orders.eu'");
            assertThatThrownBy(() -> s.createConsumer(s.createTopic("alerts")))
                    .isInstanceOf(JMSSecurityException.class).hasMessageContaining("user 'orders' may not consume topic 'alerts'");
            assertThatThrownBy(() -> s.createProducer(s.createTopic("prices")).send(s.createTextMessage("no")))
                    .isInstanceOf(JMSSecurityException.class).hasMessageContaining("user 'orders' may not send topic 'prices'");
            assertThat(refusals()).isEqualTo(before + 4);
            // Operators see the count in the node's view (the console's /api/node).
            assertThat(tern.broker().view().refusals()).containsEntry("withoutPermission", before + 4);

            // The session and the connection carry on after the refusals.
            s.createProducer(s.createQueue("orders.us")).send(s.createTextMessage("granted again"));
            assertThat(s.createConsumer(s.createQueue("orders.us")).receive(5000)).isNotNull();
        }
    }

    @Test
    void aQueueComesIntoBeingOnlyForAUserWhoMayCreateIt() throws JMSException {
        try (JMSContext ctx = as("reader").createContext()) {
            // auditors may send to audit.* but create no queue: the first send to one is refused.
            assertThatThrownBy(() -> ctx.createProducer().send(ctx.createQueue("audit.log"), "first"))
                    .isInstanceOf(JMSSecurityRuntimeException.class).hasMessageContaining("user 'reader' may not create queue 'audit.log'");
        }
        try (JMSContext ctx = as("ops").createContext()) {
            ctx.createProducer().send(ctx.createQueue("audit.log"), "created by a user who may");
        }
        try (JMSContext ctx = as("reader").createContext()) {
            ctx.createProducer().send(ctx.createQueue("audit.log"), "now it exists");
            assertThat(java.util.Collections.list(ctx.createBrowser(ctx.createQueue("audit.log")).getEnumeration())).hasSize(2);
        }
        try (Connection c = as("nobody").createConnection()) {
            Session s = c.createSession();
            assertThatThrownBy(() -> s.createConsumer(s.createQueue("audit.log")))
                    .isInstanceOf(JMSSecurityException.class).hasMessageContaining("user 'nobody' may not consume queue 'audit.log'");
        }
    }

    @Test
    void unsubscribingNeedsDeleteOnTheTopic() throws JMSException {
        try (Connection c = as("orders").createConnection()) {
            c.setClientID("orders-client");
            Session s = c.createSession();
            s.createDurableSubscriber(s.createTopic("prices"), "daily").close();
            assertThatThrownBy(() -> s.unsubscribe("daily"))
                    .isInstanceOf(JMSSecurityException.class).hasMessageContaining("user 'orders' may not delete topic 'prices'");
        }
        try (Connection c = as("ops").createConnection()) {
            c.setClientID("orders-client");
            c.createSession().unsubscribe("daily"); // admin may
        }
    }

    @Test
    void drainingANodeNeedsManage() throws JMSException {
        try (TernAdmin admin = TernAdmin.connect(tern.url(), "orders", "orders-password", 10_000)) {
            assertThatThrownBy(() -> admin.drain(tern.broker().config().name(), 1000, left -> { }))
                    .isInstanceOf(JMSSecurityException.class).hasMessageContaining("user 'orders' may not manage this node");
        }
        try (JMSContext ctx = as("orders").createContext()) { // the node was not drained: it takes clients
            ctx.createProducer().send(ctx.createQueue("orders.after-drain"), "served");
        }
        try (TernAdmin admin = TernAdmin.connect(tern.url(), "ops", "ops-password", 10_000)) {
            assertThat(admin.drain(tern.broker().config().name(), 5000, left -> { })).isZero();
        }
    }

    @Test
    void theConsoleServesOnlyUsersWhoMayManage() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        assertThat(get(http, null)).isEqualTo(401);
        assertThat(get(http, "orders:orders-password")).isEqualTo(401);
        assertThat(get(http, "ops:wrong")).isEqualTo(401);
        assertThat(get(http, "ops:ops-password")).isEqualTo(200);
    }

    private int get(HttpClient http, String credentials) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(console.uri() + "/api/node"));
        if (credentials != null) {
            r.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8)));
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void aClientCertificateLogsInAUserOfTheFileWithTheirRoles() throws Exception {
        TestCertificates ca = TestCertificates.authority(dir.resolve("certs"), "ac-ca");
        TestCertificates.Issued server = ca.server("node");
        AccessControl access = tern.broker().config().accessControl();
        try (EmbeddedTern tls = EmbeddedTern.start(b -> b.accessControl(access)
                .tls(new TlsSettings(server.certPem(), server.keyPem(), null, ca.caPem(), null, ClientAuth.REQUIRE)))) {
            TestCertificates.Issued carol = ca.client("carol");
            TestCertificates.Issued dave = ca.client("dave"); // not in the users file: no roles
            String trust = "trust=" + ca.caPem();
            try (JMSContext ctx = new TernConnectionFactory(tls.url() + "?" + trust + "&cert=" + carol.certPem() + "&key="
                    + carol.keyPem()).createContext()) {
                ctx.createProducer().send(ctx.createQueue("orders.cert"), "by certificate");
                assertThatThrownBy(() -> ctx.createProducer().send(ctx.createQueue("payments"), "no"))
                        .hasMessageContaining("user 'carol' may not send queue 'payments'");
            }
            try (JMSContext ctx = new TernConnectionFactory(tls.url() + "?" + trust + "&cert=" + dave.certPem() + "&key="
                    + dave.keyPem()).createContext()) {
                assertThatThrownBy(() -> ctx.createProducer().send(ctx.createQueue("orders.cert"), "no"))
                        .hasMessageContaining("user 'dave' may not send queue 'orders.cert'");
            }
        }
    }
}
