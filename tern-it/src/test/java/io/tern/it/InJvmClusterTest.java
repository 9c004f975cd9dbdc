package io.tern.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** A test of nodes in this JVM ({@link InJvmCluster}): it sets {@link #cluster}, which is closed after it. */
abstract class InJvmClusterTest {
    @TempDir
    Path dir;

    InJvmCluster cluster;

    @AfterEach
    void closeCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }
}
