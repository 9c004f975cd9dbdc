package io.tern.spring.boot;

import io.tern.client.TernConnectionFactory;
import jakarta.jms.ConnectionFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.jms.autoconfigure.JmsAutoConfiguration;
import org.springframework.boot.jms.autoconfigure.JmsProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jms.connection.CachingConnectionFactory;

/**
 * A Tern {@link ConnectionFactory} for a Spring Boot application that has this starter and a
 * {@code tern.url}: cached by Spring's {@link CachingConnectionFactory} unless
 * {@code spring.jms.cache.enabled=false}, as Boot's own broker starters do, and before Boot's JMS
 * auto-configuration, which then builds the {@code JmsTemplate} and the listener containers on it.
 * An application's own ConnectionFactory bean wins.
 */
@AutoConfiguration(before = JmsAutoConfiguration.class)
@ConditionalOnClass({ConnectionFactory.class, TernConnectionFactory.class})
@ConditionalOnMissingBean(ConnectionFactory.class)
@EnableConfigurationProperties({TernProperties.class, JmsProperties.class})
public class TernAutoConfiguration {

    static TernConnectionFactory tern(TernProperties properties) {
        TernConnectionFactory cf = new TernConnectionFactory(properties.getUrl());
        cf.setUser(properties.getUser());
        cf.setPassword(properties.getPassword());
        if (properties.getClientId() != null) {
            cf.setClientId(properties.getClientId());
        }
        return cf;
    }

    /** The default: one shared connection, sessions and producers cached (consumers too, which Tern makes safe). */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnProperty(prefix = "spring.jms.cache", name = "enabled", havingValue = "true", matchIfMissing = true)
    static class Cached {
        @Bean
        CachingConnectionFactory jmsConnectionFactory(TernProperties properties, JmsProperties jms) {
            CachingConnectionFactory cf = new CachingConnectionFactory(tern(properties));
            JmsProperties.Cache cache = jms.getCache();
            cf.setCacheConsumers(cache.isConsumers());
            cf.setCacheProducers(cache.isProducers());
            cf.setSessionCacheSize(cache.getSessionCacheSize());
            return cf;
        }
    }

    /** {@code spring.jms.cache.enabled=false}: the plain factory, a connection per use. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnProperty(prefix = "spring.jms.cache", name = "enabled", havingValue = "false")
    static class Plain {
        @Bean
        TernConnectionFactory jmsConnectionFactory(TernProperties properties) {
            return tern(properties);
        }
    }
}
