package io.tern.client.impl;

import io.tern.client.TernDestination;
import io.tern.client.TernQueue;
import io.tern.client.TernTopic;
import io.tern.client.message.TernBytesMessage;
import io.tern.client.message.TernMapMessage;
import io.tern.client.message.TernMessage;
import io.tern.client.message.TernObjectMessage;
import io.tern.client.message.TernStreamMessage;
import io.tern.client.message.TernTextMessage;
import io.tern.protocol.Request;
import jakarta.jms.BytesMessage;
import jakarta.jms.Destination;
import jakarta.jms.IllegalStateException;
import jakarta.jms.InvalidDestinationException;
import jakarta.jms.JMSException;
import jakarta.jms.MapMessage;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.ObjectMessage;
import jakarta.jms.Queue;
import jakarta.jms.QueueBrowser;
import jakarta.jms.QueueReceiver;
import jakarta.jms.QueueSender;
import jakarta.jms.QueueSession;
import jakarta.jms.Session;
import jakarta.jms.StreamMessage;
import jakarta.jms.TemporaryQueue;
import jakarta.jms.TemporaryTopic;
import jakarta.jms.TextMessage;
import jakarta.jms.Topic;
import jakarta.jms.TopicPublisher;
import jakarta.jms.TopicSession;
import jakarta.jms.TopicSubscriber;

import java.io.Serializable;

/**
 * The factory methods of a JMS session, over the three session interfaces: messages, destinations,
 * the many ways to name a consumer or a subscription, browsers and temporary destinations, with the
 * checks the specification asks of each (a closed session, the domain of a QueueSession or
 * TopicSession, a subscription's name). They end in the few operations {@link TernSession} provides.
 */
abstract class SessionFactories implements Session, QueueSession, TopicSession {

    /** The session these factories serve. */
    abstract TernSession session();

    abstract TernConnection connection();

    abstract void checkOpen() throws JMSException;

    abstract void checkNotClosed() throws IllegalStateException;

    /** {@code method} belongs to the {@code methodDomain} domain only: refused on a session of the other one. */
    abstract void checkDomain(String methodDomain, String method) throws IllegalStateException;

    /** A consumer of {@code destination}, created on the server ({@code subscription}: a subscription's name, or null). */
    abstract TernMessageConsumer consumer(Destination destination, String selector, boolean noLocal, String subscription,
                                          byte kind) throws JMSException;

    @Override public BytesMessage createBytesMessage() throws JMSException { checkNotClosed(); return new TernBytesMessage(); }
    @Override public MapMessage createMapMessage() throws JMSException { checkNotClosed(); return new TernMapMessage(); }
    @Override public Message createMessage() throws JMSException { checkNotClosed(); return new TernMessage(); }
    @Override public ObjectMessage createObjectMessage() throws JMSException { checkNotClosed(); return new TernObjectMessage(); }
    @Override public StreamMessage createStreamMessage() throws JMSException { checkNotClosed(); return new TernStreamMessage(); }
    @Override public TextMessage createTextMessage() throws JMSException { checkNotClosed(); return new TernTextMessage(); }

    @Override
    public ObjectMessage createObjectMessage(Serializable object) throws JMSException {
        ObjectMessage m = createObjectMessage();
        m.setObject(object);
        return m;
    }

    @Override
    public TextMessage createTextMessage(String text) throws JMSException {
        TextMessage m = createTextMessage();
        m.setText(text);
        return m;
    }

    @Override
    public QueueSender createSender(Queue queue) throws JMSException {
        return (QueueSender) createProducer(queue);
    }

    @Override
    public TopicPublisher createPublisher(Topic topic) throws JMSException {
        return (TopicPublisher) createProducer(topic);
    }

    @Override
    public MessageConsumer createConsumer(Destination destination) throws JMSException {
        return consumer(destination, null, false, null, Request.SUB_NONE);
    }

    @Override
    public MessageConsumer createConsumer(Destination destination, String selector) throws JMSException {
        return consumer(destination, selector, false, null, Request.SUB_NONE);
    }

    @Override
    public MessageConsumer createConsumer(Destination destination, String selector, boolean noLocal) throws JMSException {
        return consumer(destination, selector, noLocal, null, Request.SUB_NONE);
    }

    @Override
    public QueueReceiver createReceiver(Queue queue) throws JMSException {
        return consumer(queue, null, false, null, Request.SUB_NONE);
    }

