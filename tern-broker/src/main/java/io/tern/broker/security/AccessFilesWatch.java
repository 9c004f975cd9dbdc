package io.tern.broker.security;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Reads a node's users and permissions files again when they change ({@link AccessControl#reloadIfChanged}),
 * every {@code periodMs} on a daemon thread of its own: adding a user with {@code tern user add}, removing
 * one or changing a grant takes effect without a restart (also when an orchestrator swaps a mounted
 * file). A change that does not parse is logged at ERROR once, with its file and line, and the rules in
 * force stay until the files are mended.
 */
public final class AccessFilesWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AccessFilesWatch.class);

    private final AccessControl access;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "tern-access-files");
        t.setDaemon(true);
        return t;
    });
    private String lastProblem;

    private AccessFilesWatch(AccessControl access) {
        this.access = access;
    }

    /** Watches the files of {@code access}; null for a node without them (open, or development users). */
    public static AccessFilesWatch start(AccessControl access, long periodMs) {
        if (access.usersFile() == null) {
            return null;
        }
        AccessFilesWatch w = new AccessFilesWatch(access);
        w.timer.scheduleWithFixedDelay(w::check, periodMs, periodMs, TimeUnit.MILLISECONDS);
        return w;
    }

    void check() {
        try {
            String changed = access.reloadIfChanged();
            if (changed != null) {
                LOG.info("Users and permissions read again: {}", changed);
                if (!access.rolesWithoutGrants().isEmpty()) {
                    LOG.warn("Roles no line of the permissions file grants anything: {}", access.rolesWithoutGrants());
                }
            }
            lastProblem = null;
        } catch (IOException | RuntimeException e) {
            String problem = String.valueOf(e.getMessage());
            if (!Objects.equals(problem, lastProblem)) {
                LOG.error("The users or permissions file changed and cannot be used: {}; the rules read before stay in "
                        + "force until it is mended", problem);
            }
            lastProblem = problem;
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
