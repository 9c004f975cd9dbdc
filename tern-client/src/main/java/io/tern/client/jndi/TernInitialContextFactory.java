package io.tern.client.jndi;

import io.tern.client.TernConnectionFactory;
import io.tern.client.TernQueue;
import io.tern.client.TernTopic;

import javax.naming.Context;
import javax.naming.NamingException;
import javax.naming.spi.InitialContextFactory;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.Map;

/**
 * Builds a read-only JNDI context from the environment: {@code ConnectionFactory} for the provider URL,
 * plus every {@code queue.*}, {@code topic.*} and {@code connectionFactory.*} entry.
 */
public class TernInitialContextFactory implements InitialContextFactory {
    public static final String QUEUE_PREFIX = "queue.";
    public static final String TOPIC_PREFIX = "topic.";
    public static final String FACTORY_PREFIX = "connectionFactory.";

    @Override
    public Context getInitialContext(Hashtable<?, ?> environment) throws NamingException {
        Hashtable<Object, Object> env = new Hashtable<>(environment);
        Object providerUrl = env.get(Context.PROVIDER_URL);
        String url = providerUrl == null ? TernConnectionFactory.DEFAULT_URL : providerUrl.toString();
        Map<String, Object> bindings = new HashMap<>();
        bindings.put("ConnectionFactory", factory(url, env));
        for (Map.Entry<Object, Object> e : env.entrySet()) {
            String key = e.getKey().toString();
            String value = e.getValue().toString();
            if (key.startsWith(QUEUE_PREFIX)) {
                bindings.put(key.substring(QUEUE_PREFIX.length()), new TernQueue(value));
            } else if (key.startsWith(TOPIC_PREFIX)) {
                bindings.put(key.substring(TOPIC_PREFIX.length()), new TernTopic(value));
            } else if (key.startsWith(FACTORY_PREFIX)) {
                bindings.put(key.substring(FACTORY_PREFIX.length()), factory(value, env));
            }
        }
        return new ReadOnlyContext(env, bindings);
    }

    private static TernConnectionFactory factory(String url, Hashtable<Object, Object> env) throws NamingException {
        try {
            TernConnectionFactory f = new TernConnectionFactory(url);
            Object principal = env.get(Context.SECURITY_PRINCIPAL);
            Object credentials = env.get(Context.SECURITY_CREDENTIALS);
            if (principal != null) {
                f.setUser(principal.toString());
            }
            if (credentials != null) {
                f.setPassword(credentials.toString());
            }
            return f;
        } catch (IllegalArgumentException e) {
            NamingException n = new NamingException("bad provider URL '" + url + "': " + e.getMessage());
            n.setRootCause(e);
            throw n;
        }
    }
}
