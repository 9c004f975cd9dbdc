package io.tern.it;

import io.tern.client.TernConnectionFactory;
import io.tern.discovery.FreePorts;
import io.tern.server.ServerProcess;
import jakarta.jms.BytesMessage;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The memory limit counts what messages really cost. Tried from outside on a 512 MiB server: 250
 * messages of 1 MiB + 1 KiB with no consumer filled the heap while the server counted 262 MB (each
 * body is a humongous object taking two 1 MiB G1 regions), and the next send failed with
 * OutOfMemoryError. Now the producer blocks at the limit (the default policy), and carries on when a
 * consumer makes room: every message arrives, and the server never runs out of heap.
 */
@Timeout(180)
class MemoryLimitSystemTest {
    private static final int MESSAGES = 300;
    private static final int BODY = 1024 * 1024 + 1024;

    @TempDir
    Path dir;
    private ServerProcess server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void largeMessagesWithNoConsumerBlockTheProducerAtTheLimitInsteadOfFillingTheHeap() throws Exception {
        server = new ServerProcess("mem", FreePorts.free(), dir.resolve("data"), dir.resolve("mem.log")).start();
        assertThat(server.awaitListening(60_000)).isTrue();
        TernConnectionFactory cf = new TernConnectionFactory(server.url());
        AtomicInteger sent = new AtomicInteger();
        AtomicLong sendingSinceNs = new AtomicLong();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        Thread producer = new Thread(() -> {
            try (Connection c = cf.createConnection()) {
                Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageProducer p = s.createProducer(s.createQueue("big"));
                p.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
                for (int i = 0; i < MESSAGES; i++) {
                    BytesMessage m = s.createBytesMessage();
                    m.writeBytes(new byte[BODY]);
                    m.setIntProperty("seq", i);
                    sendingSinceNs.set(System.nanoTime());
                    p.send(m);
                    sendingSinceNs.set(0);
                    sent.incrementAndGet();
                }
            } catch (Throwable t) {
                errors.add(t);
            }
        }, "big-producer");
        producer.start();

        // The producer is held by flow control: one send has waited 3 s for its answer (or it failed).
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100)).until(() -> !errors.isEmpty()
                || (sendingSinceNs.get() != 0 && System.nanoTime() - sendingSinceNs.get() > 3_000_000_000L));
        assertThat(errors).as("no send failed").isEmpty();
        assertThat(sent.get()).as("held before the heap filled").isLessThan(250);

        try (Connection c = cf.createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = s.createConsumer(s.createQueue("big"));
            for (int i = 0; i < MESSAGES; i++) {
                Message m = consumer.receive(30_000);
                assertThat(m).as("message %d of %d", i, MESSAGES).isNotNull();
                assertThat(m.getIntProperty("seq")).isEqualTo(i);
            }
        }
        producer.join(30_000);
        assertThat(errors).as("no send failed").isEmpty();
        assertThat(sent.get()).isEqualTo(MESSAGES);
        assertThat(server.isAlive()).isTrue();
        assertThat(Files.readString(server.log())).doesNotContain("OutOfMemoryError");
    }
}
