package io.tern.broker.security;

import io.tern.protocol.DestinationName;
import io.tern.protocol.DestinationPattern;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The permissions file: one grant a line, {@code ROLE PERMISSIONS [DESTINATIONS]}, for example
 * <pre>
 * # role       permissions                 destinations
 * admin        all                         *
 * orders-app   send,consume,create         queue:orders.*
 * auditors     browse                      queue:*
 * </pre>
 * PERMISSIONS is a comma-separated list of {@code send}, {@code consume}, {@code browse}, {@code create},
 * {@code delete}, {@code monitor} and {@code manage} (which implies {@code monitor}), or {@code all}. DESTINATIONS is {@code queue:NAME}, {@code topic:NAME}
 * or a bare NAME (either kind), where {@code *} matches any characters; it defaults to {@code *}.
 * {@code monitor} and {@code manage} are about the node, not a destination. What no line grants is refused.
 */
public final class AccessRules {
    /** One line: a role, what it may do, and where. */
    record Grant(String role, Set<Permission> permissions, DestinationPattern destinations) {
    }

    private final List<Grant> grants;

    private AccessRules(List<Grant> grants) {
        this.grants = List.copyOf(grants);
    }

    public static AccessRules read(Path file) throws IOException {
        List<Grant> grants = new ArrayList<>();
        SettingLines.read(file, line -> grants.add(parse(line)));
        return new AccessRules(grants);
    }

    private static Grant parse(String line) {
        String[] f = line.split("\\s+");
        if (f.length < 2 || f.length > 3) {
            throw new IllegalArgumentException("expected ROLE PERMISSIONS [DESTINATIONS], found " + f.length + " field(s)");
        }
        String role = UsersFile.checkName(f[0], "role");
        Set<Permission> permissions = EnumSet.noneOf(Permission.class);
        for (String w : f[1].split(",")) {
            if (w.equals("all")) {
                permissions.addAll(EnumSet.allOf(Permission.class));
            } else if (!w.isEmpty()) {
                permissions.add(Permission.parse(w));
            }
        }
        return new Grant(role, permissions, f.length == 3 ? DestinationPattern.parse(f[2]) : DestinationPattern.ANY);
    }

    /** Whether one of {@code roles} may do {@code permission} on {@code destination} (null for {@code monitor} and {@code manage}). */
    boolean allows(Set<String> roles, Permission permission, DestinationName destination) {
        for (Grant g : grants) {
            boolean granted = g.permissions().contains(permission)
                    || permission == Permission.MONITOR && g.permissions().contains(Permission.MANAGE);
            if (!roles.contains(g.role()) || !granted) {
                continue;
            }
            if (destination == null) {
                return true;
            }
            if (g.destinations().matches(destination)) {
                return true;
            }
        }
        return false;
    }

    /** The roles some line names: a user's role that none names is worth a warning. */
    Set<String> roles() {
        Set<String> roles = new java.util.HashSet<>();
        grants.forEach(g -> roles.add(g.role()));
        return roles;
    }
}
