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
import java.util.concurrent.CompletableFuture;

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
}
