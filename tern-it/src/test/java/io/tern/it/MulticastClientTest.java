package io.tern.it;

import io.tern.client.TernConnectionFactory;
import io.tern.client.jndi.TernInitialContextFactory;
import io.tern.discovery.DiscoveryAgent;
import io.tern.discovery.DiscoveryConfig;
import io.tern.discovery.ServiceUri;
import io.tern.server.EmbeddedTern;
import io.tern.discovery.FreePorts;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.JMSContext;
import jakarta.jms.JMSException;
import jakarta.jms.Queue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import javax.naming.Context;
import javax.naming.InitialContext;
import java.net.URI;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A client given only a multicast:// URL finds a server by discovery (loopback, TTL 0, own group and port). */
@Timeout(60)
class MulticastClientTest {

    private static String uniqueGroupAddress() {
        return FreePorts.multicastGroup(203);
    }

    private static int freeUdpPort() {
        return FreePorts.freeUdp();
    }

    @Test
    void theFactoryAndJndiFindAServerThroughMulticast() throws Exception {
        String address = uniqueGroupAddress();
        int port = freeUdpPort();
        // Servers of this group announce only every ten minutes, and the first announcement went out before the
        // client listened: a client that connects within its discovery timeout (3 s) found the server by its query.
        DiscoveryConfig config = DiscoveryConfig.loopback(address, port).withTiming(600_000, 1_800_000);
        try (EmbeddedTern tern = EmbeddedTern.start();
             DiscoveryAgent announcer = new DiscoveryAgent(config).start()) {
            announcer.announce(new ServiceUri("mc-group", "jms", URI.create(tern.url())));
            String url = "multicast://" + address + ":" + port + "?group=mc-group&schemes=tern&timeout=3000";
            try (JMSContext ctx = new TernConnectionFactory(url).createContext()) {
                Queue q = ctx.createQueue("found");
                ctx.createProducer().send(q, "via multicast");
                assertThat(ctx.createConsumer(q).receiveBody(String.class, 5000)).isEqualTo("via multicast");
            }
            Properties env = new Properties();
            env.put(Context.INITIAL_CONTEXT_FACTORY, TernInitialContextFactory.class.getName());
            env.put(Context.PROVIDER_URL, url);
            ConnectionFactory cf = (ConnectionFactory) new InitialContext(env).lookup("ConnectionFactory");
            try (JMSContext ctx = cf.createContext()) {
                assertThat(ctx.createConsumer(ctx.createQueue("found")).receiveNoWait()).isNull();
            }
        }
    }

    @Test
    void noServerInTheGroupIsAClearError() throws Exception {
        String url = "multicast://" + uniqueGroupAddress() + ":" + freeUdpPort() + "?group=nobody&timeout=300";
        assertThatThrownBy(() -> new TernConnectionFactory(url).createConnection())
                .isInstanceOf(JMSException.class)
                .hasMessageContaining("no tern server of group nobody answered on multicast")
                .hasMessageContaining("300 ms");
    }

    @Test
    void whenNoKnownServerIsLeftTheLastMulticastSearchFindsANewOne() throws Exception {
        String address = uniqueGroupAddress();
        int port = freeUdpPort();
        try (EmbeddedTern a = EmbeddedTern.start(); EmbeddedTern b = EmbeddedTern.start();
             DiscoveryAgent announcer = new DiscoveryAgent(DiscoveryConfig.loopback(address, port)).start()) {
            ServiceUri first = new ServiceUri("mc-last", "jms", URI.create(a.url()));
            announcer.announce(first);
            TernConnectionFactory factory = new TernConnectionFactory("multicast://" + address + ":" + port
                    + "?group=mc-last&timeout=3000&reconnectAttempts=1&reconnectDelay=10");
            java.util.List<io.tern.client.FailoverEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
            factory.setFailoverListener(events::add);
            try (jakarta.jms.Connection c = factory.createConnection()) {
                assertThat(factory.knownServers()).as("a node without discovery sends no list").isEmpty();
                // a leaves and b joins: the client has no list to walk, only the multicast search is left.
                announcer.withdraw(first);
                announcer.announce(new ServiceUri("mc-last", "jms", URI.create(b.url())));
                a.close();
                jakarta.jms.Session s = c.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
                s.createProducer(s.createQueue("found-again")).send(s.createTextMessage("on b"));
                assertThat(b.broker().messageCount("found-again")).isEqualTo(1);
                org.awaitility.Awaitility.await().until(() -> events.stream()
                        .anyMatch(e -> e.kind() == io.tern.client.FailoverEvent.Kind.COMPLETED && e.to().endsWith(":" + b.port())));
            }
        }
    }
}
