package io.tern.broker.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The users file: one user a line, {@code NAME:ROLE,ROLE:HASH}, where HASH is a {@link PasswordHash}
 * or {@code -} for a user who logs in only with a client certificate. Lines starting with {@code #}
 * and blank lines are skipped. {@code tern user add} writes it; a bad line stops the node at start with
 * the file, the line number and the reason.
 */
public final class UsersFile {
    /** Letters, digits and {@code . _ - @}: safe in a file of colons and in log lines. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@-]{1,128}");
    /** The hash of a user without a password: only a verified client certificate logs them in. */
    public static final String NO_PASSWORD = "-";

    /** One user: their roles and password hash ({@link #NO_PASSWORD} for certificate-only users). */
    public record User(String name, Set<String> roles, String hash) {
        public User {
            roles = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(roles)); // in the order written
        }
    }

    private UsersFile() {
    }

    /** Checks a user or role name against the rule, with what it names in the error. */
    public static String checkName(String name, String what) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(what + " '" + name + "' must be 1-128 letters, digits, '.', '_', '-' or '@'");
        }
        return name;
    }

    public static Map<String, User> read(Path file) throws IOException {
        Map<String, User> users = new LinkedHashMap<>();
        SettingLines.read(file, line -> {
            User u = parse(line);
            if (users.putIfAbsent(u.name(), u) != null) {
                throw new IllegalArgumentException("user '" + u.name() + "' is listed twice");
            }
        });
        return users;
    }

    private static User parse(String line) {
        String[] parts = line.split(":", -1);
        if (parts.length != 3) {
            throw new IllegalArgumentException("expected NAME:ROLES:HASH, found " + parts.length + " field(s)");
        }
        Set<String> roles = new LinkedHashSet<>();
        for (String r : parts[1].split(",")) {
            if (!r.isBlank()) {
                roles.add(checkName(r.strip(), "role"));
            }
        }
        String hash = parts[2].strip();
        if (!hash.equals(NO_PASSWORD)) {
            PasswordHash.validate(hash);
        }
        return new User(checkName(parts[0].strip(), "user"), roles, hash);
    }

    /**
     * Writes {@code users} to {@code file} in one step (a file beside it, then a rename), readable by its
     * owner only where the file system has POSIX permissions.
     */
    public static void write(Path file, Map<String, User> users) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("# Tern users: NAME:ROLE,ROLE:HASH (pbkdf2-sha256, or - for client certificates only). Written by tern user.");
        for (User u : users.values()) {
            lines.add(u.name() + ":" + String.join(",", u.roles()) + ":" + u.hash());
        }
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".users", ".tmp");
        try {
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: its own access rules apply
            }
            Files.write(tmp, lines, StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
