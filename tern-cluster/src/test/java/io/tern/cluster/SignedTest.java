package io.tern.cluster;

import org.jgroups.BytesMessage;
import org.jgroups.Message;
import org.jgroups.protocols.EncryptHeader;
import org.jgroups.stack.Protocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The MAC layer under the cluster's encryption: what it signs on the way down passes up; anything altered
 * (ciphertext or IV), unsigned or signed with another key is dropped.
 */
@Timeout(10)
class SignedTest {
    /** Records what reaches it. */
    private static final class Recorder extends Protocol {
        final List<Message> seen = new ArrayList<>();

        @Override
        public Object down(Message msg) {
            seen.add(msg);
            return null;
        }

        @Override
        public Object up(Message msg) {
            seen.add(msg);
            return null;
        }
    }

    /** The id under which the messages carry the header the MAC covers (as SYM_ENCRYPT's, with its IV). */
    private static final short ENCRYPTION = 1500;

    private static SIGNED layer(String key, Recorder below, Recorder above) {
        SIGNED s = new SIGNED(key.getBytes(StandardCharsets.UTF_8), ENCRYPTION);
        s.setDownProtocol(below);
        s.setUpProtocol(above);
        return s;
    }

    @Test
    void aSignedMessagePassesAndAnAlteredUnsignedOrForeignOneIsDropped() {
        Recorder wire = new Recorder();
        Recorder app = new Recorder();
        SIGNED sender = layer("k".repeat(32), wire, new Recorder());
        SIGNED receiver = layer("k".repeat(32), new Recorder(), app);
        byte[] payload = "a serialized JOIN request".getBytes(StandardCharsets.UTF_8);

        sender.down(encrypted(payload, 7));
        Message signed = wire.seen.get(0);
        receiver.up(signed);
        assertThat(app.seen).hasSize(1);

        Message otherIv = signed.copy(true, true);
        otherIv.putHeader(ENCRYPTION, new EncryptHeader((byte) 0, new byte[] {1}, iv(8)));
        receiver.up(otherIv); // CBC would decrypt it to an altered first block
        Message noIv = signed.copy(true, false);
        noIv.putHeader(SIGNED.PROTOCOL_ID, signed.getHeader(SIGNED.PROTOCOL_ID));
        receiver.up(noIv);
        assertThat(app.seen).hasSize(1);

        Message altered = signed.copy(true, true);
        altered.getArray()[altered.getOffset()] ^= 1;
        receiver.up(altered);
        receiver.up(new BytesMessage(null, payload.clone())); // no MAC at all
        SIGNED stranger = layer("s".repeat(32), wire, new Recorder());
        stranger.down(new BytesMessage(null, payload.clone()));
        receiver.up(wire.seen.get(1)); // signed with another secret's key
        assertThat(app.seen).hasSize(1);
        assertThat(receiver.dropped()).isEqualTo(5);
    }

    private static Message encrypted(byte[] payload, int ivSeed) {
        return new BytesMessage(null, payload.clone()).putHeader(ENCRYPTION, new EncryptHeader((byte) 0, new byte[] {1}, iv(ivSeed)));
    }

    private static byte[] iv(int seed) {
        byte[] iv = new byte[16];
        java.util.Arrays.fill(iv, (byte) seed);
        return iv;
    }
}
