package io.tern.it;

import io.tern.broker.BrokerConfig;
import io.tern.server.EmbeddedTern;
import jakarta.jms.BytesMessage;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.ResourceAllocationException;
import jakarta.jms.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** A producer faster than its consumers is held back by the memory limit instead of exhausting the heap. */
@Timeout(120)
class FlowControlTest {
    private static final long LIMIT = 2 * 1024 * 1024;
    private static final int BODY = 16 * 1024;
    private static final int MESSAGES = 2_000; // 32 MiB of bodies: sixteen times the limit

    @Test
    void aProducerBlocksAtTheMemoryLimitAndResumesWhenConsumersMakeRoom() throws Exception {
        try (EmbeddedTern tern = EmbeddedTern.start(b -> b.memoryLimitBytes(LIMIT));
             Connection c = tern.factory("producerWindow=262144").createConnection()) {
            Session ps = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = ps.createProducer(ps.createQueue("flood"));
            p.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
            AtomicInteger sent = new AtomicInteger();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread producer = new Thread(() -> {
                try {
                    for (int i = 0; i < MESSAGES; i++) {
                        BytesMessage m = ps.createBytesMessage();
                        m.writeBytes(new byte[BODY]);
                        p.send(m);
                        sent.incrementAndGet();
                    }
                } catch (Exception e) {
                    failure.set(e);
                }
            });
            producer.start();
            await().until(() -> tern.broker().blockedProducers() > 0);
            int stalledAt = sent.get();
            assertThat(stalledAt).isLessThan(MESSAGES);
            // Bounded: the limit plus at most one producer window of sends in flight.
            assertThat(tern.broker().memoryUsed()).isLessThan(LIMIT + 262_144 + 2 * (BODY + 1024));

            Session cs = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = cs.createConsumer(cs.createQueue("flood"));
            c.start();
            int received = 0;
            while (received < MESSAGES && consumer.receive(10_000) != null) {
                received++;
                assertThat(tern.broker().memoryUsed()).isLessThan(LIMIT + 262_144 + 2 * (BODY + 1024));
            }
            producer.join(30_000);
            assertThat(failure.get()).isNull();
            assertThat(received).isEqualTo(MESSAGES);
            assertThat(sent.get()).isEqualTo(MESSAGES);
        }
    }

    /**
     * Credit in messages alone let a consumer of large messages hold its whole prefetch (1000 messages of
     * 256 KiB: 250 MiB in the client's heap) while another consumer of the queue waited. A consumer holds
     * at most its byte window (1 MiB by default) of bodies it has not taken.
     */
    @Test
    void aBusyConsumerOfLargeMessagesHoldsOnlyItsByteWindowWhileAnotherTakesTheRest() throws Exception {
        int messages = 100;
        try (EmbeddedTern tern = EmbeddedTern.start(b -> b.memoryLimitBytes(256L * 1024 * 1024));
             Connection c = tern.factory().createConnection()) {
            Session ps = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = ps.createProducer(ps.createQueue("large"));
            for (int i = 0; i < messages; i++) {
                BytesMessage m = ps.createBytesMessage();
                m.writeBytes(new byte[256 * 1024]);
                m.setIntProperty("seq", i);
                p.send(m);
            }
            java.util.Set<Integer> received = java.util.concurrent.ConcurrentHashMap.newKeySet();
            java.util.concurrent.CountDownLatch busy = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            AtomicInteger duplicates = new AtomicInteger();
            Session slowSession = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            slowSession.createConsumer(slowSession.createQueue("large")).setMessageListener(m -> {
                try {
                    if (!received.add(m.getIntProperty("seq"))) {
                        duplicates.incrementAndGet();
                    }
                    busy.countDown();
                    release.await(); // busy with its first message until the other consumer is done
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            c.start();
            assertThat(busy.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            Session fastSession = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer fast = fastSession.createConsumer(fastSession.createQueue("large"));
            int taken = 0;
            try {
                Message m;
                while ((m = fast.receive(2_000)) != null) {
                    if (!received.add(m.getIntProperty("seq"))) {
                        duplicates.incrementAndGet();
                    }
                    taken++;
                }
            } finally {
                release.countDown();
            }
            // The busy one holds the message in hand and at most 1 MiB of bodies buffered: 4 of 256 KiB.
            assertThat(taken).as("taken by the other consumer while one was busy").isGreaterThanOrEqualTo(messages - 5);
            await().until(() -> received.size() == messages);
            assertThat(duplicates).hasValue(0);
        }
    }

    @Test
    void withTheFailPolicyASendOverTheLimitFailsClearly() throws Exception {
        try (EmbeddedTern tern = EmbeddedTern.start(b -> b.memoryLimitBytes(64 * 1024).fullPolicy(BrokerConfig.FullPolicy.FAIL));
             Connection c = tern.factory().createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            // A queue whose messages are not stored: stored ones are paged past the limit instead (PagingTest).
            jakarta.jms.TemporaryQueue full = s.createTemporaryQueue();
            MessageProducer p = s.createProducer(full);
            assertThatThrownBy(() -> {
                for (int i = 0; i < 100; i++) {
                    BytesMessage m = s.createBytesMessage();
                    m.writeBytes(new byte[BODY]);
                    p.send(m);
                }
            }).isInstanceOf(ResourceAllocationException.class).hasMessageContaining("memory limit");
            assertThat(tern.broker().messageCount(full.getQueueName())).isBetween(4, 6);
        }
    }

    /**
     * Tried from outside: a producer blocked by flow control got, after 30 s, "no answer", with the
     * message stored or not. Now a send waits for room before anything of it is stored, and one that
     * waits past the block timeout fails with an answer that says so; it is not stored.
     */
    @Test
    void aSendHeldPastTheBlockTimeoutFailsClearlyAndIsNotStored() throws Exception {
        try (EmbeddedTern tern = EmbeddedTern.start(b -> b.memoryLimitBytes(64 * 1024).blockTimeoutMs(1_000));
             Connection c = tern.factory().createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            // A queue whose messages are not stored: stored ones are paged past the limit instead (PagingTest).
            jakarta.jms.TemporaryQueue held = s.createTemporaryQueue();
            MessageProducer p = s.createProducer(held);
            int stored = 0;
            ResourceAllocationException refused = null;
            while (refused == null && stored < 100) {
                BytesMessage m = s.createBytesMessage();
                m.writeBytes(new byte[BODY]);
                m.setIntProperty("seq", stored);
                try {
                    p.send(m);
                    stored++;
                } catch (ResourceAllocationException e) {
                    refused = e;
                }
            }
            assertThat(refused).as("a send past the limit is refused after the block timeout").isNotNull();
            assertThat(refused.getMessage()).contains(held.getQueueName(), "waited 1000 ms for room", "was not stored", "memory limit");
            assertThat(tern.broker().messageCount(held.getQueueName())).as("the refused send is not stored").isEqualTo(stored);

            MessageConsumer consumer = s.createConsumer(held);
            c.start();
            for (int i = 0; i < stored; i++) {
                Message m = consumer.receive(10_000);
                assertThat(m).as("message %d of %d", i, stored).isNotNull();
                assertThat(m.getIntProperty("seq")).isEqualTo(i);
            }
            p.send(s.createTextMessage("room again"));
            assertThat(((jakarta.jms.TextMessage) consumer.receive(10_000)).getText()).isEqualTo("room again");
        }
    }
}
