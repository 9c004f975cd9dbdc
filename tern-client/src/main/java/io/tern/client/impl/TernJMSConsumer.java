package io.tern.client.impl;

import jakarta.jms.JMSConsumer;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageFormatRuntimeException;
import jakarta.jms.MessageListener;

/** {@link JMSConsumer} over a {@link TernMessageConsumer}. */
final class TernJMSConsumer implements JMSConsumer {
    private final TernMessageConsumer consumer;

    TernJMSConsumer(TernMessageConsumer consumer) {
        this.consumer = consumer;
    }

    @Override public String getMessageSelector() { return TernJMSContext.unchecked(consumer::getMessageSelector); }
    @Override public MessageListener getMessageListener() { return TernJMSContext.unchecked(consumer::getMessageListener); }

    @Override
    public void setMessageListener(MessageListener listener) {
        TernJMSContext.unchecked(() -> {
            consumer.setMessageListener(listener);
            return null;
        });
    }

    @Override public Message receive() { return TernJMSContext.unchecked(consumer::receive); }
    @Override public Message receive(long timeout) { return TernJMSContext.unchecked(() -> consumer.receive(timeout)); }
    @Override public Message receiveNoWait() { return TernJMSContext.unchecked(consumer::receiveNoWait); }

    @Override
    public void close() {
        TernJMSContext.unchecked(() -> {
            consumer.close();
            return null;
        });
    }

    private <T> T body(Class<T> c, long timeoutMs, boolean noWait) {
        try {
            return consumer.receiveBody(c, timeoutMs, noWait);
        } catch (jakarta.jms.MessageFormatException e) {
            throw new MessageFormatRuntimeException(e.getMessage(), e.getErrorCode(), e);
        } catch (JMSException e) {
            throw JmsErrors.unchecked(e);
        }
    }

    @Override public <T> T receiveBody(Class<T> c) { return body(c, 0, false); }
    @Override public <T> T receiveBody(Class<T> c, long timeout) { return body(c, timeout, false); }
    @Override public <T> T receiveBodyNoWait(Class<T> c) { return body(c, 0, true); }
}
