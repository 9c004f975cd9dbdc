package io.tern.client;

import io.tern.client.impl.ClientConfig;
import io.tern.client.impl.ClientUrl;
import io.tern.client.impl.JmsErrors;
import io.tern.client.impl.TernConnection;
import io.tern.client.impl.TernJMSContext;
import io.tern.client.impl.TopologyHolder;
import io.tern.client.jndi.TernObjectFactory;
import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.JMSContext;
import jakarta.jms.JMSException;
import jakarta.jms.QueueConnection;
import jakarta.jms.QueueConnectionFactory;
import jakarta.jms.TopicConnection;
import jakarta.jms.TopicConnectionFactory;

import javax.naming.Reference;
import javax.naming.Referenceable;
import javax.naming.StringRefAddr;
import java.io.Serializable;

/**
 * The entry point of Tern's Jakarta Messaging provider.
 *
 * <pre>{@code
 * ConnectionFactory cf = new TernConnectionFactory("tern://127.0.0.1:5445");
 * try (JMSContext ctx = cf.createContext()) {
 *     ctx.createProducer().send(ctx.createQueue("orders"), "hello");
 * }
 * }</pre>
 *
 * URL options are listed in {@link ClientUrl}. All connections made by one factory share one view of
 * the cluster, so a change learned on one connection serves them all.
 */
public class TernConnectionFactory implements ConnectionFactory, QueueConnectionFactory, TopicConnectionFactory,
        Serializable, Referenceable {
    private static final long serialVersionUID = 1L;
    public static final String DEFAULT_URL = "tern://127.0.0.1:5445";

    private String url;
    private String user;
    private String password;
    private String clientId;
    private transient volatile TopologyHolder topology;
    private transient volatile FailoverListener failoverListener;
    private transient volatile io.tern.client.impl.ClientEvents meters = io.tern.client.impl.ClientEvents.NONE;
    private transient volatile ConnectionStrategy<ClientUrl.HostPort> strategy;

    public TernConnectionFactory() {
        this(DEFAULT_URL);
    }

    public TernConnectionFactory(String url) {
        setUrl(url);
    }

    public String getUrl() {
        return url;
    }

    /** Sets the server URL, e.g. {@code tern://h1:5445,h2:5445?prefetch=100}; checked now. */
    public void setUrl(String url) {
        ClientUrl parsed = ClientUrl.parse(url);
        ConnectionStrategy.named(parsed.option("strategy", null));
        this.url = url;
        this.topology = null;
        this.strategy = null;
    }

    private ConnectionStrategy<ClientUrl.HostPort> strategy() {
        ConnectionStrategy<ClientUrl.HostPort> s = strategy;
        if (s == null) {
            synchronized (this) {
                s = strategy;
                if (s == null) {
                    s = ConnectionStrategy.named(ClientUrl.parse(url).option("strategy", null));
                    strategy = s;
                }
            }
        }
        return s;
    }

    public void setUser(String user) {
        this.user = user;
    }

    public void setPassword(String password) {
        this.password = password;
    }

    /** A client id for every connection of this factory (needed for unshared durable subscriptions). */
    public void setClientId(String clientId) {
        this.clientId = clientId;
    }

    private TopologyHolder topology() {
        TopologyHolder t = topology;
        if (t == null) {
            synchronized (this) {
                t = topology;
                if (t == null) {
                    t = new TopologyHolder();
                    topology = t;
                }
            }
        }
        return t;
    }

    /**
     * Every connection made from this factory from now on tells {@code listener} when it moves
     * between servers (null: nobody).
     */
    public void setFailoverListener(FailoverListener listener) {
        this.failoverListener = listener;
    }

    /**
     * The client URIs of the servers this factory's connections have heard of (the cluster list the
     * servers send), in the servers' order; empty before the first connection.
     */
    public java.util.List<String> knownServers() {
        io.tern.protocol.ClusterTopology t = topology().topology();
        if (t == null) {
            return java.util.List.of();
        }
        return t.members().stream().flatMap(m -> m.clientUris().stream()).toList();
    }

    /**
     * The cluster as the servers last described it to this factory's connections: members,
     * failover map, machine-level redundancy, quorum; null before the first connection.
     */
    public io.tern.protocol.ClusterTopology clusterTopology() {
        return topology().topology();
    }

    /**
     * Counts this factory's connections from now on in {@code registry} (Micrometer, which the
     * application then has on its class path): {@code tern.client.connections.opened} and
     * {@code .closed}, {@code tern.client.failovers} by step (started, completed, failed) and whether
     * planned, and {@code tern.client.sends.in.doubt}. Null stops counting.
     */
    public void setMeterRegistry(io.micrometer.core.instrument.MeterRegistry registry) {
        this.meters = registry == null ? io.tern.client.impl.ClientEvents.NONE : new ClientMeters(registry);
    }

    public FailoverListener getFailoverListener() {
        return failoverListener;
    }

    private TernConnection connect(String u, String p) throws JMSException {
        try {
            return new TernConnection(ClientConfig.of(ClientUrl.parse(url), u, p, clientId), topology(), strategy(),
                    failoverListener, meters != null ? meters : io.tern.client.impl.ClientEvents.NONE); // null once deserialized
        } catch (IllegalArgumentException e) {
            throw JmsErrors.wrap("bad client URL " + url, e);
        }
    }

    @Override
    public Connection createConnection() throws JMSException {
        return connect(user, password);
    }

    @Override
    public Connection createConnection(String userName, String pass) throws JMSException {
        return connect(userName, pass);
    }

    @Override
    public QueueConnection createQueueConnection() throws JMSException {
        return createQueueConnection(user, password);
    }

    @Override
    public QueueConnection createQueueConnection(String userName, String pass) throws JMSException {
        io.tern.client.impl.TernConnection c = connect(userName, pass);
        c.queueDomainOnly();
        return c;
    }

    @Override
    public TopicConnection createTopicConnection() throws JMSException {
        return connect(user, password);
    }

    @Override
    public TopicConnection createTopicConnection(String userName, String pass) throws JMSException {
        return connect(userName, pass);
    }

    @Override
    public JMSContext createContext() {
        return createContext(user, password, JMSContext.AUTO_ACKNOWLEDGE);
    }

    @Override
    public JMSContext createContext(int sessionMode) {
        return createContext(user, password, sessionMode);
    }

    @Override
    public JMSContext createContext(String userName, String pass) {
        return createContext(userName, pass, JMSContext.AUTO_ACKNOWLEDGE);
    }

    @Override
    public JMSContext createContext(String userName, String pass, int sessionMode) {
        TernJMSContext.checkMode(sessionMode);
        try {
            return TernJMSContext.open(connect(userName, pass), sessionMode);
        } catch (JMSException e) {
            throw JmsErrors.unchecked(e);
        }
    }

    @Override
    public Reference getReference() {
        Reference ref = new Reference(TernConnectionFactory.class.getName(), TernObjectFactory.class.getName(), null);
        ref.add(new StringRefAddr("url", url));
        return ref;
    }

    @Override
    public String toString() {
        return "TernConnectionFactory[" + url + "]";
    }
}
