package io.tern.cluster;

import org.jgroups.JChannel;
import org.jgroups.protocols.SERIALIZE;
import org.jgroups.protocols.SYM_ENCRYPT;
import org.jgroups.protocols.pbcast.NAKACK2;
import org.jgroups.stack.ProtocolStack;

import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The secret every member of a cluster shares (at least {@value #MIN_BYTES} bytes, from a file or the
 * environment, never the command line). It signs discovery packets, and keys JGroups' {@code SYM_ENCRYPT}
 * (AES-256/CBC with a random IV per message, a key derived from the secret) under {@code SERIALIZE},
 * both under {@code NAKACK2}: every message of the membership, replication and takeover protocols,
 * headers included, travels encrypted, so a process without the secret can neither read the cluster's
 * messages nor join it (its join request fails its MAC). Failure detection and discovery below stay
 * in the clear. CBC has no integrity check of its own, so Tern's {@link SIGNED} layer right below the
 * encryption gives every encrypted message an HMAC (under another key derived from the secret) over its
 * ciphertext and IV, and drops what fails it before it is decrypted.
 */
public final class ClusterSecret {
    public static final int MIN_BYTES = 16;

    private final byte[] bytes;

    private ClusterSecret(byte[] bytes) {
        this.bytes = bytes.clone();
    }

    /** The secret's bytes (UTF-8 of the text given), checked for length. */
    public static ClusterSecret of(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        if (b.length < MIN_BYTES) {
            throw new IllegalArgumentException("a cluster secret needs at least " + MIN_BYTES + " bytes; this one has "
                    + b.length + " (make one with: openssl rand -base64 32)");
        }
        return new ClusterSecret(b);
    }

    /** The bytes discovery signs with. */
    public byte[] bytes() {
        return bytes.clone();
    }

    /** Puts encryption with this secret's key into {@code channel}'s stack, before it connects. */
    void protect(JChannel channel) throws Exception {
        SYM_ENCRYPT encrypt = new SYM_ENCRYPT();
        encrypt.symAlgorithm("AES/CBC/PKCS5Padding");
        encrypt.symIvLength(16);
        encrypt.setSecretKey(aesKey());
        channel.getProtocolStack().insertProtocol(encrypt, ProtocolStack.Position.BELOW, NAKACK2.class);
        encrypt.init(); // the stack initialised its protocols when it was made; this one came after
        // SERIALIZE above it turns every message, headers and all, into a payload, so that none passes in
        // the clear: SYM_ENCRYPT alone leaves headers, and messages without a payload (a JOIN), unencrypted.
        // SIGNED below it checks each message's MAC over the ciphertext and the IV, which CBC alone does not
        // give, before anything is decrypted: a node with another secret is dropped there, quietly.
        SIGNED signed = new SIGNED(derive("tern cluster message key v1"), encrypt.getId());
        channel.getProtocolStack().insertProtocol(signed, ProtocolStack.Position.BELOW, SYM_ENCRYPT.class);
        signed.init();
        SERIALIZE serialize = new SERIALIZE();
        channel.getProtocolStack().insertProtocol(serialize, ProtocolStack.Position.BELOW, NAKACK2.class);
        serialize.init();
    }

    /** AES-256 from SHA-256 over a label and the secret: the same key on every member, never the secret itself. */
    SecretKey aesKey() {
        byte[] key = derive("tern cluster encryption key v1");
        try {
            return new SecretKeySpec(key, "AES");
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** 32 bytes of SHA-256 over {@code label} and the secret: one key per use, none of them the secret. */
    private byte[] derive(String label) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(label.getBytes(StandardCharsets.US_ASCII));
            return sha.digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every JVM", e);
        }
    }

    @Override
    public String toString() {
        return "ClusterSecret[" + bytes.length + " bytes]";
    }
}
