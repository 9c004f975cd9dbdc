package io.tern.it;

import io.tern.client.TernConnectionFactory;
import io.tern.discovery.FreePorts;
import io.tern.protocol.ErrorCode;
import io.tern.protocol.Frame;
import io.tern.protocol.Request;
import io.tern.protocol.Response;
import io.tern.protocol.ResponseFrame;
import io.tern.server.ServerProcess;
import io.tern.testkit.RawClient;
import jakarta.jms.InvalidSelectorException;
import jakarta.jms.JMSContext;
import jakarta.jms.Queue;
import jakarta.jms.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Clients out to stall or exhaust a node, each attack against a server process with a small heap,
 * while an honest client goes on being served: half frames before the HELLO, half large frames of
 * logged-in clients, long selectors, and console requests sent a line at a time.
 */
@Tag("system")
@Timeout(180)
class HostileClientsSystemTest {
    @TempDir
    Path dir;
    private ServerProcess server;
    private final List<AutoCloseable> attackers = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable a : attackers) {
            try {
                a.close();
            } catch (IOException ignored) {
                // the server may have closed it first
            }
        }
        if (server != null) {
            server.close();
        }
    }

    private void startServer(String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("-J-Xmx128m", "-J-XX:MaxDirectMemorySize=96m", "--stack", "none",
                "--discovery-port", "0", "--no-replication"));
        args.addAll(List.of(extra));
        server = new ServerProcess("hostile", FreePorts.free(), dir.resolve("data"), dir.resolve("hostile.log"),
                args.toArray(String[]::new)).start();
        assertThat(server.awaitListening(60_000)).isTrue();
    }

    private TernConnectionFactory honest() {
        return new TernConnectionFactory(server.url() + "?failover=false&callTimeout=90000");
    }

    /** An honest client sends a message of {@code size} bytes and gets it back. */
    private void servesHonestly(int size) {
        try (JMSContext ctx = honest().createContext()) {
            Queue q = ctx.createQueue("honest-" + size);
            byte[] body = new byte[size];
            body[size - 1] = 7;
            ctx.createProducer().send(q, body);
            byte[] back = ctx.createConsumer(q).receiveBody(byte[].class, 60_000);
            assertThat(back).as("an honest client's message of %d bytes", size).isEqualTo(body);
        }
    }

    private static byte[] frameHeader(int length) {
        return ByteBuffer.allocate(4).putInt(length).array();
    }

    private static Response.Error errorOf(RawClient raw) throws IOException {
        Frame f = raw.readFrame();
        assertThat(f).isInstanceOf(ResponseFrame.class);
        return (Response.Error) ((ResponseFrame) f).response();
    }

    @Test
    void halfFramesBeforeTheHelloAreRefusedAtTheirLengthWhileAnHonestClientSendsLargeMessages() throws Exception {
        startServer();
        // 200 strangers announce 16 MiB frames before any HELLO (they held 2.4 GB once): each is refused
        // from the length alone and closed, having sent the server only the header.
        for (int i = 0; i < 200; i++) {
            RawClient raw = new RawClient(server.port()).handshake();
            attackers.add(raw);
            raw.write(frameHeader(16 * 1024 * 1024 - 4));
            Response.Error e = errorOf(raw);
            assertThat(e.code()).isEqualTo(ErrorCode.FRAME_TOO_LONG);
            assertThat(e.message()).contains("before the HELLO is accepted");
            assertThat(raw.isClosedByServer()).isTrue();
        }
        servesHonestly(8 * 1024 * 1024);
        assertThat(server.isAlive()).isTrue();
    }

    @Test
    void halfLargeFramesOfLoggedInClientsHoldABoundedShareAndTimeOut() throws Exception {
        // 128 MiB of heap: large frames in progress may hold about 31 MiB, two frames of 15 MiB; a large
        // frame must arrive within 5 s once read (30 s by default). Twelve logged-in clients start one
        // each and stall half way: 90 MiB that 96 MiB of direct memory would barely hold.
        startServer("-J-Dtern.largeFrameTimeoutMs=5000");
        int length = 15 * 1024 * 1024;
        AtomicInteger started = new AtomicInteger();
        for (int i = 0; i < 12; i++) {
            RawClient raw = new RawClient(server.port()).handshake();
            attackers.add(raw);
            raw.send(1, 0, new Request.Hello(null, null, "stalling-" + i));
            assertThat(((ResponseFrame) raw.readFrame()).response()).isInstanceOf(Response.Welcome.class);
            Thread writer = new Thread(() -> {
                try {
                    raw.write(frameHeader(length));
                    started.incrementAndGet();
                    raw.write(new byte[length / 2]); // blocks while the server does not read this connection
                } catch (IOException closed) {
                    // the server closed the connection: its frame did not arrive in time
                }
            }, "stalling-writer-" + i);
            writer.setDaemon(true);
            writer.start();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> started.get() == 12);
        // Small messages flow while the large frames wait or stall.
        servesHonestly(1024);
        // Two at a time, each stalled frame is read, times out, and its connection is closed with the reason.
        await().atMost(Duration.ofSeconds(120)).until(() -> count(Files.readString(server.log()), "did not arrive within") == 12);
        servesHonestly(2 * 1024 * 1024);
        assertThat(server.isAlive()).isTrue();
        assertThat(Files.readString(server.log())).doesNotContain("OutOfMemoryError");
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    @Test
    void longSelectorsAreRefusedBeforeTheyAreParsedWhileOthersAreServed() throws Exception {
        startServer();
        StringBuilder selector = new StringBuilder("a = 1");
        while (selector.length() < 40_000) {
            selector.append(" OR (b = 'x' AND c > 2)");
        }
        AtomicBoolean attacking = new AtomicBoolean(true);
        AtomicInteger refused = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Thread t = new Thread(() -> {
                try (JMSContext ctx = honest().createContext(Session.AUTO_ACKNOWLEDGE)) {
                    while (attacking.get()) {
                        try {
                            ctx.createConsumer(ctx.createQueue("selected"), selector.toString());
                        } catch (jakarta.jms.InvalidSelectorRuntimeException e) {
                            assertThat(e.getMessage()).contains("exceeds the maximum of 4096");
                            refused.incrementAndGet();
                        }
                    }
                }
            }, "selector-attacker-" + i);
            t.start();
            threads.add(t);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> refused.get() >= 12);
        servesHonestly(100);
        attacking.set(false);
        for (Thread t : threads) {
            t.join(30_000);
        }
        // A selector at the limit is parsed and works.
        try (JMSContext ctx = honest().createContext()) {
            StringBuilder allowed = new StringBuilder("n = 1");
            while (allowed.length() < 4_000) {
                allowed.append(" OR n = 1");
            }
            Queue q = ctx.createQueue("selected-ok");
            var consumer = ctx.createConsumer(q, allowed.toString());
            ctx.createProducer().setProperty("n", 1).send(q, "picked");
            assertThat(consumer.receiveBody(String.class, 10_000)).isEqualTo("picked");
        }
        assertThatThrownBy(() -> {
            try (var c = honest().createConnection()) {
                Session s = c.createSession();
                s.createConsumer(s.createQueue("q"), selector.toString());
            }
        }).isInstanceOf(InvalidSelectorException.class);
    }

    @Test
    void consumersThatStopReadingHoldABoundedShareOfTheQueueAndOfDirectMemory() throws Exception {
        // 32 MiB of direct memory, 50 MiB of 256 KiB messages, and two consumers with a prefetch of 1000 that
        // never read their socket. Once all 200 went to them at once: the server's outgoing buffers asked for
        // more direct memory than the JVM has ("Cannot reserve ... bytes of direct buffer memory").
        startServer("-J-XX:MaxDirectMemorySize=32m");
        int messages = 200;
        try (JMSContext ctx = honest().createContext()) {
            Queue q = ctx.createQueue("deep");
            var producer = ctx.createProducer().setDeliveryMode(jakarta.jms.DeliveryMode.PERSISTENT);
            for (int i = 0; i < messages; i++) {
                producer.setProperty("seq", i).send(q, new byte[256 * 1024]);
            }
        }
        for (int i = 0; i < 2; i++) {
            RawClient raw = new RawClient(server.port()).handshake();
            attackers.add(raw);
            raw.send(1, 0, new Request.Hello(null, null, "not-reading-" + i));
            raw.send(2, 0, new Request.CreateSession(1, Request.CLIENT_ACKNOWLEDGE));
            raw.send(3, 0, new Request.CreateConsumer(1, 1, io.tern.protocol.DestinationName.queue("deep"), null, false,
                    null, Request.SUB_NONE, 1000));
            // ... and reads nothing more.
        }
        // An honest consumer on the same queue takes what the stalled ones were not given: they hold a bounded
        // number of bytes each (what the server may have unwritten for a connection, plus the sockets' buffers).
        java.util.Set<Integer> received = new java.util.HashSet<>();
        try (JMSContext ctx = honest().createContext(JMSContext.CLIENT_ACKNOWLEDGE)) {
            var consumer = ctx.createConsumer(ctx.createQueue("deep"));
            jakarta.jms.Message m;
            while ((m = consumer.receive(received.size() < 100 ? 30_000 : 3_000)) != null) {
                assertThat(received.add(m.getIntProperty("seq"))).as("seq %d once", m.getIntProperty("seq")).isTrue();
                m.acknowledge();
            }
        }
        org.slf4j.LoggerFactory.getLogger(HostileClientsSystemTest.class).info("The honest consumer got {} of {} while two consumers stalled",
                received.size(), messages);
        assertThat(received.size()).as("messages the honest consumer got while two consumers stalled").isGreaterThanOrEqualTo(100);
        // The stalled consumers go; what they held comes back to the queue, and nothing is lost.
        for (AutoCloseable a : attackers) {
            a.close();
        }
        try (JMSContext ctx = honest().createContext(JMSContext.CLIENT_ACKNOWLEDGE)) {
            var consumer = ctx.createConsumer(ctx.createQueue("deep"));
            while (received.size() < messages) {
                jakarta.jms.Message m = consumer.receive(30_000);
                assertThat(m).as("message %d of %d", received.size(), messages).isNotNull();
                assertThat(received.add(m.getIntProperty("seq"))).as("seq %d once", m.getIntProperty("seq")).isTrue();
                m.acknowledge();
            }
            assertThat(consumer.receive(1000)).isNull();
        }
        assertThat(server.isAlive()).isTrue();
        String log = Files.readString(server.log());
        assertThat(log).doesNotContain("OutOfMemoryError").doesNotContain("direct buffer memory");
    }

    @Test
    void consoleClientsSendingALineAtATimeDoNotBlockOthers() throws Exception {
        int consolePort = FreePorts.free();
        startServer("--console-port", Integer.toString(consolePort));
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> get(consolePort) == 200);
        // Thirty connections each send one header line a second, for a minute (once, four of them blocked
        // the whole console for over 90 s).
        AtomicBoolean trickling = new AtomicBoolean(true);
        AtomicInteger cutOff = new AtomicInteger();
        for (int i = 0; i < 30; i++) {
            Socket s = new Socket("127.0.0.1", consolePort);
            attackers.add(s);
            Thread t = new Thread(() -> {
                try {
                    s.getOutputStream().write("GET /api/node HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
                    for (int line = 0; line < 60 && trickling.get(); line++) {
                        s.getOutputStream().write(("X-Slow-" + line + ": y\r\n").getBytes(StandardCharsets.US_ASCII));
                        s.getOutputStream().flush();
                        Thread.sleep(1000); // the attack: one line a second
                    }
                } catch (IOException e) {
                    cutOff.incrementAndGet(); // the console closed the connection
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "slow-console-client-" + i);
            t.setDaemon(true);
            t.start();
        }
        Thread.sleep(2000); // the slow clients have taken their threads; absence of service cannot be polled for
        // An honest request is answered while the slow clients still trickle, and they are cut off.
        assertThat(get(consolePort)).isEqualTo(200);
        assertThat(trickling.get()).isTrue();
        await().atMost(Duration.ofSeconds(40)).until(() -> cutOff.get() == 30);
        trickling.set(false);
        assertThat(get(consolePort)).isEqualTo(200);
    }

    private static int get(int port) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/node"))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
