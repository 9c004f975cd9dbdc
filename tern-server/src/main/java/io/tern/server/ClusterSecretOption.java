package io.tern.server;

import io.tern.cluster.ClusterSecret;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code --cluster-secret-file FILE}, or the environment variable {@code TERN_CLUSTER_SECRET}: the
 * secret that signs discovery and encrypts the cluster's traffic. Never a value on the command line,
 * where every local user could read it in the process list.
 */
final class ClusterSecretOption {
    static final String ENV = "TERN_CLUSTER_SECRET";

    @Option(names = "--cluster-secret-file", description = "File holding the cluster secret (or env " + ENV + "), at least "
            + ClusterSecret.MIN_BYTES + " bytes: signs discovery packets and encrypts cluster traffic; a node without it cannot join")
    Path file;

    /** The secret, checked; null if none is given. */
    ClusterSecret secret() throws IOException {
        if (System.getenv("TERN_DISCOVERY_SECRET") != null && System.getenv(ENV) == null && file == null) {
            throw new IllegalArgumentException("TERN_DISCOVERY_SECRET is set but no longer read: the cluster secret is "
                    + ENV + " (or --cluster-secret-file), which signs discovery and encrypts the cluster's traffic");
        }
        String text = file != null ? Files.readString(file, StandardCharsets.UTF_8).strip() : System.getenv(ENV);
        if (text == null || text.isEmpty()) {
            if (file != null) {
                throw new IllegalArgumentException("the cluster secret file " + file + " is empty");
            }
            return null;
        }
        return ClusterSecret.of(text);
    }
}
