package io.tern.cluster;

import org.jgroups.Header;
import org.jgroups.Message;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.stack.Protocol;
import org.jgroups.util.ByteArrayDataOutputStream;
import org.jgroups.util.MessageBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A JGroups layer of Tern's, right below {@code SYM_ENCRYPT}: it gives every encrypted message an
 * HMAC-SHA256 of its ciphertext and of the encryption's header (which carries the IV) under a key derived
 * from the cluster secret, and drops any message whose MAC is missing or wrong before it is decrypted
 * (encrypt-then-MAC). {@code SYM_ENCRYPT}'s CBC has no integrity of its own; with this layer a message
 * altered on the wire, or made without the secret, never reaches the decryption, the membership,
 * replication or takeover protocols. Drops are counted and logged at WARN, at most once a minute, so a
 * node with another secret does not flood the log (JGroups' own decryption errors never come).
 */
public final class SIGNED extends Protocol {
    /** Ids of this protocol and its header in JGroups' registry (above the ones JGroups uses itself). */
    static final short PROTOCOL_ID = 3801;
    static final short HEADER_MAGIC = 3802;
    private static final Logger LOG = LoggerFactory.getLogger(SIGNED.class);
    private static final long LOG_EVERY_MS = 60_000;

    static {
        ClassConfigurator.addIfAbsent(HEADER_MAGIC, MacHeader.class);
        ClassConfigurator.addProtocol(PROTOCOL_ID, SIGNED.class);
    }

    private final SecretKeySpec key;
    /** The id of the protocol above whose header the MAC covers too (the encryption's, with its IV), or -1. */
    private final short coveredHeader;
    private final AtomicLong dropped = new AtomicLong();
    /** When a drop was last logged: one line a minute at most, whoever the senders claim to be. */
    private final AtomicLong lastLoggedMs = new AtomicLong(Long.MIN_VALUE / 2);

    SIGNED(byte[] key, short coveredHeader) {
        this.key = new SecretKeySpec(key, "HmacSHA256");
        this.coveredHeader = coveredHeader;
        this.id = PROTOCOL_ID;
    }

    /** Messages dropped because their MAC was missing or wrong. */
    public long dropped() {
        return dropped.get();
    }

    @Override
    public Object down(Message msg) {
        if (msg.hasArray()) {
            msg.putHeader(PROTOCOL_ID, new MacHeader(mac(msg)));
        }
        return down_prot.down(msg);
    }

    @Override
    public Object up(Message msg) {
        return valid(msg) ? up_prot.up(msg) : null;
    }

    @Override
    public void up(MessageBatch batch) {
        batch.removeIf(m -> !valid(m), true);
        if (!batch.isEmpty()) {
            up_prot.up(batch);
        }
    }

    private boolean valid(Message msg) {
        MacHeader h = msg.getHeader(PROTOCOL_ID);
        if (h != null && msg.hasArray() && MessageDigest.isEqual(h.mac, mac(msg))) {
            return true;
        }
        long n = dropped.incrementAndGet();
        long now = System.currentTimeMillis();
        Object from = msg.getSrc();
        long last = lastLoggedMs.get();
        if (now - last > LOG_EVERY_MS && lastLoggedMs.compareAndSet(last, now)) {
            LOG.warn("Dropped a cluster message from {} whose MAC is {}: a node without this cluster's secret, or an altered "
                    + "message ({} dropped so far)", from, h == null ? "missing" : "wrong", n);
        }
        return false;
    }

    private byte[] mac(Message msg) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(key);
            Header covered = coveredHeader < 0 ? null : msg.getHeader(coveredHeader);
            if (covered == null) {
                m.update((byte) 0);
            } else {
                ByteArrayDataOutputStream h = new ByteArrayDataOutputStream(covered.serializedSize() + 8);
                covered.writeTo(h);
                m.update((byte) 1);
                m.update(h.buffer(), 0, h.position());
            }
            m.update(msg.getArray(), msg.getOffset(), msg.getLength());
            return m.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required by every JVM", e);
        } catch (IOException e) {
            throw new IllegalStateException("writing a header to memory failed", e);
        }
    }

    /** The MAC a message carries. */
    public static final class MacHeader extends Header {
        private byte[] mac;

        public MacHeader() {
        }

        MacHeader(byte[] mac) {
            this.mac = mac;
        }

        @Override
        public short getMagicId() {
            return HEADER_MAGIC;
        }

        @Override
        public Supplier<? extends Header> create() {
            return MacHeader::new;
        }

        @Override
        public int serializedSize() {
            return 1 + mac.length;
        }

        @Override
        public void writeTo(DataOutput out) throws IOException {
            out.writeByte(mac.length);
            out.write(mac);
        }

        @Override
        public void readFrom(DataInput in) throws IOException {
            int n = in.readUnsignedByte();
            if (n > 64) {
                throw new IOException("a MAC of " + n + " bytes");
            }
            mac = new byte[n];
            in.readFully(mac);
        }
    }
}
