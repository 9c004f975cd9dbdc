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
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
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
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

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
        users.put("watcher", user("watcher", "monitoring"));
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
                "monitoring   monitor",
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
    void aConsumerWhoseUserLosesTheConsumePermissionStopsReceivingWhileOthersGoOn() throws Exception {
        // failover=false: the connection closed by the node stays closed, and says so to its listener.
        try (Connection orders = tern.factory("user=orders&password=orders-password&failover=false").createConnection();
             Connection ops = as("ops").createConnection()) {
            java.util.concurrent.BlockingQueue<JMSException> lost = new java.util.concurrent.LinkedBlockingQueue<>();
            orders.setExceptionListener(lost::add);
            orders.start();
            ops.start();
            Session os = orders.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = os.createConsumer(os.createQueue("orders.eu"));
            Session admin = ops.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer toOrders = admin.createProducer(admin.createQueue("orders.eu"));
            toOrders.send(admin.createTextMessage("before"));
            assertThat(consumer.receive(5000)).isNotNull();
            // AUTO_ACKNOWLEDGE sends the acknowledgement without waiting for it: the node must have it before it
            // closes the connection, or "before" comes again (marked redelivered, as the spec allows) to the audit.
            await().atMost(Duration.ofSeconds(10)).until(() -> tern.broker().messageCount("orders.eu") == 0);

            // The role keeps send but loses consume on orders.*: the consumer created before must not go on receiving.
            Path permissions = dir.resolve("permissions");
            Files.writeString(permissions, Files.readString(permissions)
                    .replace("send,consume,create      queue:orders.*", "send,create              queue:orders.*"));
            AccessControl access = tern.broker().config().accessControl();
            assertThat(access.reloadIfChanged()).isNull(); // seen changed once
            assertThat(access.reloadIfChanged()).isNotNull();
            assertThat(lost.poll(10, java.util.concurrent.TimeUnit.SECONDS)).as("the orders connection is closed").isNotNull();

            toOrders.send(admin.createTextMessage("after"));
            MessageConsumer audit = admin.createConsumer(admin.createQueue("orders.eu"));
            assertThat(((jakarta.jms.TextMessage) audit.receive(5000)).getText()).as("the other user goes on").isEqualTo("after");
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
    void theConsoleShowsTheNodeToMonitorAndDrainsItOnlyForManage() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        assertThat(get(http, "/api/node", null)).isEqualTo(401);
        assertThat(get(http, "/api/node", "ops:wrong")).isEqualTo(401);
        assertThat(get(http, "/api/node", "orders:orders-password")).as("no monitor, no manage").isEqualTo(403);
        assertThat(get(http, "/api/node", "ops:ops-password")).isEqualTo(200);
        assertThat(get(http, "/api/node", "watcher:watcher-password")).isEqualTo(200);
        assertThat(get(http, "/", "watcher:watcher-password")).isEqualTo(200);
        assertThat(get(http, "/metrics", "orders:orders-password")).isEqualTo(403);
        // This console keeps no meters (the server gives it its registry): past the permission check, "none here".
        assertThat(get(http, "/metrics", "watcher:watcher-password")).isEqualTo(404);
        long refusedBefore = tern.broker().config().accessControl().refusals();
        HttpRequest drain = authorized(HttpRequest.newBuilder(URI.create(console.uri() + "/api/drain?node="
                + tern.broker().config().name())), "watcher:watcher-password")
                .header("X-Tern-Console", "1").POST(HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<String> refused = http.send(drain, HttpResponse.BodyHandlers.ofString());
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(refused.body()).contains("may not manage this node");
        assertThat(tern.broker().config().accessControl().refusals()).isEqualTo(refusedBefore + 1);
        assertThat(tern.broker().state()).as("not drained").isEqualTo("serving");
        try (TernAdmin admin = TernAdmin.connect(tern.url(), "watcher", "watcher-password", 10_000)) {
            assertThatThrownBy(() -> admin.drain(tern.broker().config().name(), 1000, left -> { }))
                    .isInstanceOf(JMSSecurityException.class).hasMessageContaining("user 'watcher' may not manage this node");
        }
    }

    private int get(HttpClient http, String path, String credentials) throws Exception {
        HttpRequest r = authorized(HttpRequest.newBuilder(URI.create(console.uri() + path)), credentials).build();
        return http.send(r, HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static HttpRequest.Builder authorized(HttpRequest.Builder r, String credentials) {
        if (credentials != null) {
            r.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8)));
        }
        return r;
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

    @Test
    void aQueueDressedAsATemporaryDestinationOrASubscriptionIsRefused() throws Exception {
        try (JMSContext ctx = as("ops").createContext()) {
            ctx.createProducer().send(ctx.createQueue("orders.eu"), "for orders only");
        }
        // "nobody" has no permission at all: naming a real queue as a temporary one, or a subscription's
        // queue by its internal name, must not get round that.
        try (io.tern.testkit.RawClient raw = new io.tern.testkit.RawClient(tern.port()).handshake()) {
            raw.send(1, 0, new io.tern.protocol.Request.Hello("nobody", "nobody-password", "raw"));
            assertThat(raw.answer(1)).isInstanceOf(io.tern.protocol.Response.Welcome.class);
            raw.send(2, 0, new io.tern.protocol.Request.CreateSession(1, io.tern.protocol.Request.AUTO_ACKNOWLEDGE));
            raw.answer(2);
            var asTemporary = new io.tern.protocol.DestinationName(io.tern.protocol.DestinationName.Kind.TEMP_QUEUE, "orders.eu");
            raw.send(3, 0, new io.tern.protocol.Request.Browse(asTemporary, null, 0, 100));
            assertThat(raw.answer(3)).asString().contains("INVALID_DESTINATION").contains("not a temporary destination's name");
            io.tern.protocol.WireMessage m = new io.tern.protocol.WireMessage("ID:forged", io.tern.protocol.WireMessage.BODY_TEXT,
                    asTemporary, null, null, null, true, 4, 0, 0, 0, Map.of(), "x".getBytes(StandardCharsets.UTF_8));
            raw.send(4, 0, new io.tern.protocol.Request.Send(1, m));
            assertThat(raw.answer(4)).asString().contains("INVALID_DESTINATION");
            var internal = io.tern.protocol.DestinationName.queue("$durable:someone:daily");
            raw.send(5, 0, new io.tern.protocol.Request.CreateConsumer(1, 1, internal, null, false, null,
                    io.tern.protocol.Request.SUB_NONE, 10));
            assertThat(raw.answer(5)).asString().contains("must not start with '$'");
        }
        try (JMSContext ctx = as("ops").createContext()) {
            assertThat(java.util.Collections.list(ctx.createBrowser(ctx.createQueue("orders.eu")).getEnumeration())).hasSize(1);
        }
    }

    @Test
    void changingADurableSubscriptionNeedsDeleteBecauseItDropsTheOldOne() throws JMSException {
        try (Connection c = as("orders").createConnection()) {
            c.setClientID("orders-resubscriber");
            Session s = c.createSession();
            s.createDurableSubscriber(s.createTopic("prices"), "daily").close();
            // The same name with another selector would delete the old subscription and its messages.
            assertThatThrownBy(() -> s.createDurableSubscriber(s.createTopic("prices"), "daily", "n > 1", false))
                    .isInstanceOf(JMSSecurityException.class).hasMessageContaining("user 'orders' may not delete topic 'prices'");
            s.createDurableSubscriber(s.createTopic("prices"), "daily").close(); // unchanged: still there
        }
    }

    @Test
    void browsingAQueueThatDoesNotExistShowsNothingAndMakesNothing() throws JMSException {
        try (JMSContext ctx = as("reader").createContext()) {
            assertThat(java.util.Collections.list(ctx.createBrowser(ctx.createQueue("orders.never")).getEnumeration())).isEmpty();
        }
        assertThat(tern.broker().view().queues()).extracting(io.tern.broker.NodeView.QueueView::name).doesNotContain("orders.never");
    }

    @Test
    void aTemporaryQueueSeenInJMSReplyToCannotBeClaimedByAnotherClient() throws Exception {
        try (JMSContext requester = as("orders").createContext()) {
            jakarta.jms.TemporaryQueue replies = requester.createTemporaryQueue();
            // Whoever reads JMSReplyTo learns the name; asking for it as a failing-over client would is refused.
            try (io.tern.testkit.RawClient raw = new io.tern.testkit.RawClient(tern.port()).handshake()) {
                raw.send(1, 0, new io.tern.protocol.Request.Hello("nobody", "nobody-password", "raw", "another-key", null, false));
                assertThat(raw.answer(1)).isInstanceOf(io.tern.protocol.Response.Welcome.class);
                raw.send(2, 0, new io.tern.protocol.Request.CreateTemp(io.tern.protocol.DestinationName.Kind.TEMP_QUEUE,
                        replies.getQueueName()));
                assertThat(raw.answer(2)).asString().contains("INVALID_DESTINATION").contains("made for another client connection");
                raw.send(3, 0, new io.tern.protocol.Request.Browse(new io.tern.protocol.DestinationName(
                        io.tern.protocol.DestinationName.Kind.TEMP_QUEUE, replies.getQueueName()), null, 0, 100));
                assertThat(raw.answer(3)).asString().contains("may be browsed only by the connection that made it");
            }
            requester.createProducer().send(replies, "still the requester's");
            assertThat(requester.createConsumer(replies).receiveBody(String.class, 5000)).isEqualTo("still the requester's");
        }
    }
}
