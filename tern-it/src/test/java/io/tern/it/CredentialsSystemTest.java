package io.tern.it;

import io.tern.client.TernConnectionFactory;
import io.tern.discovery.DiscoveryAgent;
import io.tern.discovery.DiscoveryConfig;
import io.tern.discovery.FreePorts;
import io.tern.discovery.ServiceUri;
import io.tern.protocol.NodeInfo;
import io.tern.server.ServerProcess;
import jakarta.jms.Connection;
import jakarta.jms.JMSSecurityException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A forged, unsigned discovery packet puts an impostor's address into the server list a node without
 * a cluster secret hands its clients. A client with a password and no TLS never sends the password
 * there: not when the node tells it to move (lame duck), not when the node is gone.
 */
@Tag("system")
@Timeout(120)
class CredentialsSystemTest {
    private static final String PASSWORD = "s3cret-password-of-alice";

    @TempDir
    Path dir;
    private ServerProcess node;
    private ServerSocket impostor;
    private final ByteArrayOutputStream heard = new ByteArrayOutputStream();
    private final AtomicInteger impostorConnections = new AtomicInteger();
    private final java.util.List<Socket> accepted = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws Exception {
        if (impostor != null) {
            impostor.close();
        }
        for (Socket s : accepted) {
            s.close();
        }
        if (node != null) {
            node.close();
        }
    }

    /** Listens where the forged packet points and keeps every byte any client sends it. */
    private int startImpostor() throws IOException {
        impostor = new ServerSocket();
        impostor.bind(new InetSocketAddress("127.0.0.1", 0));
        Thread t = new Thread(() -> {
            while (!impostor.isClosed()) {
                try {
                    Socket s = impostor.accept();
                    accepted.add(s);
                    impostorConnections.incrementAndGet();
                    Thread reader = new Thread(() -> {
                        try (InputStream in = s.getInputStream()) {
                            // It answers the handshake as a Tern server would, so a client goes on to its HELLO.
                            io.netty.buffer.ByteBuf reply = io.netty.buffer.Unpooled.buffer();
                            io.tern.protocol.Handshake.writeReply(reply, io.tern.protocol.Handshake.ACCEPTED);
                            byte[] r = new byte[reply.readableBytes()];
                            reply.readBytes(r);
                            s.getOutputStream().write(r);
                            byte[] b = new byte[4096];
                            for (int n; (n = in.read(b)) > 0; ) {
                                synchronized (heard) {
                                    heard.write(b, 0, n);
                                }
                            }
                        } catch (IOException closed) {
                            // the client went away
                        }
                    }, "impostor-reader");
                    reader.setDaemon(true);
                    reader.start();
                } catch (IOException closed) {
                    return;
                }
            }
        }, "impostor");
        t.setDaemon(true);
        t.start();
        return impostor.getLocalPort();
    }

    private String heard() {
        synchronized (heard) {
            return heard.toString(StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void aForgedServerListNeverGetsThePassword() throws Exception {
        int udp = FreePorts.freeUdp();
        String group = FreePorts.multicastGroup(211);
        String cluster = "creds-" + udp;
        node = new ServerProcess("creds", FreePorts.free(), dir.resolve("data"), dir.resolve("creds.log"),
                "--stack", "none", "--cluster", cluster, "--discovery-address", group, "--discovery-port", Integer.toString(udp),
                "--dev-user", "alice=" + PASSWORD, "--shutdown-grace-ms", "5000").start();
        assertThat(node.awaitListening(60_000)).isTrue();
        int fake = startImpostor();
        String fakeUri = "tern://127.0.0.1:" + fake;
        // The forged announcement: unsigned, as anyone on the network can send it.
        try (DiscoveryAgent forger = new DiscoveryAgent(DiscoveryConfig.loopback(group, udp)).start()) {
            forger.announce(new ServiceUri(cluster, "jms", java.net.URI.create(fakeUri)));
            TernConnectionFactory cf = new TernConnectionFactory(node.url() + "?user=alice&password=" + PASSWORD
                    + "&reconnectAttempts=1&reconnectDelay=50&failoverTimeout=3000");
            java.util.concurrent.atomic.AtomicReference<jakarta.jms.JMSException> failed = new java.util.concurrent.atomic.AtomicReference<>();
            Connection c = cf.createConnection(); // the node the URL names has the password: it is connected
            try {
                c.setExceptionListener(failed::set);
                c.createSession().close();
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    c.createSession().close(); // each answer brings the node's list
                    return cf.clusterTopology() != null && cf.clusterTopology().members().stream()
                            .map(NodeInfo::clientUris).anyMatch(u -> u.contains(fakeUri));
                });
                assertThat(cf.clusterTopology().authenticated()).isFalse();
                // The node stops gracefully and names a server to move to: possibly the impostor.
                node.stop();
                await().atMost(Duration.ofSeconds(30)).until(() -> !node.isAlive());
                // With nowhere trusted to go, the connection fails once its failover time is up.
                await().atMost(Duration.ofSeconds(60)).until(() -> failed.get() != null);
                assertThat(failed.get().getMessage()).contains("skipped, not to send the password over an unsigned cluster list")
                        .contains(fakeUri);
            } finally {
                c.close();
            }
        }
        assertThat(heard()).as("what the impostor heard (%d connections)", impostorConnections.get())
                .doesNotContain(PASSWORD);
    }

    @Test
    void multicastDiscoveryWithoutSecretOrTlsRefusesToCarryAPassword() {
        TernConnectionFactory cf = new TernConnectionFactory("multicast://" + FreePorts.multicastGroup(212) + ":"
                + FreePorts.freeUdp() + "?timeout=500&user=alice&password=" + PASSWORD);
        assertThatThrownBy(cf::createConnection).isInstanceOf(JMSSecurityException.class)
                .hasMessageContaining("would send its password to a server found by unsigned multicast discovery");
    }
}
