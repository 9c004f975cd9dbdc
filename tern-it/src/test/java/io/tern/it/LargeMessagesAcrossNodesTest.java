package io.tern.it;

import io.tern.client.TernConnectionFactory;
import jakarta.jms.BytesMessage;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A cluster link pulled up to 256 messages at a time, whatever their size: 256 messages of 256 KiB
 * (64 MiB) moved to a node whose consumer takes 1 MiB at a time, and stayed there (a moved message
 * does not move on while its node has a consumer). A link now pulls at most 4 MiB of bodies at a
 * time per queue, and only while its node's consumers have room in their byte windows.
 */
@Timeout(120)
class LargeMessagesAcrossNodesTest extends InJvmClusterTest {
    private static final int MESSAGES = 60;
    private static final int BODY = 256 * 1024;

    @Test
    void aBusyConsumerOnAnotherNodePullsABoundedNumberOfBytes() throws Exception {
        cluster = new InJvmCluster(dir);
        List<InJvmCluster.Node> nodes = cluster.startInSync("a", "b");
        InJvmCluster.Node consumerNode = nodes.get(0);
        InJvmCluster.Node producerNode = nodes.get(1);
        try (Connection c = new TernConnectionFactory(producerNode.url() + "?failover=false").createConnection()) {
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer p = s.createProducer(s.createQueue("orders"));
            p.setDeliveryMode(DeliveryMode.PERSISTENT);
            for (int i = 0; i < MESSAGES; i++) {
                BytesMessage m = s.createBytesMessage();
                m.writeBytes(new byte[BODY]);
                m.setIntProperty("seq", i);
                p.send(m);
            }
        }
        Set<Integer> received = ConcurrentHashMap.newKeySet();
        AtomicInteger duplicates = new AtomicInteger();
        CountDownLatch busy = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (Connection consuming = new TernConnectionFactory(consumerNode.url()).createConnection()) {
            Session cs = consuming.createSession(false, Session.AUTO_ACKNOWLEDGE);
            cs.createConsumer(cs.createQueue("orders")).setMessageListener(m -> {
                try {
                    if (!received.add(m.getIntProperty("seq"))) {
                        duplicates.incrementAndGet();
                    }
                    busy.countDown();
                    release.await(); // busy with its first message until the check below is done
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            consuming.start();
            try {
                assertThat(busy.await(30, TimeUnit.SECONDS)).as("the first message moved and arrived").isTrue();
                Thread.sleep(1500); // time for the link to move more, if it would; absence cannot be polled for
                int left = queue(producerNode, "orders").messages();
                org.slf4j.LoggerFactory.getLogger(LargeMessagesAcrossNodesTest.class).info(
                        "{} of {} messages of {} KiB still on the producer's node while the consumer elsewhere is busy",
                        left, MESSAGES, BODY / 1024);
                // At most 4 MiB on the link (16 messages) and the consumer's own window; all 60 moved before.
                assertThat(left).as("messages left on the producer's node").isGreaterThanOrEqualTo(MESSAGES - 25);
            } finally {
                release.countDown();
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> received.size() == MESSAGES);
            assertThat(duplicates).hasValue(0);
        }
    }
}
