/**
 * Spring Boot auto-configuration of Tern: {@link io.tern.spring.boot.TernAutoConfiguration} makes the
 * application's JMS {@code ConnectionFactory} from the {@code tern.*} properties
 * ({@link io.tern.spring.boot.TernProperties}), before Boot's own JMS auto-configuration uses it.
 */
package io.tern.spring.boot;
