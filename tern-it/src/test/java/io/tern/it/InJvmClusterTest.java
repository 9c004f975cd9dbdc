package io.tern.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** A test of nodes in this JVM ({@link InJvmCluster}): it sets {@link #cluster}, which is closed after it. */
abstract class InJvmClusterTest {
    @TempDir
    Path dir;

    InJvmCluster cluster;

    /** Queue {@code name} as node {@code n} shows it (its part there); null if it has none. */
    static io.tern.broker.NodeView.QueueView queue(InJvmCluster.Node n, String name) {
        return n.server().broker().view().queues().stream().filter(q -> q.name().equals(name)).findFirst().orElse(null);
    }

    @AfterEach
    void closeCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }
}
