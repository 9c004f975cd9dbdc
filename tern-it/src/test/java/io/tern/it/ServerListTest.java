package io.tern.it;

import io.tern.client.TernConnectionFactory;
import io.tern.server.EmbeddedTern;
import io.tern.discovery.FreePorts;
import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** tern://h1,h2,... lists: the strategy orders them, dead servers are skipped, and all-dead says who failed. */
@Timeout(60)
class ServerListTest {

    @Test
    void deadServersAreSkippedAndRoundRobinSpreadsConnections() throws Exception {
        int dead = FreePorts.free();
        try (EmbeddedTern one = EmbeddedTern.start(); EmbeddedTern two = EmbeddedTern.start()) {
            String list = "tern://127.0.0.1:" + dead + ",127.0.0.1:" + one.port() + ",127.0.0.1:" + two.port();
            try (Connection sticky = new TernConnectionFactory(list + "?connectTimeout=500").createConnection()) {
                assertThat(sticky.getMetaData().getJMSProviderName()).isEqualTo("Tern");
                await().until(() -> one.broker().connectionCount() == 1);
                assertThat(two.broker().connectionCount()).isZero();
            }
            TernConnectionFactory rr = new TernConnectionFactory(list + "?strategy=roundrobin&connectTimeout=500");
            List<Connection> opened = new ArrayList<>();
            try {
                for (int i = 0; i < 6; i++) {
                    opened.add(rr.createConnection());
                }
                // Starts rotate over [dead, one, two]: a start at the dead server falls through to the next.
                await().until(() -> one.broker().connectionCount() == 4 && two.broker().connectionCount() == 2);
            } finally {
                for (Connection c : opened) {
                    c.close();
                }
            }
        }
    }

    @Test
    void whenEveryServerIsDownTheErrorNamesEachOne() {
        int a = FreePorts.free();
        int b = FreePorts.free();
        String url = "tern://127.0.0.1:" + a + ",127.0.0.1:" + b + "?connectTimeout=300";
        assertThatThrownBy(() -> new TernConnectionFactory(url).createConnection())
                .isInstanceOf(JMSException.class)
                .hasMessageContaining("could not connect to any of 2 servers")
                .hasMessageContaining("127.0.0.1:" + a).hasMessageContaining("127.0.0.1:" + b);
    }
}
