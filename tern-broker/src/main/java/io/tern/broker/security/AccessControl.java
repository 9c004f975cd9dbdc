package io.tern.broker.security;

import io.tern.protocol.DestinationName;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Who may connect to a node and what each may do. Three modes:
 * <ul>
 *   <li><b>open</b>: no users; anyone connects and may do anything (a development node);</li>
 *   <li><b>development users</b> ({@code --dev-user NAME=PASSWORD}): a password is needed, then
 *       anything is allowed;</li>
 *   <li><b>files</b> ({@code --users FILE --permissions FILE}): salted, slow password hashes and roles
 *       per user ({@link UsersFile}), grants per role and destination pattern ({@link AccessRules}).</li>
 * </ul>
 * A password that matched once is remembered as a keyed MAC (a key of this process only), so a
 * failover storm of reconnecting clients does not run the slow hash for each. Thread-safe.
 */
public final class AccessControl {
    /** A user who logged in: their name and roles. */
    public record Principal(String name, Set<String> roles) {
        public Principal {
            roles = Set.copyOf(roles);
        }
    }

    /** The users and grants in force, swapped whole when the files change; null users for open and development nodes. */
    private record Rules(Map<String, UsersFile.User> users, AccessRules grants, byte[] usersBytes, byte[] permissionsBytes) {
    }

    private volatile Rules rules;
    /**
     * The files' contents as the last call of {@link #reloadIfChanged} found them changed, not yet
     * in force: they are put in force only if the next call finds them the same (a file being written
     * in place is not read half-way; a grant cut short before its destinations would grant everywhere).
     */
    private byte[][] unsettled;
    /** Told after new users and permissions are in force (the broker closes connections that lost their access). */
    private final java.util.List<Runnable> reloadListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Path usersFile;
    private final Path permissionsFile;
    private final Map<String, String> devPasswords;
    private final String description;
    /** Passwords that matched, as MACs, by user and the hash they matched: a changed hash is checked afresh. */
    private final Map<String, byte[]> verified = new ConcurrentHashMap<>();
    private final byte[] macKey = new byte[32];
    private final LongAdder refusals = new LongAdder();
    private final LongAdder failedLogins = new LongAdder();
    private final LoginThrottle throttle = new LoginThrottle(() -> System.nanoTime() / 1_000_000);
    /** Checks in flight, by user and the MAC of the password tried: identical attempts share one. */
    private final Map<String, java.util.concurrent.CompletableFuture<Principal>> checking = new ConcurrentHashMap<>();
    /** Runs the slow hash: two daemon threads and a bounded queue. */
    private final java.util.concurrent.ExecutorService hashing = new java.util.concurrent.ThreadPoolExecutor(2, 2, 0,
            java.util.concurrent.TimeUnit.MILLISECONDS, new java.util.concurrent.ArrayBlockingQueue<>(WAITING_CHECKS), r -> {
                Thread t = new Thread(r, "tern-login");
                t.setDaemon(true);
                return t;
            });

    private AccessControl(Rules rules, Path usersFile, Path permissionsFile, Map<String, String> devPasswords, String description) {
        this.rules = rules;
        this.usersFile = usersFile;
        this.permissionsFile = permissionsFile;
        this.devPasswords = devPasswords;
        this.description = description;
        new SecureRandom().nextBytes(macKey);
    }

    /** Anyone connects and may do anything. */
    public static AccessControl open() {
        return new AccessControl(new Rules(null, null, null, null), null, null, Map.of(), "open: no users, anyone may do anything");
    }

    /** Development users: {@code passwords} in clear, each allowed everything. */
    public static AccessControl devUsers(Map<String, String> passwords) {
        return passwords.isEmpty() ? open() : new AccessControl(new Rules(null, null, null, null), null, null, Map.copyOf(passwords),
                passwords.size() + " development user(s) from the command line, each allowed everything");
    }

    /** Users and their roles from {@code usersFile}, grants from {@code permissionsFile}; a bad line names its file and line. */
    public static AccessControl fromFiles(Path usersFile, Path permissionsFile) throws IOException {
        Rules rules = read(usersFile, permissionsFile);
        return new AccessControl(rules, usersFile, permissionsFile, Map.of(), rules.users().size() + " user(s) from "
                + usersFile + ", permissions from " + permissionsFile + " (read again when they change)");
    }

