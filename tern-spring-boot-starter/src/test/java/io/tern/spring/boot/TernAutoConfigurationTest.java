package io.tern.spring.boot;

import io.tern.client.TernConnectionFactory;
import io.tern.server.EmbeddedTern;
import jakarta.jms.ConnectionFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.jms.autoconfigure.JmsAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jms.annotation.JmsListener;
import org.springframework.jms.connection.CachingConnectionFactory;
import org.springframework.jms.core.JmsTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.annotation.DirtiesContext;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A Spring Boot application with the starter and one property, {@code tern.url}: Boot's JmsTemplate
 * and a {@code @JmsListener} work against a Tern server, with nothing else configured.
 */
@SpringBootTest(classes = TernAutoConfigurationTest.App.class)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS) // closed with this class: its listeners stop, then the server
@Timeout(60)
class TernAutoConfigurationTest {
    private static final EmbeddedTern TERN = EmbeddedTern.start();

    @DynamicPropertySource
    static void ternUrl(DynamicPropertyRegistry registry) {
        registry.add("tern.url", TERN::url);
    }

    /** An application as users write one: auto-configuration and a listener method, no JMS beans of its own. */
    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {
        final List<String> received = new CopyOnWriteArrayList<>();

        /** The server goes when the context closes, after the listener containers stopped (never under them). */
        @org.springframework.context.annotation.Bean
        org.springframework.beans.factory.DisposableBean ternServer() {
            return TERN::close;
        }

        @JmsListener(destination = "starter-orders")
        void onOrder(String order) {
            received.add(order);
        }
    }

    @Autowired
    JmsTemplate template;
    @Autowired
    ConnectionFactory connectionFactory;
    @Autowired
    App app;

    @Test
    void theTemplateAndAListenerWorkWithOnlyTheUrlSet() {
        assertThat(connectionFactory).isInstanceOfSatisfying(CachingConnectionFactory.class,
                c -> assertThat(c.getTargetConnectionFactory()).isInstanceOf(TernConnectionFactory.class));
        for (int i = 0; i < 10; i++) {
            template.convertAndSend("starter-orders", "order-" + i);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> app.received.size() == 10);
        assertThat(app.received).containsExactlyInAnyOrder("order-0", "order-1", "order-2", "order-3", "order-4",
                "order-5", "order-6", "order-7", "order-8", "order-9");
        template.setReceiveTimeout(5_000);
        template.convertAndSend("starter-replies", "pong");
        assertThat(template.receiveAndConvert("starter-replies")).isEqualTo("pong");
    }

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(TernAutoConfiguration.class, JmsAutoConfiguration.class));

    @Test
    void thePropertiesReachTheFactoryAndCachingCanBeTurnedOff() {
        runner.withPropertyValues("tern.url=tern://127.0.0.2:5445?strategy=random", "tern.user=app", "tern.password=secret",
                "spring.jms.cache.enabled=false").run(context -> {
                    TernConnectionFactory cf = context.getBean(TernConnectionFactory.class);
                    assertThat(cf.getUrl()).isEqualTo("tern://127.0.0.2:5445?strategy=random");
                    assertThat(context).hasSingleBean(ConnectionFactory.class).doesNotHaveBean(CachingConnectionFactory.class);
                });
    }

    @Test
    void anApplicationsOwnConnectionFactoryWins() {
        TernConnectionFactory own = new TernConnectionFactory("tern://127.0.0.1:1");
        runner.withBean(ConnectionFactory.class, () -> own).run(context -> {
            assertThat(context).hasSingleBean(ConnectionFactory.class);
            assertThat(context.getBean(ConnectionFactory.class)).isSameAs(own);
        });
    }
}
