package io.tern.it;

import io.tern.protocol.DestinationName;
import io.tern.protocol.ErrorCode;
import io.tern.protocol.Frame;
import io.tern.protocol.Handshake;
import io.tern.protocol.Request;
import io.tern.protocol.RequestFrame;
import io.tern.protocol.Response;
import io.tern.protocol.ResponseFrame;
import io.tern.protocol.WireMessage;
import io.tern.server.EmbeddedTern;
import io.tern.testkit.RawClient;
import jakarta.jms.Connection;
import jakarta.jms.JMSContext;
import jakarta.jms.JMSSecurityException;
import jakarta.jms.Message;
import jakarta.jms.Session;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Each bad input gets a clear error or a clean-up, and the server keeps serving its other clients. */
@Timeout(60)
class BadInputTest {
    private EmbeddedTern tern;

    @BeforeEach
    void start() {
        tern = EmbeddedTern.start(b -> b.maxFrameSize(64 * 1024).users(Map.of("alice", "secret")));
    }

    @AfterEach
    void stop() {
        tern.close();
    }

    private JMSContext context() {
        return tern.factory("user=alice&password=secret").createContext();
    }

    /** The server still answers a real client. */
    private void assertStillServing() {
        try (JMSContext ctx = context()) {
            ctx.createProducer().send(ctx.createQueue("alive"), "still here");
            assertThat(ctx.createConsumer(ctx.createQueue("alive")).receiveBody(String.class, 5000)).isEqualTo("still here");
        }
    }

    private static Response.Error errorFrame(RawClient raw) throws Exception {
        Frame f = raw.readFrame();
        assertThat(f).isInstanceOf(ResponseFrame.class);
        Response r = ((ResponseFrame) f).response();
        assertThat(r).isInstanceOf(Response.Error.class);
        return (Response.Error) r;
    }

    @Test
    void garbageBytesGetAnErrorAndACloseWhileOthersAreServed() throws Exception {
        try (RawClient raw = new RawClient(tern.port())) {
            raw.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(errorFrame(raw).code()).isEqualTo(ErrorCode.BAD_MAGIC);
            assertThat(raw.isClosedByServer()).isTrue();
        }
        assertStillServing();
    }

    @Test
    void anOversizedFrameIsRefusedBeforeItsBodyIsRead() throws Exception {
        try (RawClient raw = new RawClient(tern.port()).handshake()) {
            raw.send(1, 0, new Request.Hello("alice", "secret", "raw"));
            assertThat(((ResponseFrame) raw.readFrame()).response()).isInstanceOf(Response.Welcome.class);
            // Announce a 1 GiB frame and send nothing more: the server must answer from the length alone.
            raw.write(ByteBuffer.allocate(4).putInt(1 << 30).array());
            Response.Error e = errorFrame(raw);
            assertThat(e.code()).isEqualTo(ErrorCode.FRAME_TOO_LONG);
            assertThat(e.message()).contains("1073741824").contains("65536");
            assertThat(raw.isClosedByServer()).isTrue();
        }
        try (RawClient raw = new RawClient(tern.port()).handshake()) {
            // Before the HELLO is accepted, only what a HELLO needs: 20 KiB is refused from its length.
            raw.write(ByteBuffer.allocate(4).putInt(20 * 1024).array());
            Response.Error e = errorFrame(raw);
            assertThat(e.code()).isEqualTo(ErrorCode.FRAME_TOO_LONG);
            assertThat(e.message()).contains("exceeds the maximum of 16384 before the HELLO is accepted");
            assertThat(raw.isClosedByServer()).isTrue();
        }
        assertStillServing();
    }

