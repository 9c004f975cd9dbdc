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

    @Override
    public void write(Frame frame) {
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
