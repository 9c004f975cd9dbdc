package io.tern.broker.security;

import io.tern.protocol.DestinationName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The users and permissions files: what they grant, and the file, line and reason of each bad line. */
@Timeout(30)
class AccessFilesTest {
    @TempDir
    Path dir;

    private static DestinationName queue(String name) {
        return new DestinationName(DestinationName.Kind.QUEUE, name);
    }

    private static DestinationName topic(String name) {
        return new DestinationName(DestinationName.Kind.TOPIC, name);
    }

    private AccessRules rules(String... lines) throws Exception {
        return AccessRules.read(Files.writeString(dir.resolve("permissions"), String.join("\n", lines)));
    }

    @Test
    void patternsMatchTheirKindAndNamesWithStarsForAnyCharacters() throws Exception {
        AccessRules r = rules("# comment", "", "app send,consume queue:orders.*", "app consume topic:prices", "ops all",
                "both browse *.audit");
        Set<String> app = Set.of("app");
        assertThat(r.allows(app, Permission.SEND, queue("orders.eu"))).isTrue();
        assertThat(r.allows(app, Permission.SEND, queue("orders."))).isTrue();
        assertThat(r.allows(app, Permission.SEND, queue("orders"))).isFalse();
        assertThat(r.allows(app, Permission.SEND, topic("orders.eu"))).isFalse();
        assertThat(r.allows(app, Permission.BROWSE, queue("orders.eu"))).isFalse();
        assertThat(r.allows(app, Permission.CONSUME, topic("prices"))).isTrue();
        assertThat(r.allows(app, Permission.CONSUME, topic("prices2"))).isFalse();
        assertThat(r.allows(app, Permission.MANAGE, null)).isFalse();
        assertThat(r.allows(Set.of("ops"), Permission.MANAGE, null)).isTrue();
        assertThat(r.allows(Set.of("ops"), Permission.DELETE, topic("anything"))).isTrue();
        assertThat(r.allows(Set.of("both"), Permission.BROWSE, queue("x.audit"))).isTrue();
        assertThat(r.allows(Set.of("both"), Permission.BROWSE, topic("x.audit"))).isTrue();
        assertThat(r.allows(Set.of("both"), Permission.BROWSE, queue("x.audit.old"))).isFalse();
        // Regular expression characters in a pattern are literal.
        assertThat(rules("r send queue:a+b").allows(Set.of("r"), Permission.SEND, queue("aab"))).isFalse();
        assertThat(r.allows(Set.of(), Permission.SEND, queue("orders.eu"))).isFalse();
    }

    private static UsersFile.User user(String name, String password, String... roles) {
        return new UsersFile.User(name, Set.of(roles), PasswordHash.of(password.toCharArray(), 10_000));
    }

    @Test
    void changedFilesTakeEffectAtOnceAndABadChangeKeepsTheRulesInForce() throws Exception {
        Path users = dir.resolve("users");
        Path permissions = Files.writeString(dir.resolve("permissions"), "app send queue:*\n");
        UsersFile.write(users, Map.of("alice", user("alice", "alice-1", "app"), "bob", user("bob", "bob-1", "app")));
        AccessControl access = AccessControl.fromFiles(users, permissions);
        AccessControl.Principal alice = access.login("alice", "alice-1");
        assertThat(access.login("bob", "bob-1")).isNotNull(); // remembered from now on
        assertThat(access.allows(alice, Permission.SEND, queue("orders"))).isTrue();
        assertThat(access.reloadIfChanged()).as("nothing changed").isNull();

        // alice is removed, bob gets a new password, carol comes, and the role may consume instead of send.
        UsersFile.write(users, Map.of("bob", user("bob", "bob-2", "app"), "carol", user("carol", "carol-1", "app")));
        Files.writeString(permissions, "app consume queue:*\n");
        assertThat(access.reloadIfChanged()).as("seen changed once: not yet in force").isNull();
        assertThat(access.login("alice", "alice-1")).isNotNull();
        assertThat(access.reloadIfChanged()).startsWith("2 user(s)");
        assertThat(access.login("alice", "alice-1")).isNull();
        assertThat(access.allows(alice, Permission.CONSUME, queue("orders"))).as("her open connection too").isFalse();
        assertThat(access.login("bob", "bob-1")).as("the remembered old password").isNull();
        AccessControl.Principal bob = access.login("bob", "bob-2");
        assertThat(access.allows(bob, Permission.CONSUME, queue("orders"))).isTrue();
        assertThat(access.allows(bob, Permission.SEND, queue("orders"))).isFalse();
        assertThat(access.login("carol", "carol-1")).isNotNull();

        Files.writeString(permissions, "app consume queue:*\napp publish queue:*\n");
        assertThat(access.reloadIfChanged()).isNull();
        assertThatThrownBy(access::reloadIfChanged).hasMessageContaining("permissions:2: unknown permission 'publish'");
        assertThat(access.allows(bob, Permission.CONSUME, queue("orders"))).as("the rules in force stay").isTrue();
        assertThat(access.login("carol", "carol-1")).isNotNull();
    }

    /** Files in {@code dir}: user alice (password alice-1, role app) and {@code grants}. */
    private AccessControl aliceOnly(String grants) throws Exception {
        Path users = dir.resolve("users");
        UsersFile.write(users, Map.of("alice", user("alice", "alice-1", "app")));
        return AccessControl.fromFiles(users, Files.writeString(dir.resolve("permissions"), grants));
    }