    @Test
    void aWrongProtocolVersionIsRefusedWithBothVersionsNamed() throws Exception {
        try (RawClient raw = new RawClient(tern.port())) {
            raw.write(ByteBuffer.allocate(5).putInt(Handshake.MAGIC).put((byte) 99).array());
            byte[] reply = raw.readBytes(Handshake.REPLY_LENGTH);
            assertThat(reply[4]).isEqualTo(Handshake.VERSION);
            assertThat(reply[5]).isEqualTo(Handshake.REJECTED);
            Response.Error e = errorFrame(raw);
            assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED_VERSION);
            assertThat(e.message()).contains("99");
            assertThat(raw.isClosedByServer()).isTrue();
        }
        assertStillServing();
    }

    @Test
    void aMalformedFrameBodyIsRefused() throws Exception {
        try (RawClient raw = new RawClient(tern.port()).handshake()) {
            // kind=request, correlation, digest, then request type 8 (send) whose message claims a huge string.
            ByteBuffer body = ByteBuffer.allocate(1 + 8 + 8 + 1 + 4 + 4);
            body.put((byte) 1).putLong(1).putLong(0).put((byte) 8).putInt(1).putInt(Integer.MAX_VALUE);
            raw.write(ByteBuffer.allocate(4 + body.capacity()).putInt(body.capacity()).put(body.array()).array());
            Response.Error e = errorFrame(raw);
            assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED_FRAME);
            assertThat(raw.isClosedByServer()).isTrue();
        }
        assertStillServing();
    }

    @Test
    void anOversizedMessageIsRefusedByTheClientAndTheConnectionCarriesOn() throws Exception {
        try (JMSContext ctx = context()) {
            jakarta.jms.Queue q = ctx.createQueue("big");
            assertThatThrownBy(() -> ctx.createProducer().send(q, new byte[128 * 1024]))
                    .isInstanceOf(jakarta.jms.ResourceAllocationRuntimeException.class)
                    .hasMessageContaining("exceeds the server's maximum frame size of 65536");
            ctx.createProducer().send(q, new byte[1000]);
            assertThat(ctx.createConsumer(q).receiveBody(byte[].class, 5000)).hasSize(1000);
            await().until(() -> tern.broker().messageCount("big") == 0);
        }
    }

    @Test
    void oneWayRequestsAreAnsweredOnlyWhenTheyFail() throws Exception {
        try (RawClient raw = new RawClient(tern.port()).handshake()) {
            raw.send(1, 0, new Request.Hello("alice", "secret", "raw"));
            assertThat(((ResponseFrame) raw.readFrame()).response()).isInstanceOf(Response.Welcome.class);
            raw.send(2, 0, new Request.CreateSession(1, Request.AUTO_ACKNOWLEDGE));
            assertThat(((ResponseFrame) raw.readFrame()).correlationId()).isEqualTo(2);
            raw.send(RequestFrame.ONE_WAY, 0, new Request.Ack(1, new long[] {12345}));
            raw.send(RequestFrame.ONE_WAY, 0, new Request.Ack(99, new long[] {1}));
            raw.send(3, 0, new Request.Ping());
            ResponseFrame failure = (ResponseFrame) raw.readFrame();
            assertThat(failure.correlationId()).isEqualTo(RequestFrame.ONE_WAY);
            assertThat(((Response.Error) failure.response()).code()).isEqualTo(ErrorCode.UNKNOWN_SESSION);
            assertThat(((ResponseFrame) raw.readFrame()).correlationId()).as("the good one-way ack got no answer").isEqualTo(3);
        }
    }

    @Test
    void requestsBeforeHelloAreRefused() throws Exception {
        try (RawClient raw = new RawClient(tern.port()).handshake()) {
            raw.send(1, 0, new Request.CreateSession(1, Request.AUTO_ACKNOWLEDGE));
            Response.Error e = errorFrame(raw);
            assertThat(e.code()).isEqualTo(ErrorCode.ILLEGAL_STATE);
        }
        assertStillServing();
    }

    @Test
    void aWrongPasswordIsRefusedClearly() {
        assertThatThrownBy(() -> tern.factory("user=alice&password=wrong").createConnection())
                .isInstanceOf(JMSSecurityException.class)
                .hasMessageContaining("wrong user name or password");
        assertThatThrownBy(() -> tern.factory().createConnection()).isInstanceOf(JMSSecurityException.class);
        assertStillServing();
    }

    @Test
    void aClientThatVanishesMidTransactionLosesNothingAndLeavesNothingHalfDone() throws Exception {
        try (JMSContext ctx = context()) {
            ctx.createProducer().send(ctx.createQueue("vanish"), "committed before");
        }
        try (RawClient raw = new RawClient(tern.port()).handshake()) {
            raw.send(1, 0, new Request.Hello("alice", "secret", "raw"));
            raw.send(2, 0, new Request.CreateSession(1, Request.TRANSACTED));
            raw.send(3, 0, new Request.CreateConsumer(1, 1, DestinationName.queue("vanish"), null, false, null,
                    Request.SUB_NONE, 10));
            WireMessage half = new WireMessage("ID:half", WireMessage.BODY_TEXT, DestinationName.queue("vanish"), null, null,
                    null, true, 4, 0, 0, 0, Map.of(), "never committed".getBytes(StandardCharsets.UTF_8));
            raw.send(4, 0, new Request.Send(1, half));
            boolean delivered = false;
            while (!delivered) {
                Frame f = raw.readFrame();
                if (f instanceof io.tern.protocol.Deliver d) {
                    raw.send(5, 0, new Request.Ack(1, new long[] {d.deliveryId()}));
                    delivered = true;
                }
            }
            await().until(() -> tern.broker().connectionCount() == 2 || tern.broker().connectionCount() == 1);
        } // the socket closes here: no commit, no goodbye
        await().until(() -> tern.broker().connectionCount() == 0);
        try (Connection c = tern.factory("user=alice&password=secret").createConnection()) {
            c.start();
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            var consumer = s.createConsumer(s.createQueue("vanish"));
            Message m = consumer.receive(5000);
            assertThat(m.getBody(String.class)).isEqualTo("committed before");
            assertThat(m.getJMSRedelivered()).isTrue();
            assertThat(consumer.receive(300)).as("the uncommitted send was discarded").isNull();
        }
    }
}
