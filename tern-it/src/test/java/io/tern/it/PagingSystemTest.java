package io.tern.it;

import io.tern.client.TernConnectionFactory;
import io.tern.discovery.FreePorts;
import io.tern.server.ServerProcess;
import jakarta.jms.BytesMessage;
import jakarta.jms.Connection;
import jakarta.jms.JMSException;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A queue deeper than the heap, as users run a node without replication: a server process with a 128 MiB heap takes three
 * times its heap in persistent messages with no consumer, is SIGKILLed in the middle of it, restarts,
 * takes the rest, and delivers every acknowledged message once and in order (the one send in doubt at
 * the kill at most once), without running out of memory.
 */
@Timeout(300)
class PagingSystemTest {
    private static final int BODY = 64 * 1024;
    private static final int MESSAGES = 6 * 1024; // 384 MiB of bodies
    private static final Pattern RECOVERED = Pattern.compile("Recovered \\d+ queues and (\\d+) messages \\((\\d+) of them paged");

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
    void aNodeTakesThreeTimesItsHeapIsKilledMidwayAndDeliversEveryAcknowledgedMessageOnceInOrder() throws Exception {
        int port = FreePorts.free();
        server = start(port, "deep-1.log");
        TernConnectionFactory cf = new TernConnectionFactory(server.url());
        Set<Integer> acknowledged = ConcurrentHashMap.newKeySet();
        List<Integer> inDoubt = new CopyOnWriteArrayList<>();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        AtomicInteger next = new AtomicInteger();
        Thread producer = new Thread(() -> {
            while (next.get() < MESSAGES && errors.isEmpty()) {
                try (Connection c = cf.createConnection()) {
                    Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                    MessageProducer p = s.createProducer(s.createQueue("deep"));
                    for (int i = next.get(); i < MESSAGES; i = next.incrementAndGet()) {
                        BytesMessage m = s.createBytesMessage();
                        m.writeBytes(new byte[BODY]);
                        m.setIntProperty("seq", i);
                        try {
                            p.send(m);
                            acknowledged.add(i);
                        } catch (JMSException e) {
                            inDoubt.add(i); // the kill: stored or not, it may come at most once
                            next.incrementAndGet();
                            throw e;
                        }
                    }
                } catch (JMSException e) {
                    sleep(200); // the server is down: connect again once it is back
                } catch (Throwable t) {
                    errors.add(t);
                }
            }
        }, "deep-producer");
        producer.start();

        await().atMost(Duration.ofSeconds(120)).until(() -> acknowledged.size() >= MESSAGES / 2 || !errors.isEmpty());
        server.kill();
        server = start(port, "deep-2.log");
        producer.join(200_000);
        assertThat(producer.isAlive()).isFalse();
        assertThat(errors).isEmpty();
        assertThat(acknowledged.size()).isGreaterThanOrEqualTo(MESSAGES - 1 - inDoubt.size());

        Matcher recovered = RECOVERED.matcher(Files.readString(dir.resolve("deep-2.log")));
        assertThat(recovered.find()).as("the restart's recovery line").isTrue();
        assertThat(Integer.parseInt(recovered.group(2))).as("most of what was stored stays paged at the restart")
                .isGreaterThan(Integer.parseInt(recovered.group(1)) / 2);

        List<Integer> received = new ArrayList<>();
        try (Connection c = new TernConnectionFactory(server.url() + "?prefetch=50").createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = s.createConsumer(s.createQueue("deep"));
            Message m;
            while ((m = consumer.receive(5_000)) != null) {
                received.add(m.getIntProperty("seq"));
            }
        }
        assertThat(received).as("in order, each once").isSorted().doesNotHaveDuplicates();
        assertThat(received).as("every acknowledged message").containsAll(acknowledged);
        List<Integer> extra = new ArrayList<>(received);
        extra.removeAll(acknowledged);
        assertThat(inDoubt).as("only a send in doubt may come unacknowledged").containsAll(extra);
        assertThat(server.isAlive()).isTrue();
        for (String log : List.of("deep-1.log", "deep-2.log")) {
            assertThat(Files.readString(dir.resolve(log))).doesNotContain("OutOfMemoryError");
        }
    }

    private ServerProcess start(int port, String log) throws Exception {
        ServerProcess s = new ServerProcess("deep", port, dir.resolve("data"), dir.resolve(log), "-J-Xmx128m",
                "--no-replication").start(); // one node alone: the restart brings its paged store back
        assertThat(s.awaitListening(60_000)).isTrue();
        return s;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
