package io.tern.it;

import io.tern.server.EmbeddedTern;
import jakarta.jms.TextMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.jms.connection.CachingConnectionFactory;
import org.springframework.jms.core.JmsTemplate;
import org.springframework.jms.listener.DefaultMessageListenerContainer;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The most common way Java applications use JMS, as Spring's defaults set it up: a
 * {@link JmsTemplate} over a {@link CachingConnectionFactory} (which caches consumers), one
 * {@code receiveAndConvert} on a queue, and a transacted {@link DefaultMessageListenerContainer}
 * with two consumers on the same queue. The template's cached consumer sits idle after its one
 * receive; it must not keep the rest of the queue in its prefetch buffer.
 */
@Timeout(120)
class SpringJmsTest {
    private static final int MESSAGES = 500;

    private EmbeddedTern tern;
    private CachingConnectionFactory cached;
    private DefaultMessageListenerContainer container;

    @BeforeEach
    void start() {
        tern = EmbeddedTern.start();
        cached = new CachingConnectionFactory(tern.factory());
        assertThat(cached.isCacheConsumers()).isTrue(); // Spring's default, and the point of this test
    }

    @AfterEach
    void stop() {
        if (container != null) {
            container.shutdown();
        }
        cached.destroy();
        tern.close();
    }

    @Test
    void aListenerContainerGetsEveryMessageBesideTheTemplatesCachedIdleConsumer() {
        JmsTemplate template = new JmsTemplate(cached);
        template.setReceiveTimeout(5_000);
        for (int i = 0; i < MESSAGES; i++) {
            template.convertAndSend("orders", "order-" + i);
        }
        Object first = template.receiveAndConvert("orders"); // its consumer stays open, cached, idle
        assertThat(first).isEqualTo("order-0");

        Map<String, AtomicInteger> got = new ConcurrentHashMap<>();
        container = new DefaultMessageListenerContainer();
        container.setConnectionFactory(cached);
        container.setDestinationName("orders");
        container.setSessionTransacted(true);
        container.setConcurrentConsumers(2);
        container.setMessageListener((jakarta.jms.MessageListener) m -> {
            try {
                got.computeIfAbsent(((TextMessage) m).getText(), k -> new AtomicInteger()).incrementAndGet();
            } catch (jakarta.jms.JMSException e) {
                throw new IllegalStateException(e);
            }
        });
        container.afterPropertiesSet();
        container.start();

        await().atMost(Duration.ofSeconds(60)).until(() -> got.size() == MESSAGES - 1);
        assertThat(got).doesNotContainKey("order-0");
        List<String> twice = got.entrySet().stream().filter(e -> e.getValue().get() > 1).map(Map.Entry::getKey).toList();
        assertThat(twice).as("delivered to the container twice").isEmpty();
        await().atMost(Duration.ofSeconds(30)).until(() -> tern.broker().messageCount("orders") == 0); // all committed
    }
}
