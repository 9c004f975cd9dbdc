package io.tern.it;

import io.tern.broker.BrokerConfig;
import io.tern.server.EmbeddedTern;
import jakarta.jms.BytesMessage;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.QueueBrowser;
import jakarta.jms.ResourceAllocationException;
import jakarta.jms.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Enumeration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Queues deeper than memory: persistent messages past the memory limit stay in the store only and are
 * read back in order as consumers reach them; producers carry on until the disk limit, where a send
 * waits or fails, not stored, with an error that says so.
 */
@Timeout(120)
class PagingTest {
    private static final long LIMIT = 1024 * 1024;
    private static final int BODY = 16 * 1024;
    private static final int MESSAGES = 2_000; // 32 MiB of bodies: 32 times the memory limit
    private static final int PREFETCH = 100;
    private static final long DISK_LIMIT = 4 * 1024 * 1024;
    /**
     * Memory may pass the limit by the window a queue reads back (4 MiB, and one read of 64 messages more),
     * the sends on their way to the store and the consumer's prefetch.
     */
    private static final long BOUND = LIMIT + 4 * 1024 * 1024 + (2 * 64 + PREFETCH) * (BODY + 1024);

    @Test
    void persistentMessagesPastTheMemoryLimitArePagedAndComeBackInOrderAlsoAfterARestart() throws Exception {
        try (EmbeddedTern tern = EmbeddedTern.start(b -> b.memoryLimitBytes(LIMIT).blockTimeoutMs(5_000))) {
            try (Connection c = tern.factory().createConnection()) {
                Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageProducer p = s.createProducer(s.createQueue("deep"));
                for (int i = 0; i < MESSAGES; i++) {
                    p.send(message(s, i)); // none waits for room: the block timeout would fail it
                    assertThat(tern.broker().memoryUsed()).isLessThan(BOUND);
                }
            }
            assertThat(tern.broker().messageCount("deep")).isEqualTo(MESSAGES);
            assertThat(tern.broker().pagedCount("deep")).as("paged").isGreaterThan(MESSAGES * 9 / 10);

            try (Connection c = tern.factory().createConnection()) {
                Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                QueueBrowser browser = s.createBrowser(s.createQueue("deep"));
                Enumeration<?> all = browser.getEnumeration();
                int seen = 0;
                while (all.hasMoreElements()) {
                    assertThat(((Message) all.nextElement()).getIntProperty("seq")).isEqualTo(seen++);
                }
                assertThat(seen).as("a browser sees the paged messages too, in order").isEqualTo(MESSAGES);
                assertThat(tern.broker().memoryUsed()).isLessThan(BOUND);
            }

            tern.restart();
            assertThat(tern.broker().messageCount("deep")).isEqualTo(MESSAGES);
            assertThat(tern.broker().pagedCount("deep")).as("paged after the restart").isGreaterThan(MESSAGES * 8 / 10);
            assertThat(tern.broker().memoryUsed()).isLessThan(BOUND);

            try (Connection c = tern.factory("prefetch=" + PREFETCH).createConnection()) {
                c.start();
                Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageConsumer consumer = s.createConsumer(s.createQueue("deep"));
                for (int i = 0; i < MESSAGES; i++) {
                    nextInOrder(consumer, i);
                    assertThat(tern.broker().memoryUsed()).isLessThan(BOUND);
                }
                assertThat(consumer.receive(200)).isNull();
            }
            assertThat(tern.broker().messageCount("deep")).isZero();
            assertThat(tern.broker().pagedCount("deep")).isZero();
        }
    }

    /**
     * Found in review: a queue read its window back only when something else made it deliver (a send, an
     * acknowledgement, new credit). A consumer that acknowledges less often than the window holds got one
     * window and then waited for good.
     */
    @Test
    void aConsumerThatAcknowledgesRarelyStillGetsEveryPagedMessage() throws Exception {
        try (EmbeddedTern tern = EmbeddedTern.start(b -> b.memoryLimitBytes(LIMIT))) {
            try (Connection c = tern.factory().createConnection()) {
                Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageProducer p = s.createProducer(s.createQueue("rare"));
                for (int i = 0; i < MESSAGES; i++) {
                    p.send(message(s, i));
                }
            }
            assertThat(tern.broker().pagedCount("rare")).isGreaterThan(MESSAGES * 9 / 10);
            int window = (int) (4 * 1024 * 1024 / BODY); // what one read back holds, about
            try (Connection c = tern.factory().createConnection()) {
                c.start();
                Session s = c.createSession(false, Session.CLIENT_ACKNOWLEDGE);
                MessageConsumer consumer = s.createConsumer(s.createQueue("rare"));
                for (int i = 0; i < MESSAGES; i++) {
                    Message m = nextInOrder(consumer, i);
                    if ((i + 1) % (window * 2) == 0 || i == MESSAGES - 1) {
                        m.acknowledge(); // twice a window's worth at a time
                    }
                }
            }
            assertThat(tern.broker().messageCount("rare")).isZero();
        }
    }

