package io.tern.client.impl;

import io.tern.client.TernQueue;
import io.tern.client.message.TernMessage;
import io.tern.protocol.Request;
import io.tern.protocol.Response;
import jakarta.jms.IllegalStateException;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.Queue;
import jakarta.jms.QueueBrowser;

import java.util.ArrayDeque;
import java.util.Enumeration;
import java.util.NoSuchElementException;

/** Looks at a queue's messages without consuming them, fetching them from the server in pages. */
final class TernQueueBrowser implements QueueBrowser {
    private static final int PAGE = 200;

    private final TernSession session;
    private final TernQueue queue;
    private final String selector;
    private boolean closed;

    TernQueueBrowser(TernSession session, TernQueue queue, String selector) {
        this.session = session;
        this.queue = queue;
        this.selector = selector;
    }

    /** Fails now for a bad selector, as the specification asks of createBrowser. */
    void validate() throws JMSException {
        session.call(new Request.Browse(queue.toName(), selector, Long.MAX_VALUE, 1));
    }

    @Override
    public Queue getQueue() throws JMSException {
        checkOpen();
        return queue;
    }

    @Override
    public String getMessageSelector() throws JMSException {
        checkOpen();
        return selector;
    }

    @Override
    public Enumeration<Message> getEnumeration() throws JMSException {
        checkOpen();
        return new Pages();
    }

    @Override
    public void close() {
        closed = true;
    }

    private void checkOpen() throws JMSException {
        if (closed) {
            throw new IllegalStateException("the browser is closed");
        }
        session.checkOpen();
    }

    private final class Pages implements Enumeration<Message> {
        private final ArrayDeque<Response.Browsed> page = new ArrayDeque<>();
        private long after = 0;
        private boolean more = true;
        /** Sequences are one server's numbering: after a failover, browse the new server's queue from its start. */
        private long gen = session.connection().generation();

        @Override
        public boolean hasMoreElements() {
            if (page.isEmpty() && more && !closed) {
                fetch();
            }
            return !page.isEmpty();
        }

        private void fetch() {
            try {
                long now = session.connection().generation();
                if (now != gen) {
                    gen = now;
                    after = 0;
                }
                Response.BrowseBatch b = (Response.BrowseBatch) session.call(new Request.Browse(queue.toName(), selector, after, PAGE));
                page.addAll(b.messages());
                more = b.more();
                if (!b.messages().isEmpty()) {
                    after = b.messages().get(b.messages().size() - 1).sequence();
                }
            } catch (JMSException e) {
                more = false;
                throw JmsErrors.unchecked(e);
            }
        }

        @Override
        public Message nextElement() {
            if (!hasMoreElements()) {
                throw new NoSuchElementException();
            }
            try {
                Response.Browsed b = page.poll();
                TernMessage m = TernMessage.fromWire(b.message(), 1, null);
                m.setJMSDestination(queue);
                return m;
            } catch (JMSException e) {
                throw JmsErrors.unchecked(e);
            }
        }
    }
}