    private static Rules read(Path usersFile, Path permissionsFile) throws IOException {
        byte[] usersBytes = java.nio.file.Files.readAllBytes(usersFile);
        byte[] permissionsBytes = java.nio.file.Files.readAllBytes(permissionsFile);
        return new Rules(Map.copyOf(UsersFile.read(usersFile)), AccessRules.read(permissionsFile), usersBytes, permissionsBytes);
    }

    /**
     * Reads the users and permissions files again if either has changed since they were last read and
     * has stayed the same since the previous call (call it periodically: a change is in force at the
     * second call that sees it), and puts them in force: new logins meet the new users, every permission check (also of
     * connections already open) the new roles and grants; a removed user's connections may do nothing
     * more, and a changed password is checked again. Returns what changed, or null if nothing did. A
     * file that cannot be read or has a bad line throws (naming its file and line), and the rules in
     * force stay. Nothing to do on a node without files.
     */
    public synchronized String reloadIfChanged() throws IOException {
        Rules old = rules;
        if (usersFile == null || old.users() == null) {
            return null;
        }
        byte[][] seen = {java.nio.file.Files.readAllBytes(usersFile), java.nio.file.Files.readAllBytes(permissionsFile)};
        if (Arrays.equals(seen[0], old.usersBytes()) && Arrays.equals(seen[1], old.permissionsBytes())) {
            unsettled = null;
            return null;
        }
        if (unsettled == null || !Arrays.deepEquals(unsettled, seen)) {
            unsettled = seen; // changed since the last look: put in force once it stays the same for one more
            return null;
        }
        Rules fresh = read(usersFile, permissionsFile);
        byte[][] after = {java.nio.file.Files.readAllBytes(usersFile), java.nio.file.Files.readAllBytes(permissionsFile)};
        if (!Arrays.equals(fresh.usersBytes(), seen[0]) || !Arrays.equals(fresh.permissionsBytes(), seen[1])
                || !Arrays.deepEquals(after, seen)) {
            unsettled = after; // written again while it was read
            return null;
        }
        unsettled = null;
        rules = fresh;
        old.users().forEach((name, u) -> {
            UsersFile.User now = fresh.users().get(name);
            if (now == null || !now.hash().equals(u.hash())) {
                verified.remove(verifiedKey(u)); // the remembered password is no longer theirs
            }
        });
        reloadListeners.forEach(Runnable::run);
        return fresh.users().size() + " user(s) from " + usersFile + ", permissions from " + permissionsFile;
    }

    /** Runs {@code listener} each time new users and permissions are put in force. */
    public void onReload(Runnable listener) {
        reloadListeners.add(listener);
    }

    /** The users file and the permissions file; null for an open or development node. */
    public Path usersFile() {
        return usersFile;
    }

    /** Whether a client must log in (with a password or a client certificate). */
    public boolean requiresLogin() {
        return rules.users() != null || !devPasswords.isEmpty();
    }

    /** Development users only (passwords on the command line, each allowed everything): nothing here is secret. */
    public boolean development() {
        return rules.users() == null && !devPasswords.isEmpty();
    }

    /** For the startup log. */
    public String description() {
        return description;
    }

    /** Roles users have that no grant names (likely a typo): for a warning at start. */
    public Set<String> rolesWithoutGrants() {
        Set<String> unused = new TreeSet<>();
        Rules r = rules;
        if (r.users() != null) {
            r.users().values().forEach(u -> unused.addAll(u.roles()));
            unused.removeAll(r.grants().roles());
        }
        return unused;
    }

