package io.tern.broker.security;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * A salted, slow password hash as the users file keeps it: {@code pbkdf2-sha256$ITERATIONS$SALT$HASH}
 * (PBKDF2 with HMAC-SHA256 from the JDK, 16 bytes of random salt, 32 bytes of hash, both Base64). The
 * iteration count travels with the hash, so raising it later leaves older entries valid.
 */
public final class PasswordHash {
    public static final String SCHEME = "pbkdf2-sha256";
    /** OWASP's figure for PBKDF2-HMAC-SHA256 (2023). */
    public static final int ITERATIONS = 600_000;
    private static final int SALT_BYTES = 16;
    private static final int HASH_BITS = 256;
    private static final SecureRandom RANDOM = new SecureRandom();

    private PasswordHash() {
    }

    /** A new hash of {@code password} with a fresh salt. */
    public static String of(char[] password) {
        return of(password, ITERATIONS);
    }

    /** As {@link #of(char[])} with another iteration count (at least 10,000; tests use few to run fast). */
    public static String of(char[] password, int iterations) {
        if (iterations < 10_000) {
            throw new IllegalArgumentException("iterations must be >= 10000: " + iterations);
        }
        byte[] salt = new byte[SALT_BYTES];
        RANDOM.nextBytes(salt);
        return SCHEME + "$" + iterations + "$" + Base64.getEncoder().encodeToString(salt) + "$"
                + Base64.getEncoder().encodeToString(derive(password, salt, iterations));
    }

    /** Whether {@code password} matches {@code hash}, compared in constant time. */
    public static boolean matches(String hash, char[] password) {
        String[] parts = hash.split("\\$");
        byte[] salt = Base64.getDecoder().decode(parts[2]);
        byte[] expected = Base64.getDecoder().decode(parts[3]);
        return MessageDigest.isEqual(expected, derive(password, salt, Integer.parseInt(parts[1])));
    }

    /** Throws with the reason if {@code hash} is not one this class can check. */
    static void validate(String hash) {
        String[] parts = hash.split("\\$", -1);
        if (parts.length != 4 || !parts[0].equals(SCHEME)) {
            throw new IllegalArgumentException("the password hash is not " + SCHEME + "$ITERATIONS$SALT$HASH (write it with tern user add)");
        }
        try {
            int iterations = Integer.parseInt(parts[1]);
            if (iterations < 10_000) {
                throw new IllegalArgumentException("a password hash of fewer than 10000 iterations is too weak: " + iterations);
            }
            if (Base64.getDecoder().decode(parts[2]).length < 8 || Base64.getDecoder().decode(parts[3]).length != HASH_BITS / 8) {
                throw new IllegalArgumentException("the password hash has a salt under 8 bytes or a hash not of 32 bytes");
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the iteration count of the password hash is not a number: " + parts[1]);
        }
    }

    private static byte[] derive(char[] password, byte[] salt, int iterations) {
        PBEKeySpec spec = new PBEKeySpec(password, salt, iterations, HASH_BITS);
        try {
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM has no PBKDF2WithHmacSHA256", e);
        } finally {
            spec.clearPassword();
        }
    }
}
