package io.tern.discovery;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;

/**
 * One discovery datagram, as UTF-8 text (at most {@link #MAX_BYTES} bytes):
 *
 * <pre>
 * packet  := "TERN1" SP type SP timestampMs SP nonce SP payload [SP "sig=" base64(hmac)]
 * type    := "A" (announce: payload is group:service:uri)
 *          | "B" (goodbye:  payload is group:service:uri)
 *          | "Q" (query:    payload is a group name, or "*" for every group)
 * hmac    := HMAC-SHA256(secret, every byte before " sig=")
 * </pre>
 */
public record DiscoveryPacket(Type type, long timestampMs, long nonce, String payload) {
    public static final int MAX_BYTES = 1024;
    private static final String MAGIC = "TERN1";
    private static final String SIG = " sig=";

    public enum Type {
        ANNOUNCE("A"), GOODBYE("B"), QUERY("Q");

        final String code;

        Type(String code) {
            this.code = code;
        }
    }

    /** Thrown for a packet that breaks the grammar or fails the signature rules. */
    public static final class RejectedPacketException extends Exception {
        private final boolean malformed;

        RejectedPacketException(String message, boolean malformed) {
            super(message);
            this.malformed = malformed;
        }

        /** True if the bytes were not a packet at all; false if a well-formed packet failed the signature rules. */
        public boolean malformed() {
            return malformed;
        }
    }

    public DiscoveryPacket {
        if (payload == null || payload.isEmpty() || payload.contains(" ")) {
            throw new IllegalArgumentException("payload must be one non-empty word: " + payload);
        }
    }

    private String body() {
        return MAGIC + " " + type.code + " " + timestampMs + " " + nonce + " " + payload;
    }

    /** The bytes to send; signed when {@code secret} is not null. */
    public byte[] encode(byte[] secret) {
        String text = secret == null ? body() : body() + SIG + Base64.getEncoder().encodeToString(hmac(secret, body()));
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_BYTES) {
            throw new IllegalArgumentException("discovery packet of " + bytes.length + " bytes exceeds " + MAX_BYTES);
        }
        return bytes;
    }

    /**
     * Parses a datagram. With a secret, the packet must carry a valid signature; freshness and replay
     * are the agent's job (it knows the clock and the nonces it has seen).
     */
    public static DiscoveryPacket decode(byte[] data, int length, byte[] secret) throws RejectedPacketException {
        if (length > MAX_BYTES) {
            throw new RejectedPacketException("packet of " + length + " bytes exceeds " + MAX_BYTES, true);
        }
        String text = new String(data, 0, length, StandardCharsets.UTF_8);
        String signature = null;
        int sig = text.indexOf(SIG);
        String body = text;
        if (sig >= 0) {
            body = text.substring(0, sig);
            signature = text.substring(sig + SIG.length());
        }
        String[] parts = body.split(" ", -1);
        if (parts.length != 5 || !parts[0].equals(MAGIC)) {
            throw new RejectedPacketException("not a Tern discovery packet", true);
        }
        Type type = switch (parts[1]) {
            case "A" -> Type.ANNOUNCE;
            case "B" -> Type.GOODBYE;
            case "Q" -> Type.QUERY;
            default -> throw new RejectedPacketException("unknown packet type " + parts[1], true);
        };
        DiscoveryPacket packet;
        try {
            packet = new DiscoveryPacket(type, Long.parseLong(parts[2]), Long.parseLong(parts[3]), parts[4]);
            if (type != Type.QUERY) {
                ServiceUri.parse(parts[4]);
            }
        } catch (IllegalArgumentException e) {
            throw new RejectedPacketException("malformed packet: " + e.getMessage(), true);
        }
        if (secret != null) {
            if (signature == null) {
                throw new RejectedPacketException("unsigned packet while a secret is set", false);
            }
            byte[] given;
            try {
                given = Base64.getDecoder().decode(signature);
            } catch (IllegalArgumentException e) {
                throw new RejectedPacketException("signature is not base64", false);
            }
            if (!MessageDigest.isEqual(given, hmac(secret, body))) {
                throw new RejectedPacketException("bad signature", false);
            }
        }
        return packet;
    }

    static byte[] hmac(byte[] secret, String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return mac.doFinal(body.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required by every JVM", e);
        }
    }
}
