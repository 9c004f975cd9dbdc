package io.tern.discovery;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Real multicast, pinned to the loopback interface with TTL 0; each test has its own group and port. */
@Timeout(30)
class DiscoveryAgentTest {
    private static final AtomicInteger GROUPS = new AtomicInteger(ThreadLocalRandom.current().nextInt(1, 200));
    private static final ServiceUri JMS = ServiceUri.parse("c1:jms:tern://127.0.0.1:5445");

    private static DiscoveryConfig uniqueConfig() {
        return DiscoveryConfig.loopback("239.255.201." + GROUPS.incrementAndGet(), FreePorts.freeUdp());
    }

    private static final class Events implements DiscoveryListener {
        final List<String> seen = new CopyOnWriteArrayList<>();

        @Override
        public void serviceAdded(ServiceUri s) {
            seen.add("+" + s);
        }

        @Override
        public void serviceRemoved(ServiceUri s) {
            seen.add("-" + s);
        }
    }

    /** Sends raw bytes to the group the way a stranger on the network would. */
    private static void sendRaw(DiscoveryConfig c, byte[] bytes) throws IOException {
        try (DatagramChannel ch = DatagramChannel.open(StandardProtocolFamily.INET)) {
            ch.setOption(StandardSocketOptions.IP_MULTICAST_IF, NetworkInterface.getByName("lo"));
            ch.setOption(StandardSocketOptions.IP_MULTICAST_TTL, 0);
            ch.send(ByteBuffer.wrap(bytes), new InetSocketAddress(c.groupAddress(), c.port()));
        }
    }

    @Test
    void aListenerHearsAnnouncementsAndAQueryIsAnsweredAtOnce() throws Exception {
        // The server's next periodic announcement is ten minutes away, and its first one went out before the
        // client listened: only the answer to the query can bring the service.
        DiscoveryConfig config = uniqueConfig().withTiming(600_000, 1_800_000);
        try (DiscoveryAgent server = new DiscoveryAgent(config).start()) {
            server.announce(JMS);
            try (DiscoveryAgent client = new DiscoveryAgent(config).start()) {
                client.query("c1");
                await().atMost(java.time.Duration.ofSeconds(30)).until(() -> client.services().containsKey(JMS));
            }
        }
    }

    @Test
    void aGoodbyeRemovesAServiceAtOnce() throws Exception {
        DiscoveryConfig config = uniqueConfig().withTiming(200, 20_000);
        Events events = new Events();
        try (DiscoveryAgent client = new DiscoveryAgent(config).start()) {
            client.addListener(events);
            DiscoveryAgent server = new DiscoveryAgent(config).start();
            server.announce(JMS);
            await().until(() -> events.seen.contains("+" + JMS));
            server.close();
            await().atMost(java.time.Duration.ofSeconds(5)).until(() -> events.seen.contains("-" + JMS));
            assertThat(client.services()).doesNotContainKey(JMS);
        }
    }

    @Test
    void aServiceNotHeardForTheTimeoutExpires() throws Exception {
        DiscoveryConfig config = uniqueConfig().withTiming(100, 400);
        Events events = new Events();
        try (DiscoveryAgent client = new DiscoveryAgent(config).start()) {
            client.addListener(events);
            // One announcement and then silence, as from a server that was killed.
            sendRaw(config, new DiscoveryPacket(DiscoveryPacket.Type.ANNOUNCE, System.currentTimeMillis(), 1,
                    JMS.toString()).encode(null));
            await().until(() -> events.seen.contains("+" + JMS));
            await().until(() -> events.seen.contains("-" + JMS));
            assertThat(client.services()).isEmpty();
        }
    }

    @Test
    void withASecretOnlyFreshSignedPacketsCount() throws Exception {
        String secret = "test-secret-with-enough-bytes!!!";
        DiscoveryConfig config = uniqueConfig().withSecret(secret);
        byte[] key = config.signingKey();
        try (DiscoveryAgent client = new DiscoveryAgent(config).start()) {
            long now = System.currentTimeMillis();
            sendRaw(config, "garbage that is not a packet".getBytes(StandardCharsets.UTF_8));
            sendRaw(config, new DiscoveryPacket(DiscoveryPacket.Type.ANNOUNCE, now, 1, "c1:jms:tern://127.0.0.1:1").encode(null));
            sendRaw(config, new DiscoveryPacket(DiscoveryPacket.Type.ANNOUNCE, now, 2, "c1:jms:tern://127.0.0.1:2")
                    .encode("a-different-secret-of-32-bytes..".getBytes(StandardCharsets.UTF_8)));
            sendRaw(config, new DiscoveryPacket(DiscoveryPacket.Type.ANNOUNCE, now - 3_600_000, 3, "c1:jms:tern://127.0.0.1:3")
                    .encode(key));
            byte[] good = new DiscoveryPacket(DiscoveryPacket.Type.ANNOUNCE, now, 4, "c1:jms:tern://127.0.0.1:4").encode(key);
            sendRaw(config, good);
            await().until(() -> client.services().containsKey(ServiceUri.parse("c1:jms:tern://127.0.0.1:4")));
            sendRaw(config, good); // a replay
            // Signed with the secret itself, or for another discovery group (a replay from there): refused.
            sendRaw(config, new DiscoveryPacket(DiscoveryPacket.Type.ANNOUNCE, now, 5, "c1:jms:tern://127.0.0.1:5")
                    .encode(secret.getBytes(StandardCharsets.UTF_8)));
            DiscoveryConfig elsewhere = new DiscoveryConfig(config.groupAddress(), config.port() + 1, config.networkInterface(),
                    config.ttl(), config.periodMs(), config.timeoutMs(), config.secret(), config.maxSkewMs());
            sendRaw(config, new DiscoveryPacket(DiscoveryPacket.Type.ANNOUNCE, now, 6, "c1:jms:tern://127.0.0.1:6")
                    .encode(elsewhere.signingKey()));
            await().until(() -> client.malformedPackets() == 1 && client.rejectedPackets() == 6);
            assertThat(client.services().keySet()).containsExactly(ServiceUri.parse("c1:jms:tern://127.0.0.1:4"));
        }
    }

    @Test
    void theWildcardAddressIsNeverAdvertised() throws Exception {
        try (DiscoveryAgent agent = new DiscoveryAgent(uniqueConfig()).start()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> agent.announce(ServiceUri.parse("c:jms:tern://0.0.0.0:5445")))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("wildcard");
            assertThat(InetAddress.getByName("127.0.0.1").isLoopbackAddress()).isTrue();
        }
    }
}