    @Test
    void aFileCutShortWhileItIsWrittenIsNotPutInForce() throws Exception {
        AccessControl access = aliceOnly("app send queue:orders.*\n");
        Path permissions = dir.resolve("permissions");
        AccessControl.Principal alice = access.login("alice", "alice-1");
        // Written in place: the grant cut short before its destinations would grant everywhere if read now.
        Files.writeString(permissions, "app send,consume");
        assertThat(access.reloadIfChanged()).isNull();
        assertThat(access.allows(alice, Permission.CONSUME, queue("payroll"))).isFalse();
        Files.writeString(permissions, "app send,consume queue:orders.*\n");
        assertThat(access.reloadIfChanged()).as("changed again since the last look").isNull();
        assertThat(access.allows(alice, Permission.CONSUME, queue("orders.eu"))).isFalse();
        assertThat(access.reloadIfChanged()).isNotNull();
        assertThat(access.allows(alice, Permission.CONSUME, queue("orders.eu"))).isTrue();
        assertThat(access.allows(alice, Permission.CONSUME, queue("payroll"))).isFalse();
    }

    @Test
    void theWatchReadsAChangedUsersFileWithoutBeingAsked() throws Exception {
        AccessControl access = aliceOnly("app send queue:*\n");
        Path users = dir.resolve("users");
        try (AccessFilesWatch watch = AccessFilesWatch.start(access, 20)) {
            assertThat(watch).isNotNull();
            UsersFile.write(users, Map.of("alice", user("alice", "alice-1", "app"), "dave", user("dave", "dave-1", "app")));
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                    .until(() -> access.login("dave", "dave-1") != null);
        }
        assertThat(AccessFilesWatch.start(AccessControl.open(), 20)).as("nothing to watch").isNull();
    }

    @Test
    void manageImpliesMonitorAndMonitorAloneManagesNothing() throws Exception {
        AccessRules r = rules("ops manage", "watchers monitor", "app send,consume queue:*");
        assertThat(r.allows(Set.of("ops"), Permission.MONITOR, null)).isTrue();
        assertThat(r.allows(Set.of("watchers"), Permission.MONITOR, null)).isTrue();
        assertThat(r.allows(Set.of("watchers"), Permission.MANAGE, null)).isFalse();
        assertThat(r.allows(Set.of("watchers"), Permission.SEND, queue("orders"))).isFalse();
        assertThat(r.allows(Set.of("app"), Permission.MONITOR, null)).isFalse();
    }

    @Test
    void aBadPermissionsLineNamesItsFileLineAndReason() {
        assertThatThrownBy(() -> rules("app send queue:a", "app publish queue:b"))
                .hasMessageContaining("permissions:2: unknown permission 'publish'");
        assertThatThrownBy(() -> rules("app"))
                .hasMessageContaining("permissions:1: expected ROLE PERMISSIONS [DESTINATIONS], found 1 field(s)");
        assertThatThrownBy(() -> rules("bad:role send"))
                .hasMessageContaining("permissions:1: role 'bad:role' must be");
    }

    @Test
    void aPasswordMatchesOnlyItsOwnHashAndTheHashIsSalted() {
        String a = PasswordHash.of("correct horse".toCharArray(), 10_000);
        String b = PasswordHash.of("correct horse".toCharArray(), 10_000);
        assertThat(a).startsWith("pbkdf2-sha256$10000$").isNotEqualTo(b);
        assertThat(PasswordHash.matches(a, "correct horse".toCharArray())).isTrue();
        assertThat(PasswordHash.matches(a, "correct horsE".toCharArray())).isFalse();
        assertThatThrownBy(() -> PasswordHash.of("x".toCharArray(), 1000)).hasMessageContaining("iterations must be >= 10000");
    }

    @Test
    void theUsersFileRoundTripsAndABadLineNamesItsFileLineAndReason() throws Exception {
        Path file = dir.resolve("users");
        String hash = PasswordHash.of("secret-1".toCharArray(), 10_000);
        UsersFile.write(file, Map.of("alice", new UsersFile.User("alice", Set.of("admin"), hash)));
        assertThat(UsersFile.read(file).get("alice")).isEqualTo(new UsersFile.User("alice", Set.of("admin"), hash));
        Files.writeString(file, "# users\nalice:admin:" + hash + "\nbob:app:md5$abc\n");
        assertThatThrownBy(() -> UsersFile.read(file)).hasMessageContaining("users:3: the password hash is not pbkdf2-sha256");
        Files.writeString(file, "alice:admin:" + hash + "\nalice:app:-\n");
        assertThatThrownBy(() -> UsersFile.read(file)).hasMessageContaining("users:2: user 'alice' is listed twice");
        Files.writeString(file, "al\nice:admin:-\n");
        assertThatThrownBy(() -> UsersFile.read(file)).hasMessageContaining("users:1: expected NAME:ROLES:HASH");
        Files.writeString(file, "alice:admin:pbkdf2-sha256$100$c2FsdHNhbHQ=$" + "A".repeat(43) + "=\n");
        assertThatThrownBy(() -> UsersFile.read(file)).hasMessageContaining("fewer than 10000 iterations is too weak");
    }

    @Test
    void aRememberedPasswordStillNeedsToMatch() throws Exception {
        Path users = dir.resolve("users");
        UsersFile.write(users, Map.of("alice", new UsersFile.User("alice", Set.of("app"),
                PasswordHash.of("secret-1".toCharArray(), 10_000))));
        AccessControl access = AccessControl.fromFiles(users, Files.writeString(dir.resolve("permissions"), "app send\n"));
        assertThat(access.login("alice", "secret-1")).isEqualTo(new AccessControl.Principal("alice", Set.of("app")));
        assertThat(access.login("alice", "secret-1")).isNotNull(); // from the remembered MAC
        assertThat(access.login("alice", "secret-2")).isNull();
        assertThat(access.login("alice", null)).isNull();
        assertThat(access.failedLogins()).isEqualTo(2);
        assertThat(access.rolesWithoutGrants()).isEmpty();
    }
}