    @Override
    public QueueReceiver createReceiver(Queue queue, String selector) throws JMSException {
        return consumer(queue, selector, false, null, Request.SUB_NONE);
    }

    @Override
    public TopicSubscriber createSubscriber(Topic topic) throws JMSException {
        return consumer(topic, null, false, null, Request.SUB_NONE);
    }

    @Override
    public TopicSubscriber createSubscriber(Topic topic, String selector, boolean noLocal) throws JMSException {
        return consumer(topic, selector, noLocal, null, Request.SUB_NONE);
    }

    /** Checked after the session's state: a closed session says so first (specification 6.1.4). */
    private void checkSubscription(String method, String name) throws JMSException {
        checkOpen();
        checkDomain("topic", method);
        if (name == null || name.isEmpty()) {
            throw new InvalidDestinationException("subscription name must not be null or empty");
        }
    }

    private static Topic checkTopic(Topic topic) throws InvalidDestinationException {
        if (topic == null) {
            throw new InvalidDestinationException("topic must not be null");
        }
        return topic;
    }

    @Override
    public MessageConsumer createSharedConsumer(Topic topic, String name) throws JMSException {
        return createSharedConsumer(topic, name, null);
    }

    @Override
    public MessageConsumer createSharedConsumer(Topic topic, String name, String selector) throws JMSException {
        checkSubscription("createSharedConsumer", name);
        return consumer(checkTopic(topic), selector, false, name, Request.SUB_SHARED);
    }

    @Override
    public TopicSubscriber createDurableSubscriber(Topic topic, String name) throws JMSException {
        return createDurableSubscriber(topic, name, null, false);
    }

    @Override
    public TopicSubscriber createDurableSubscriber(Topic topic, String name, String selector, boolean noLocal) throws JMSException {
        checkSubscription("createDurableSubscriber", name);
        return consumer(checkTopic(topic), selector, noLocal, name, Request.SUB_DURABLE);
    }

    @Override
    public MessageConsumer createDurableConsumer(Topic topic, String name) throws JMSException {
        return createDurableSubscriber(topic, name);
    }

    @Override
    public MessageConsumer createDurableConsumer(Topic topic, String name, String selector, boolean noLocal) throws JMSException {
        return createDurableSubscriber(topic, name, selector, noLocal);
    }

    @Override
    public MessageConsumer createSharedDurableConsumer(Topic topic, String name) throws JMSException {
        return createSharedDurableConsumer(topic, name, null);
    }

    @Override
    public MessageConsumer createSharedDurableConsumer(Topic topic, String name, String selector) throws JMSException {
        checkSubscription("createSharedDurableConsumer", name);
        return consumer(checkTopic(topic), selector, false, name, Request.SUB_SHARED_DURABLE);
    }

    @Override
    public void unsubscribe(String name) throws JMSException {
        checkSubscription("unsubscribe", name);
        connection().call(new Request.Unsubscribe(name));
    }

    @Override
    public Queue createQueue(String name) throws JMSException {
        checkNotClosed();
        checkDomain("queue", "createQueue");
        return destination(() -> new TernQueue(name));
    }

    @Override
    public Topic createTopic(String name) throws JMSException {
        checkNotClosed();
        checkDomain("topic", "createTopic");
        return destination(() -> new TernTopic(name));
    }

    @Override
    public QueueBrowser createBrowser(Queue queue) throws JMSException {
        return createBrowser(queue, null);
    }

    @Override
    public QueueBrowser createBrowser(Queue queue, String selector) throws JMSException {
        checkOpen();
        checkDomain("queue", "createBrowser");
        if (queue == null) {
            throw new InvalidDestinationException("browser queue must not be null");
        }
        TernQueueBrowser b = new TernQueueBrowser(session(), (TernQueue) TernDestination.from(queue), selector);
        b.validate();
        return b;
    }

    @Override
    public TemporaryQueue createTemporaryQueue() throws JMSException {
        checkOpen();
        checkDomain("queue", "createTemporaryQueue");
        return connection().createTemporaryQueue();
    }

    @Override
    public TemporaryTopic createTemporaryTopic() throws JMSException {
        checkOpen();
        checkDomain("topic", "createTemporaryTopic");
        return connection().createTemporaryTopic();
    }

    /** A destination object; a bad name is the JMSException the API names, not an IllegalArgumentException. */
    private static <T> T destination(java.util.function.Supplier<T> make) throws JMSException {
        try {
            return make.get();
        } catch (IllegalArgumentException e) {
            throw new InvalidDestinationException(e.getMessage());
        }
    }
}
