package io.tern.client;

import io.tern.client.impl.ClientConfig;
import io.tern.client.impl.ClientTls;
import io.tern.client.impl.ClientUrl;
import io.tern.client.impl.JmsErrors;
import io.tern.client.impl.TopologyHolder;
import io.tern.client.impl.Transport;
import io.tern.protocol.Deliver;
import io.tern.protocol.Notice;
import io.tern.protocol.Request;
import io.tern.protocol.Response;
import jakarta.jms.JMSException;

import java.util.function.IntConsumer;

/**
 * Administration of one node over the client protocol, for {@code tern drain}. An administration
 * connection is not moved away by the drain it asks for.
 */
public final class TernAdmin implements AutoCloseable {
    private final Transport transport;
    private final long timeoutMs;

    private TernAdmin(Transport transport, long timeoutMs) {
        this.transport = transport;
        this.timeoutMs = timeoutMs;
    }

    /**
     * Connects to the node at {@code uri}: {@code tern://host:port}, or {@code terns://host:port} with the
     * client URL's TLS options ({@code trust}, {@code cert}, {@code key}, ...).
     */
    public static TernAdmin connect(String uri, String user, String password, long timeoutMs) throws JMSException {
        ClientUrl url;
        ClientTls tls;
        try {
            url = ClientUrl.parse(uri);
            tls = ClientConfig.of(url, user, password, null).tls();
        } catch (IllegalArgumentException e) {
            throw JmsErrors.wrap("bad server address " + uri, e);
        }
        if (url.isMulticast() || url.servers().size() != 1) {
            throw new JMSException("not the address of one node (tern://host:port or terns://host:port): " + uri);
        }
        ClientUrl.HostPort hp = url.servers().get(0);
        Transport t = Transport.connect(hp.host(), hp.port(), tls, (int) Math.min(timeoutMs, 10_000), 10_000, 10_000,
                new TopologyHolder(),
                new Transport.Listener() {
                    @Override
                    public void onDeliver(Deliver deliver) {
                    }

                    @Override
                    public void onNotice(Notice notice) {
                    }

                    @Override
                    public void onClosed(Throwable cause) {
                    }
                });
        try {
            t.call(new Request.Hello(user, password, Request.Hello.ADMIN_CLIENT), timeoutMs);
        } catch (JMSException e) {
            t.close();
            throw e;
        }
        return new TernAdmin(t, timeoutMs);
    }

    /**
     * Drains the node {@code nodeName} (the one connected to) and waits until none of its client
     * connections is left or {@code waitMs} passes; {@code progress} hears the count left each time
     * it changes. Returns the count left (0: drained).
     */
    public int drain(String nodeName, long waitMs, IntConsumer progress) throws JMSException {
        long deadlineNs = System.nanoTime() + waitMs * 1_000_000L;
        int last = -1;
        while (true) {
            Response r = transport.call(new Request.Drain(nodeName), timeoutMs);
            int left = r instanceof Response.Drained d ? d.remaining() : -1;
            if (left != last) {
                progress.accept(left);
                last = left;
            }
            if (left <= 0 || System.nanoTime() - deadlineNs > 0) {
                return left;
            }
            try {
                Thread.sleep(200); // polls the node's count of client connections
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return left;
            }
        }
    }

    @Override
    public void close() {
        transport.close();
    }
}