    /**
     * A node whose backups hold what it stores in their memory (a replicating store) must not store more
     * than memory holds, or a deep queue would run its backups out of heap: it does not page, and the
     * memory limit's policy holds its producers back, as before paging.
     */
    @Test
    void aNodeWhoseStoreIsHeldInItsBackupsMemoryDoesNotPage() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("tern-replicated");
        BrokerConfig config = BrokerConfig.builder().name("replicated").dataDir(dir).port(io.tern.discovery.FreePorts.free())
                .memoryLimitBytes(LIMIT).blockTimeoutMs(1_000).build();
        io.tern.server.TernServer server = io.tern.server.TernServer.start(config, HeldInMemoryElsewhere::new);
        try (Connection c = new io.tern.client.TernConnectionFactory(server.url()).createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue("bounded"));
            Refusal r = sendUntilRefused(s, p);
            assertThat(r.error().getMessage()).contains("was not stored", "memory limit");
            assertThat(r.stored()).isLessThan((int) (2 * LIMIT / BODY));
            assertThat(server.broker().pagedCount("bounded")).isZero();
        } finally {
            server.close();
        }
    }

    /** A store as a replicating one looks to the broker: its content is held in other nodes' memory. */
    private static final class HeldInMemoryElsewhere implements io.tern.broker.store.MessageStore {
        private final io.tern.broker.store.MessageStore local;

        HeldInMemoryElsewhere(io.tern.broker.store.MessageStore local) {
            this.local = local;
        }

        @Override
        public boolean copiesHeldInMemory() {
            return true;
        }

        @Override
        public void recover(Recovery recovery) {
            local.recover(recovery);
        }

        @Override
        public java.util.concurrent.CompletableFuture<Void> commit(io.tern.broker.store.StoreBatch batch) {
            return local.commit(batch);
        }

        @Override
        public java.util.List<byte[]> read(String queue, long[] sequences) {
            return local.read(queue, sequences);
        }

        @Override
        public boolean isDurable() {
            return local.isDurable();
        }

        @Override
        public void close() {
            local.close();
        }
    }

    @Test
    void aPersistentSendPastTheDiskLimitFailsClearlyAndIsNotStoredWhileNonPersistentOnesGoOn() throws Exception {
        try (EmbeddedTern tern = EmbeddedTern.start(b -> b.fullPolicy(BrokerConfig.FullPolicy.FAIL)
                .maxDiskUsage(new BrokerConfig.DiskLimit(0, DISK_LIMIT)));
             Connection c = tern.factory().createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue("disk"));
            Refusal r = sendUntilRefused(s, p);
            assertThat(r.error().getMessage()).contains("disk", "disk limit", "was not stored", "--max-disk-usage");
            assertThat(tern.broker().messageCount("disk")).as("the refused send is not stored").isEqualTo(r.stored());

            p.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
            p.send(s.createTextMessage("not stored, so not held back by the disk"));
            p.setDeliveryMode(DeliveryMode.PERSISTENT);
            assertThatThrownBy(() -> p.send(s.createTextMessage("still full"))).isInstanceOf(ResourceAllocationException.class);
            assertThat(tern.broker().messageCount("disk")).isEqualTo(r.stored() + 1);
        }
    }

    @Test
    void underBlockAPersistentSendPastTheDiskLimitWaitsThenFailsNotStoredWhileOthersSendsPassIt() throws Exception {
        try (EmbeddedTern tern = EmbeddedTern.start(b -> b.blockTimeoutMs(3_000)
                .maxDiskUsage(new BrokerConfig.DiskLimit(0, DISK_LIMIT)));
             Connection c = tern.factory().createConnection();
             Connection other = tern.factory().createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue("disk"));
            java.util.concurrent.CompletableFuture<Refusal> refusal = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return sendUntilRefused(s, p);
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> tern.broker().blockedProducers() > 0 || refusal.isDone());
            assertThat(refusal).as("the persistent send waits for room first").isNotDone();

            // A send the store does not keep (to a temporary queue) is not held back by the disk, nor behind the one that is.
            Session os = other.createSession(false, Session.AUTO_ACKNOWLEDGE);
            jakarta.jms.TemporaryQueue replies = os.createTemporaryQueue();
            os.createProducer(replies).send(os.createTextMessage("not stored"));
            assertThat(refusal).as("it passed the stored one, which still waits").isNotDone();
            assertThat(tern.broker().blockedProducers()).as("the stored one still waits").isPositive();

            Refusal r = refusal.get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(r.error().getMessage()).contains("waited 3000 ms for room", "was not stored", "disk limit");
            assertThat(tern.broker().messageCount("disk")).isEqualTo(r.stored());
        }
    }

    private record Refusal(int stored, ResourceAllocationException error) {
    }

    /** Sends persistent messages until one is refused; 80 MiB at most, far past the limit, which the node sees within 500 ms. */
    private static Refusal sendUntilRefused(Session s, MessageProducer p) throws Exception {
        for (int stored = 0; stored < 5_000; stored++) {
            try {
                p.send(message(s, stored));
            } catch (ResourceAllocationException e) {
                return new Refusal(stored, e);
            }
        }
        throw new AssertionError("no send was refused past the disk limit");
    }

    /** The next message, which must come within 10 s and be the {@code seq}th sent. */
    private static Message nextInOrder(MessageConsumer consumer, int seq) throws Exception {
        Message m = consumer.receive(10_000);
        assertThat(m).as("message %d of %d", seq, MESSAGES).isNotNull();
        assertThat(m.getIntProperty("seq")).isEqualTo(seq);
        return m;
    }

    private static BytesMessage message(Session s, int seq) throws Exception {
        BytesMessage m = s.createBytesMessage();
        m.writeBytes(new byte[BODY]);
        m.setIntProperty("seq", seq);
        return m;
    }
}
