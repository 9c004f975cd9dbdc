package io.tern.cluster;

import io.tern.broker.store.RocksDbStore;
import io.tern.broker.store.StoreBatch;
import io.tern.protocol.NodeInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Synchronous replication between real RocksDB stores over a SHARED_LOOPBACK cluster: a backup
 * holds exactly what its primary stored, from the first batch, after a late join while commits go
 * on, and a primary never waits for a backup that left.
 */
@Timeout(120)
class ReplicationTest {
    @TempDir
    Path dir;

    private final String cluster = "replication-" + UUID.randomUUID();
    private final List<ClusterNode> nodes = new ArrayList<>();
    private final List<ReplicatingStore> stores = new ArrayList<>();
    private final AtomicLong sequence = new AtomicLong();

    @AfterEach
    void close() {
        nodes.forEach(ClusterNode::close);
        stores.forEach(ReplicatingStore::close);
    }

    private ReplicatingStore node(String name) throws Exception {
        ReplicatingStore store = new ReplicatingStore(new RocksDbStore(dir.resolve(name)));
        ClusterNode n = ClusterNode.create(new ClusterNode.Config(cluster, "loopback", Map.of(), new RingFailoverPolicy(1), true),
                new NodeInfo(name, name, "machine-" + name, List.of(), ""));
        store.attach(n);
        n.connect();
        nodes.add(n);
        stores.add(store);
        return store;
    }

    private CompletableFuture<Void> send(ReplicatingStore store, String queue) {
        long seq = sequence.incrementAndGet();
        return store.commit(new StoreBatch().add(new StoreBatch.AddMessage(queue, seq,
                ("message " + seq).getBytes(StandardCharsets.UTF_8))));
    }

    private static CompletableFuture<Void> ack(ReplicatingStore store, String queue, long seq) {
        return store.commit(new StoreBatch().add(new StoreBatch.RemoveMessage(queue, seq)));
    }

    private static void assertSameContent(ReplicatingStore primary, ReplicatingStore backup, String primaryId) {
        Map<String, Map<Long, byte[]>> expected = ReplicatingStore.contents(primary);
        await().atMost(Duration.ofSeconds(30)).until(() -> !backup.isSyncing(primaryId)
                && sameKeys(backup.replicaOf(primaryId), expected));
        Map<String, Map<Long, byte[]>> replica = backup.replicaOf(primaryId);
        expected.forEach((q, msgs) -> msgs.forEach((seq, body) -> assertThat(replica.get(q).get(seq)).isEqualTo(body)));
    }

    private static boolean sameKeys(Map<String, Map<Long, byte[]>> a, Map<String, Map<Long, byte[]>> b) {
        if (!a.keySet().equals(b.keySet())) {
            return false;
        }
        for (String q : a.keySet()) {
            if (!a.get(q).keySet().equals(b.get(q).keySet())) {
                return false;
            }
        }
        return true;
    }

    @Test
    void aCommitReturnsWhenTheBackupHasItAndAcknowledgementsReachTheBackupToo() throws Exception {
        ReplicatingStore a = node("a");
        ReplicatingStore b = node("b");
        await().until(() -> a.backups().contains("b") && b.backups().contains("a"));
        await().until(() -> !b.isSyncing("a"));
        for (int i = 0; i < 100; i++) {
            send(a, "orders").join();
        }
        // Synchronous: the replica has every batch as soon as the commit returned.
        assertThat(b.replicaOf("a").get("orders")).hasSize(100);
        for (long seq = 1; seq <= 40; seq++) {
            ack(a, "orders", seq).join();
        }
        assertThat(b.replicaOf("a").get("orders")).hasSize(60);
        assertSameContent(a, b, "a");
    }

    @Test
    void aLateBackupGetsASnapshotWhileCommitsGoOn() throws Exception {
        ReplicatingStore a = node("a");
        for (int i = 0; i < 500; i++) {
            send(a, "early").join();
        }
        for (long seq = 1; seq <= 100; seq++) {
            ack(a, "early", seq).join();
        }
        AtomicBoolean stop = new AtomicBoolean();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        AtomicLong sent = new AtomicLong();
        Thread producer = new Thread(() -> {
            while (!stop.get()) {
                try {
                    send(a, "during").join();
                    if (sent.incrementAndGet() % 3 == 0) {
                        ack(a, "during", sequence.get()).join(); // acknowledge while the snapshot streams
                    }
                } catch (RuntimeException e) {
                    failures.add(e);
                    return;
                }
            }
        });
        producer.start();
        ReplicatingStore b = node("b");
        await().atMost(Duration.ofSeconds(30)).until(() -> a.backups().contains("b") && !b.isSyncing("a"));
        long atSync = sent.get();
        await().until(() -> sent.get() >= atSync + 100); // commits go on after the sync too
        stop.set(true);
        producer.join();
        assertThat(failures).isEmpty();
        assertSameContent(a, b, "a");
        assertThat(b.replicaOf("a").get("early")).hasSize(400);
    }

    @Test
    void aPrimaryDoesNotWaitForABackupThatLeft() throws Exception {
        ReplicatingStore a = node("a");
        ReplicatingStore b = node("b");
        await().until(() -> a.backups().contains("b") && !b.isSyncing("a"));
        ClusterNode bNode = nodes.get(1);
        org.jgroups.protocols.DISCARD discard = bNode.jgroupsChannel().getProtocolStack()
                .findProtocol(org.jgroups.protocols.DISCARD.class);
        discard.discardAll(true);
        CompletableFuture<Void> pending = send(a, "q"); // b will never acknowledge this one
        await().atMost(Duration.ofSeconds(30)).until(pending::isDone);
        assertThat(pending).isCompleted();
        assertThat(a.backups()).isEmpty();
        send(a, "q").join();
    }
}
