package io.tern.it;

import io.tern.client.TernConnectionFactory;
import io.tern.client.jndi.TernInitialContextFactory;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.JMSConsumer;
import jakarta.jms.JMSContext;
import jakarta.jms.JMSProducer;
import jakarta.jms.Queue;
import jakarta.jms.Topic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import javax.naming.Context;
import javax.naming.InitialContext;
import javax.naming.NameNotFoundException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(60)
class SimplifiedApiAndJndiTest extends EmbeddedTernTest {

    @Test
    void jmsContextSendsAndReceivesBodiesDirectly() {
        try (JMSContext ctx = tern.factory().createContext()) {
            Queue q = ctx.createQueue("ctx");
            JMSProducer p = ctx.createProducer().setProperty("k", 5).setPriority(7);
            p.send(q, "text body");
            p.send(q, Map.of("a", 1));
            p.send(q, new byte[] {9, 8});
            JMSConsumer c = ctx.createConsumer(q);
            assertThat(c.receiveBody(String.class, 5000)).isEqualTo("text body");
            @SuppressWarnings("unchecked")
            Map<String, Object> map = c.receiveBody(Map.class, 5000);
            assertThat(map).containsEntry("a", 1);
            assertThat(c.receiveBody(byte[].class, 5000)).containsExactly(9, 8);
            assertThat(c.receiveNoWait()).isNull();
        }
    }

    @Test
    void contextsMadeFromAContextShareItsConnectionAndTransactionsWork() {
        try (JMSContext ctx = tern.factory().createContext(JMSContext.SESSION_TRANSACTED);
             JMSContext reader = ctx.createContext(JMSContext.AUTO_ACKNOWLEDGE)) {
            Queue q = ctx.createQueue("ctx-tx");
            ctx.createProducer().send(q, "committed later");
            JMSConsumer c = reader.createConsumer(q);
            assertThat(c.receiveNoWait()).isNull();
            ctx.commit();
            assertThat(c.receiveBody(String.class, 5000)).isEqualTo("committed later");
        }
    }

    @Test
    void durableConsumersThroughTheSimplifiedApi() {
        TernConnectionFactory f = tern.factory();
        f.setClientId("ctx-client");
        try (JMSContext ctx = f.createContext()) {
            Topic t = ctx.createTopic("ctx-topic");
            ctx.createDurableConsumer(t, "d").close();
            ctx.createProducer().send(t, "kept");
            assertThat(ctx.createDurableConsumer(t, "d").receiveBody(String.class, 5000)).isEqualTo("kept");
        }
    }

    @Test
    void jndiLooksUpFactoriesAndDestinationsByTheUsualConventions() throws Exception {
        Properties env = new Properties();
        env.put(Context.INITIAL_CONTEXT_FACTORY, TernInitialContextFactory.class.getName());
        env.put(Context.PROVIDER_URL, tern.url());
        env.put("queue.jndiOrders", "orders");
        env.put("topic.jndiNews", "news");
        env.put("connectionFactory.slow", tern.url() + "?prefetch=1");
        InitialContext jndi = new InitialContext(env);
        ConnectionFactory cf = (ConnectionFactory) jndi.lookup("ConnectionFactory");
        Queue orders = (Queue) jndi.lookup("jndiOrders");
        assertThat(orders.getQueueName()).isEqualTo("orders");
        assertThat(((Topic) jndi.lookup("jndiNews")).getTopicName()).isEqualTo("news");
        assertThat(((Queue) jndi.lookup("dynamicQueues/anything")).getQueueName()).isEqualTo("anything");
        assertThat(((Topic) jndi.lookup("dynamicTopics/t1")).getTopicName()).isEqualTo("t1");
        assertThat(jndi.lookup("slow")).isInstanceOf(TernConnectionFactory.class);
        assertThatThrownBy(() -> jndi.lookup("missing")).isInstanceOf(NameNotFoundException.class);
        try (JMSContext ctx = cf.createContext()) {
            ctx.createProducer().send(orders, "via jndi");
            assertThat(ctx.createConsumer(orders).receiveBody(String.class, 5000)).isEqualTo("via jndi");
        }
    }

    @Test
    void theConnectionFactoryIsSerializable() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(tern.factory());
        }
        TernConnectionFactory copy;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            copy = (TernConnectionFactory) in.readObject();
        }
        try (JMSContext ctx = copy.createContext()) {
            assertThat(ctx.getMetaData().getJMSProviderName()).isEqualTo("Tern");
        }
    }
}
