package io.tern.broker;

import io.tern.protocol.Frame;
import io.tern.protocol.Response;
import io.tern.protocol.ResponseFrame;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.awaitility.Awaitility.await;

/** A client's end of a connection in a test: keeps every frame the server writes, and closes as a transport does. */
final class RecordingSink implements FrameSink {
    final List<Frame> frames = new CopyOnWriteArrayList<>();
    volatile boolean closed;
    /** Told it is closed, as the transport tells it when its channel closes; null: nobody. */
    volatile ServerConnection connection;

    /** Set: the next write waits until it is counted down, holding up the connection's executor that writes. */
    volatile java.util.concurrent.CountDownLatch holdNextWrite;
    /** Counted down once a held write has begun to wait. */
    final java.util.concurrent.CountDownLatch holding = new java.util.concurrent.CountDownLatch(1);

    @Override
    public void write(Frame frame) {
        java.util.concurrent.CountDownLatch hold = holdNextWrite;
        if (hold != null) {
            holdNextWrite = null;
            holding.countDown();
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        frames.add(frame);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        closed = true;
        ServerConnection c = connection;
        if (c != null) {
            c.closed();
        }
    }

    /**
     * A client connection to {@code broker} writing here, its hello (request 1, connection key {@code key},
     * null: none) answered with a welcome.
     */
    ServerConnection connectTo(Broker broker, String key) {
        ServerConnection c = broker.connect(this);
        connection = c;
        c.handle(request(1, new io.tern.protocol.Request.Hello(null, null, "test", key, null, false)));
        org.assertj.core.api.Assertions.assertThat(answer(1)).isInstanceOf(Response.Welcome.class);
        return c;
    }

    /** Request {@code r} as the client sends it, with correlation id {@code correlation}. */
    static io.tern.protocol.RequestFrame request(long correlation, io.tern.protocol.Request r) {
        return new io.tern.protocol.RequestFrame(correlation, 0, r);
    }

    /** The deliveries written so far, in order. */
    List<io.tern.protocol.Deliver> deliveries() {
        return frames.stream().filter(f -> f instanceof io.tern.protocol.Deliver).map(f -> (io.tern.protocol.Deliver) f).toList();
    }

    /** The correlation ids of the requests answered so far, in the order of their answers. */
    List<Long> answered() {
        return frames.stream().filter(f -> f instanceof ResponseFrame).map(f -> ((ResponseFrame) f).correlationId()).toList();
    }

    /** Waits for the answer to request {@code correlation}. */
    Response answer(long correlation) {
        await().until(() -> answered().contains(correlation));
        return frames.stream().filter(f -> f instanceof ResponseFrame r && r.correlationId() == correlation)
                .map(f -> ((ResponseFrame) f).response()).findFirst().orElseThrow();
    }
}
