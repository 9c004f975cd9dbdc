package io.tern.broker;

import io.tern.broker.store.MessageStore;
import io.tern.broker.store.StoreBatch;
import io.tern.broker.store.StoreException;
import io.tern.broker.store.TransientStore;
import io.tern.protocol.DestinationName;
import io.tern.protocol.ErrorCode;
import io.tern.protocol.Request;
import io.tern.protocol.RequestFrame;
import io.tern.protocol.Response;
import io.tern.protocol.WireMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A store that cannot write (a full disk) gives the producer a clear error and loses nothing. */
@Timeout(30)
class StoreFailureTest {

    /** Stores nothing, and fails every commit that carries a message while the disk is "full". */
    private static final class FullDiskStore implements MessageStore {
        private final TransientStore delegate = new TransientStore();
        volatile boolean full;

        @Override
        public void recover(Recovery recovery) {
        }

        @Override
        public CompletableFuture<Void> commit(StoreBatch batch) {
            boolean carriesMessages = batch.ops().stream().anyMatch(op -> op instanceof StoreBatch.AddMessage);
            if (full && carriesMessages) {
                return CompletableFuture.failedFuture(new StoreException("No space left on device", null));
            }
            return delegate.commit(batch);
        }

        @Override
        public boolean isDurable() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    private static WireMessage persistent(String id) {
        return new WireMessage(id, WireMessage.BODY_NONE, DestinationName.queue("disk"), null, null, null, true, 4, 0, 0, 0,
                Map.of(WireMessage.DUPLICATE_ID, id), null);
    }

    @Test
    void aSendThatCannotBeStoredFailsClearlyAndIsNotDelivered() {
        FullDiskStore store = new FullDiskStore();
        try (Broker broker = new Broker(BrokerConfig.builder().build(), store, "node")) {
            broker.start();
            RecordingSink sink = new RecordingSink();
            ServerConnection c = broker.connect(sink);
            c.handle(new RequestFrame(1, 0, new Request.Hello(null, null, "test")));
            c.handle(new RequestFrame(2, 0, new Request.CreateSession(1, Request.AUTO_ACKNOWLEDGE)));
            c.handle(new RequestFrame(3, 0, new Request.Send(1, persistent("ID:kept"))));
            assertThat(sink.answer(3)).isEqualTo(Response.OK);

            store.full = true;
            c.handle(new RequestFrame(4, 0, new Request.Send(1, persistent("ID:refused"))));
            Response refused = sink.answer(4);
            assertThat(refused).isInstanceOf(Response.Error.class);
            assertThat(((Response.Error) refused).code()).isEqualTo(ErrorCode.STORE_FAILURE);
            assertThat(((Response.Error) refused).message()).contains("No space left on device");
            assertThat(broker.messageCount("disk")).as("the refused message is not in the queue").isEqualTo(1);

            store.full = false;
            // The same duplicate id again: the failed attempt must not have been remembered as sent.
            c.handle(new RequestFrame(5, 0, new Request.Send(1, persistent("ID:refused"))));
            assertThat(sink.answer(5)).isEqualTo(Response.OK);
            assertThat(broker.messageCount("disk")).isEqualTo(2);
            assertThat(broker.duplicatesDropped()).isZero();
        }
    }

    /** Holds each commit that carries a message until the test completes it. */
    private static final class HeldStore implements MessageStore {
        private final TransientStore delegate = new TransientStore();
        final BlockingQueue<CompletableFuture<Void>> held = new LinkedBlockingQueue<>();

        @Override
        public void recover(Recovery recovery) {
        }

        @Override
        public CompletableFuture<Void> commit(StoreBatch batch) {
            if (batch.ops().stream().noneMatch(op -> op instanceof StoreBatch.AddMessage)) {
                return delegate.commit(batch);
            }
            CompletableFuture<Void> commit = new CompletableFuture<>();
            held.add(commit);
            return commit;
        }

        @Override
        public boolean isDurable() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    /**
     * A client resends a message (it failed over back to this node) while the commit of its first
     * send is still on its way: the resend is a duplicate, but it is answered with that commit's
     * outcome. Answered "stored" at once, a commit that then fails would lose the only copy.
     */
    @Test
    void aResendWhileItsFirstSendIsStillBeingStoredGetsThatSendsOutcome() throws InterruptedException {
        HeldStore store = new HeldStore();
        try (Broker broker = new Broker(BrokerConfig.builder().build(), store, "node")) {
            broker.start();
            RecordingSink first = new RecordingSink();
            ServerConnection c1 = broker.connect(first);
            c1.handle(new RequestFrame(1, 0, new Request.Hello(null, null, "test")));
            c1.handle(new RequestFrame(2, 0, new Request.CreateSession(1, Request.AUTO_ACKNOWLEDGE)));
            RecordingSink second = new RecordingSink();
            ServerConnection c2 = broker.connect(second);
            c2.handle(new RequestFrame(1, 0, new Request.Hello(null, null, "test")));
            c2.handle(new RequestFrame(2, 0, new Request.CreateSession(1, Request.AUTO_ACKNOWLEDGE)));

            // Fails: the resend fails with it, and a later resend is stored.
            c1.handle(new RequestFrame(3, 0, new Request.Send(1, persistent("ID:failing"))));
            CompletableFuture<Void> failing = store.held.poll(10, TimeUnit.SECONDS);
            assertThat(failing).as("the first send's commit").isNotNull();
            c2.handle(new RequestFrame(3, 0, new Request.Send(1, persistent("ID:failing"))));
            org.awaitility.Awaitility.await().until(() -> broker.duplicatesDropped() == 1);
            assertThat(second.answered()).as("the resend is not answered before its first send is stored").doesNotContain(3L);
            failing.completeExceptionally(new StoreException("No space left on device", null));
            assertThat(first.answer(3)).isInstanceOf(Response.Error.class);
            assertThat(second.answer(3)).as("the resend of a send that failed").isInstanceOf(Response.Error.class);
            assertThat(((Response.Error) second.answer(3)).message()).contains("No space left on device");
            c2.handle(new RequestFrame(4, 0, new Request.Send(1, persistent("ID:failing"))));
            store.held.poll(10, TimeUnit.SECONDS).complete(null);
            assertThat(second.answer(4)).isEqualTo(Response.OK);

            // Succeeds: the resend is answered "stored" once it is, and is not stored twice.
            c1.handle(new RequestFrame(5, 0, new Request.Send(1, persistent("ID:stored"))));
            CompletableFuture<Void> storing = store.held.poll(10, TimeUnit.SECONDS);
            c2.handle(new RequestFrame(5, 0, new Request.Send(1, persistent("ID:stored"))));
            org.awaitility.Awaitility.await().until(() -> broker.duplicatesDropped() == 2);
            assertThat(second.answered()).doesNotContain(5L);
            storing.complete(null);
            assertThat(first.answer(5)).isEqualTo(Response.OK);
            assertThat(second.answer(5)).isEqualTo(Response.OK);
            assertThat(broker.messageCount("disk")).as("each message once").isEqualTo(2);
        }
    }
}