    /**
     * As {@link #login}, with the slow hash off the caller's thread: on a small pool of its own (so that
     * password guessing cannot hold the threads queues run on), at most {@value #WAITING_CHECKS} checks
     * waiting (past that, the future fails with {@link java.util.concurrent.RejectedExecutionException}),
     * and one check shared by identical attempts in flight (a failover storm of one user's clients).
     */
    public java.util.concurrent.CompletableFuture<Principal> loginAsync(String user, String password) {
        Map<String, UsersFile.User> users = rules.users();
        if (!requiresLogin() || users == null || user == null || password == null) {
            return java.util.concurrent.CompletableFuture.completedFuture(login(user, password)); // no slow hash
        }
        UsersFile.User u = users.get(user);
        byte[] mac = mac(user, password);
        byte[] known = u == null ? null : verified.get(verifiedKey(u));
        if (known != null && MessageDigest.isEqual(known, mac)) {
            return java.util.concurrent.CompletableFuture.completedFuture(new Principal(user, u.roles()));
        }
        String key = user + '\0' + java.util.Base64.getEncoder().encodeToString(mac);
        java.util.concurrent.CompletableFuture<Principal> mine = new java.util.concurrent.CompletableFuture<>();
        java.util.concurrent.CompletableFuture<Principal> shared = checking.putIfAbsent(key, mine);
        if (shared != null) {
            return shared;
        }
        try {
            hashing.execute(() -> {
                try {
                    mine.complete(login(user, password));
                } catch (RuntimeException e) {
                    mine.completeExceptionally(e);
                } finally {
                    checking.remove(key, mine);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            checking.remove(key, mine);
            mine.completeExceptionally(e);
        }
        return mine;
    }

    /** Password checks that may wait for the hashing threads; more are refused at once. */
    static final int WAITING_CHECKS = 64;

    /** The user if {@code password} is theirs; null otherwise (counted). Anyone is let in when none is needed. */
    public Principal login(String user, String password) {
        if (!requiresLogin()) {
            return new Principal(user == null ? "" : user, Set.of());
        }
        if (user == null || password == null) {
            failedLogins.increment();
            return null;
        }
        Map<String, UsersFile.User> users = rules.users();
        if (users == null) {
            String expected = devPasswords.get(user);
            boolean ok = expected != null && MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8),
                    password.getBytes(StandardCharsets.UTF_8));
            return ok ? new Principal(user, Set.of()) : failed();
        }
        UsersFile.User u = users.get(user);
        if (u == null || u.hash().equals(UsersFile.NO_PASSWORD)) {
            PasswordHash.matches(Dummy.HASH, password.toCharArray()); // the same time as a wrong password: no probing for names
            return failed();
        }
        byte[] mac = mac(user, password);
        byte[] known = verified.get(verifiedKey(u));
        if (known != null && MessageDigest.isEqual(known, mac)) {
            return new Principal(user, u.roles());
        }
        char[] chars = password.toCharArray();
        try {
            if (!PasswordHash.matches(u.hash(), chars)) {
                return failed();
            }
        } finally {
            Arrays.fill(chars, '\0');
        }
        verified.put(verifiedKey(u), mac);
        return new Principal(user, u.roles());
    }

    /** The user a verified client certificate names, with the roles the users file gives them (none if it does not list them). */
    public Principal certified(String user) {
        Map<String, UsersFile.User> users = rules.users();
        UsersFile.User u = users == null ? null : users.get(user);
        return new Principal(user, u == null ? Set.of() : u.roles());
    }

    /** Whether {@code who} may do {@code permission} on {@code destination} (null for {@code monitor} and {@code manage}); a refusal is counted. */
    public boolean allows(Principal who, Permission permission, DestinationName destination) {
        Rules r = rules;
        if (r.users() == null) {
            return true; // open, or development users: everything is allowed
        }
        UsersFile.User now = r.users().get(who.name());
        Set<String> roles = now == null ? Set.of() : now.roles(); // as the file says now, not at login
        if (r.grants().allows(roles, permission, destination)) {
            return true;
        }
        refusals.increment();
        return false;
    }

    /** Who slows down password guessing, per client address. */
    public LoginThrottle throttle() {
        return throttle;
    }

    /** Requests refused for want of a permission since the node started. */
    public long refusals() {
        return refusals.sum();
    }

    /** Logins refused (a wrong or missing password, an unknown user) since the node started. */
    public long failedLogins() {
        return failedLogins.sum();
    }

    private static String verifiedKey(UsersFile.User u) {
        return u.name() + '\0' + u.hash();
    }

    private Principal failed() {
        failedLogins.increment();
        return null;
    }

    private byte[] mac(String user, String password) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(macKey, "HmacSHA256"));
            m.update(user.getBytes(StandardCharsets.UTF_8));
            m.update((byte) 0);
            ByteBuffer bytes = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password));
            m.update(bytes);
            return m.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM has no HmacSHA256", e);
        }
    }

    /** Checked against for an unknown user, so that a wrong name costs what a wrong password does; made on first use. */
    private static final class Dummy {
        static final String HASH = PasswordHash.of("not a password".toCharArray());
    }
}
