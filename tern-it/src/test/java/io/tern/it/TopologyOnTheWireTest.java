package io.tern.it;

import io.tern.client.TernConnectionFactory;
import io.tern.client.impl.TernConnection;
import io.tern.protocol.ClusterTopology;
import io.tern.protocol.NodeInfo;
import io.tern.protocol.Request;
import io.tern.protocol.Response;
import io.tern.protocol.ResponseFrame;
import io.tern.server.EmbeddedTern;
import io.tern.testkit.RawClient;
import jakarta.jms.Connection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The server list travels only when the client's digest differs; a stable list costs 8 + 1 bytes. */
@Timeout(30)
class TopologyOnTheWireTest {
    /** length + kind + correlation + type, and the same for a response without the flag. */
    private static final int PING_WITHOUT_DIGEST = 4 + 1 + 8 + 1;
    private static final int OK_WITHOUT_FLAG = 4 + 1 + 8 + 1;

    @Test
    void aStableTopologyCostsEightBytesPerRequestAndOnePerResponse() throws Exception {
        try (EmbeddedTern tern = EmbeddedTern.start(); RawClient raw = new RawClient(tern.port()).handshake()) {
            raw.send(1, ClusterTopology.UNKNOWN_DIGEST, new Request.Hello(null, null, "raw"));
            ResponseFrame welcome = (ResponseFrame) raw.readFrame();
            assertThat(welcome.topology()).as("a client that knows nothing gets the list").isNotNull();
            long digest = welcome.topology().digest();

            long writtenBefore = raw.bytesWritten();
            long readBefore = raw.bytesRead();
            raw.send(2, digest, new Request.Ping());
            ResponseFrame ok = (ResponseFrame) raw.readFrame();
            assertThat(ok.topology()).as("an up-to-date client gets no list").isNull();
            assertThat(ok.response()).isEqualTo(Response.OK);
            assertThat(raw.bytesWritten() - writtenBefore).isEqualTo(PING_WITHOUT_DIGEST + 8);
            assertThat(raw.bytesRead() - readBefore).isEqualTo(OK_WITHOUT_FLAG + 1);

            ClusterTopology changed = new ClusterTopology(List.of(
                    new NodeInfo("n1", "one", "m1", List.of("tern://127.0.0.1:1"), ""),
                    new NodeInfo("n2", "two", "m2", List.of("tern://127.0.0.1:2"), "")), Map.of(), true);
            tern.broker().setTopology(changed);
            raw.send(3, digest, new Request.Ping());
            ResponseFrame update = (ResponseFrame) raw.readFrame();
            assertThat(update.topology()).as("a changed list reaches the client on its next request").isEqualTo(changed);
            raw.send(4, changed.digest(), new Request.Ping());
            assertThat(((ResponseFrame) raw.readFrame()).topology()).isNull();
        }
    }

    @Test
    void connectionsOfOneFactoryShareOneList() throws Exception {
        try (EmbeddedTern tern = EmbeddedTern.start()) {
            TernConnectionFactory cf = tern.factory();
            try (Connection a = cf.createConnection(); Connection b = cf.createConnection()) {
                TernConnection ta = (TernConnection) a;
                TernConnection tb = (TernConnection) b;
                assertThat(ta.topology()).isSameAs(tb.topology());
                assertThat(ta.topology().digest()).isEqualTo(tern.broker().topologyDigest());
            }
        }
    }
}
