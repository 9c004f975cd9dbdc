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
