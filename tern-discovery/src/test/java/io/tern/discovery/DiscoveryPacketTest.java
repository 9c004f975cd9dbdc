package io.tern.discovery;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(10)
class DiscoveryPacketTest {
    private static final byte[] SECRET = "a-cluster-secret-of-32-bytes....".getBytes(StandardCharsets.UTF_8);

    private static DiscoveryPacket decode(byte[] bytes, byte[] secret) throws DiscoveryPacket.RejectedPacketException {
        return DiscoveryPacket.decode(bytes, bytes.length, secret);
    }

    @Test
    void announcementsRoundTripSignedAndUnsigned() throws Exception {
        DiscoveryPacket p = new DiscoveryPacket(DiscoveryPacket.Type.ANNOUNCE, 1234, -5, "cluster1:jms:tern://127.0.0.1:5445");
        assertThat(new String(p.encode(null), StandardCharsets.UTF_8)).isEqualTo("TERN1 A 1234 -5 cluster1:jms:tern://127.0.0.1:5445");
        assertThat(decode(p.encode(null), null)).isEqualTo(p);
        assertThat(decode(p.encode(SECRET), SECRET)).isEqualTo(p);
        assertThat(ServiceUri.parse(p.payload()).uri().getPort()).isEqualTo(5445);
    }

    @Test
    void malformedPacketsAreRejectedAsMalformed() {
        for (String bad : new String[] {"GET / HTTP/1.1", "TERN1 Z 1 2 x:y:tern://h:1", "TERN1 A one 2 x:y:tern://h:1",
                "TERN1 A 1 2 not-a-service", "TERN1 A 1 2", ""}) {
            assertThatThrownBy(() -> decode(bad.getBytes(StandardCharsets.UTF_8), null)).as(bad)
                    .isInstanceOf(DiscoveryPacket.RejectedPacketException.class)
                    .satisfies(e -> assertThat(((DiscoveryPacket.RejectedPacketException) e).malformed()).isTrue());
        }
        assertThatThrownBy(() -> DiscoveryPacket.decode(new byte[2000], 2000, null))
                .isInstanceOf(DiscoveryPacket.RejectedPacketException.class);
    }

    @Test
    void withASecretUnsignedAndForgedPacketsAreRejected() {
        DiscoveryPacket p = new DiscoveryPacket(DiscoveryPacket.Type.ANNOUNCE, 1, 2, "g:jms:tern://127.0.0.1:1");
        byte[] forged = p.encode("another-secret-of-enough-bytes!!".getBytes(StandardCharsets.UTF_8));
        byte[] tampered = new String(p.encode(SECRET), StandardCharsets.UTF_8).replace("127.0.0.1", "127.0.0.9")
                .getBytes(StandardCharsets.UTF_8);
        for (byte[] bad : new byte[][] {p.encode(null), forged, tampered}) {
            assertThatThrownBy(() -> decode(bad, SECRET))
                    .isInstanceOf(DiscoveryPacket.RejectedPacketException.class)
                    .satisfies(e -> assertThat(((DiscoveryPacket.RejectedPacketException) e).malformed()).isFalse());
        }
    }

    @Test
    void serviceUrisNeedAGroupAServiceAndAnAbsoluteUri() {
        assertThat(ServiceUri.parse("c:console:http://127.0.0.1:8161").service()).isEqualTo("console");
        assertThatThrownBy(() -> ServiceUri.parse("c:jms")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ServiceUri.parse(":jms:tern://h:1")).isInstanceOf(IllegalArgumentException.class);
        assertThat(ServiceUri.parse("c:jms:tern://h:1").matches("c", "tern")).isTrue();
        assertThat(ServiceUri.parse("c:jms:tern://h:1").matches("d", null)).isFalse();
    }
}
