package io.tern.spring.boot;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The {@code tern.*} properties of a Spring Boot application: where the cluster is and who
 * connects. Everything else a client can set (failover strategy, prefetch, timeouts) goes in the
 * URL's options, as documented in the README.
 */
@ConfigurationProperties(prefix = "tern")
public class TernProperties {
    /** The client URL: {@code tern://host:port[,host:port...]?options} or {@code multicast://...?group=G}. */
    private String url = "tern://127.0.0.1:5445";
    /** The user to connect as (none by default). */
    private String user;
    /** That user's password. */
    private String password;
    /** The connection's client id, for durable subscriptions (none by default). */
    private String clientId;

    public String getUrl() {
        return url;
    }

    public void setUrl(String url) {
        this.url = url;
    }

    public String getUser() {
        return user;
    }

    public void setUser(String user) {
        this.user = user;
    }

    public String getPassword() {
        return password;
    }

    public void setPassword(String password) {
        this.password = password;
    }

    public String getClientId() {
        return clientId;
    }

    public void setClientId(String clientId) {
        this.clientId = clientId;
    }
}
