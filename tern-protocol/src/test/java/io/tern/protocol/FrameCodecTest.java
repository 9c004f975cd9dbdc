package io.tern.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(10)
class FrameCodecTest {

    static WireMessage message() {
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("b", true);
        props.put("i", 7);
        props.put("l", 8L);
        props.put("d", 1.5d);
        props.put("s", "text");
        return new WireMessage("ID:1", WireMessage.BODY_TEXT, DestinationName.queue("q"), DestinationName.topic("t"),
                "corr", "type", true, 9, 100, 200, 300, props, "body".getBytes(StandardCharsets.UTF_8));
    }

    private static Frame roundTrip(Frame frame) {
        EmbeddedChannel ch = new EmbeddedChannel(FrameEncoder.INSTANCE, new FrameDecoder(1 << 20));
        assertThat(ch.writeOutbound(frame)).isTrue();
        ByteBuf bytes = ch.readOutbound();
        assertThat(ch.writeInbound(bytes)).isTrue();
        Frame decoded = ch.readInbound();
        ch.finishAndReleaseAll();
        return decoded;
    }

    @Test
    void aFrameWithAMessageIsEncodedIntoABufferItFitsIn() {
        WireMessage m = message();
        WireMessage large = new WireMessage(m.messageId(), WireMessage.BODY_BYTES, m.destination(), m.replyTo(), m.correlationId(),
                m.type(), true, 4, 100, 200, 300, m.properties(), new byte[64 * 1024]);
        for (Frame f : List.of(new RequestFrame(1, 0, new Request.Send(1, message())), new RequestFrame(1, 0, new Request.Send(1, large)),
                new Deliver(2, 3, 1, message()), new Deliver(2, 3, 1, large), new RequestFrame(1, 0, new Request.Commit(1)))) {
            EmbeddedChannel ch = new EmbeddedChannel(FrameEncoder.INSTANCE);
            assertThat(ch.writeOutbound(f)).isTrue();
            ByteBuf bytes = ch.readOutbound();
            // Sized by the hint at first: had the body made it grow, its capacity would be Netty's next size up.
            assertThat(FrameCodec.sizeHint(f) + 4).as("%s", f).isGreaterThanOrEqualTo(bytes.readableBytes());
            assertThat(bytes.capacity()).as("%s", f).isEqualTo(FrameCodec.sizeHint(f) + 4);
            ch.finishAndReleaseAll();
            bytes.release();
        }
    }

    @Test
    void everyRequestSurvivesARoundTrip() {
        List<Request> requests = List.of(
                new Request.Hello("u", "p", "c"), new Request.SetClientId("id"), new Request.CreateSession(3, 2),
                new Request.CloseSession(3, new long[] {1, 2}),
                new Request.CreateConsumer(1, 2, DestinationName.topic("t"), "a = 1", true, "sub", Request.SUB_DURABLE, 10),
                new Request.CreateConsumer(1, 3, DestinationName.queue("q"), null, false, null, Request.SUB_NONE, 10, 1 << 20),
                new Request.Credit(3, 5, 65_536),
                new Request.CloseConsumer(5, new long[] {9}), new Request.Unsubscribe("sub"),
                new Request.Send(1, message()), new Request.Ack(1, new long[] {4, 5}),
                new Request.Recover(1, new long[0]), new Request.Commit(1), new Request.Rollback(1, new long[] {1}),
                new Request.Browse(DestinationName.queue("q"), null, 5, 100),
                new Request.CreateTemp(DestinationName.Kind.TEMP_QUEUE), new Request.DeleteTemp(DestinationName.queue("x")),
                new Request.Credit(3, 50), new Request.Release(3, new long[] {11, 12}), new Request.Pull(3), new Request.Ping(),
                new Request.Hello("u", "p", "c", "key-1", "node-x", false),
                new Request.Hello("u", "p", "c", "key-2", "node-y", true), new Request.Drain("node-2"),
                new Request.RecoverSession(4, List.of(new Request.HeldMessage(7, "ID:1", Request.Held.HELD),
                        new Request.HeldMessage(8, "ID:2", Request.Held.UNSEEN))));
        for (Request r : requests) {
            RequestFrame decoded = (RequestFrame) roundTrip(new RequestFrame(42, 0x1234_5678_9abc_def0L, r));
            assertThat(decoded.correlationId()).isEqualTo(42);
            assertThat(decoded.topologyDigest()).isEqualTo(0x1234_5678_9abc_def0L);
            assertThat(decoded.request()).usingRecursiveComparison().isEqualTo(r);
        }
    }

    @Test
    void responsesAndDeliveriesSurviveARoundTrip() {
        ClusterTopology topology = ClusterTopology.single(new NodeInfo("n1", "node-1", "m1", List.of("tern://h:1"), "http://h:2"));
        List<Frame> frames = List.of(
                new ResponseFrame(1, null, Response.OK),
                new ResponseFrame(2, topology, new Response.Error(ErrorCode.INVALID_SELECTOR, "bad")),
                new ResponseFrame(3, null, new Response.Welcome("s", "n", 1024)),
                new ResponseFrame(4, null, new Response.BrowseBatch(List.of(new Response.Browsed(7, message())), true)),
                new ResponseFrame(5, null, new Response.TempCreated(new DestinationName(DestinationName.Kind.TEMP_TOPIC, "x"))),
                new ResponseFrame(6, null, new Response.Redirect("tern://h:3", "h:3 owns node-x now")),
                new ResponseFrame(7, null, new Response.Recovered(new long[] {5, 0, 6})),
                new ResponseFrame(8, null, new Response.Drained(3)),
                new ResponseFrame(9, new ClusterTopology(topology.members(), topology.failover(), false, false,
                        List.of("node-2", "node-3")), Response.OK), // a minority names the members it misses
                new Deliver(1, 2, 3, message()));
        for (Frame f : frames) {
            assertThat(roundTrip(f)).usingRecursiveComparison().isEqualTo(f);
        }
    }

    @Test
    void aStableTopologyCostsEightBytesPerRequestAndOnePerResponse() {
        ByteBuf withDigest = Unpooled.buffer();
        FrameCodec.encode(new RequestFrame(1, 99, new Request.Ping()), withDigest);
        ByteBuf response = Unpooled.buffer();
        FrameCodec.encode(new ResponseFrame(1, null, Response.OK), response);
        // kind + correlation + digest + type; kind + correlation + flag + type
        assertThat(withDigest.readableBytes()).isEqualTo(1 + 8 + 8 + 1);
        assertThat(response.readableBytes()).isEqualTo(1 + 8 + 1 + 1);
    }

    @Test
    void theDigestChangesWithTheContentAndOnlyWithIt() {
        NodeInfo a = new NodeInfo("n1", "a", "m1", List.of("tern://h:1"), "");
        NodeInfo b = new NodeInfo("n2", "b", "m2", List.of("tern://h:2"), "");
        ClusterTopology one = new ClusterTopology(List.of(a, b), Map.of("n1", List.of(new FailoverInfo("n2", "x", List.of()))), true);
        ClusterTopology same = new ClusterTopology(List.of(a, b), Map.of("n1", List.of(new FailoverInfo("n2", "x", List.of()))), true);
        ClusterTopology otherMap = new ClusterTopology(List.of(a, b), Map.of("n2", List.of(new FailoverInfo("n1", "x", List.of()))), true);
        assertThat(one.digest()).isEqualTo(same.digest()).isNotEqualTo(ClusterTopology.UNKNOWN_DIGEST);
        assertThat(one.digest()).isNotEqualTo(otherMap.digest());
        assertThat(one.digest()).isNotEqualTo(ClusterTopology.single(a).digest());
    }

    @Test
    void aNegativeByteWindowIsRefused() {
        ByteBuf body = Unpooled.buffer();
        FrameCodec.encode(new RequestFrame(1, 0, new Request.Credit(3, 5, 1)), body);
        body.setInt(body.writerIndex() - 4, -1);
        assertThatThrownBy(() -> FrameCodec.decode(body)).isInstanceOf(ProtocolException.class).hasMessageContaining("negative");
    }

    @Test
    void anOverLongFrameFailsOnItsLengthAlone() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1024));
        ByteBuf header = Unpooled.buffer().writeInt(Integer.MAX_VALUE);
        assertThatThrownBy(() -> ch.writeInbound(header))
                .isInstanceOf(DecoderException.class)
                .cause().isInstanceOf(ProtocolException.class)
                .satisfies(e -> assertThat(((ProtocolException) e).code()).isEqualTo(ErrorCode.FRAME_TOO_LONG));
    }

    @Test
    void forgedLengthsInsideAFrameAreRejectedWithoutAllocating() {
        ByteBuf body = Unpooled.buffer();
        body.writeByte(FrameCodec.KIND_DELIVER).writeLong(1).writeLong(2).writeInt(1);
        body.writeInt(Integer.MAX_VALUE); // message id claims 2 GiB
        assertThatThrownBy(() -> FrameCodec.decode(body)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("exceeds");
        ByteBuf count = Unpooled.buffer();
        count.writeByte(FrameCodec.KIND_REQUEST).writeLong(1).writeLong(0).writeByte(9).writeInt(1).writeInt(1_000_000_000);
        assertThatThrownBy(() -> FrameCodec.decode(count)).isInstanceOf(ProtocolException.class);
    }

    @Test
    void garbageAndTruncatedFramesAreMalformed() {
        for (byte[] garbage : List.of(new byte[] {77}, new byte[] {1, 0, 0}, new byte[] {2, 0, 0, 0, 0, 0, 0, 0, 1, 7},
                "hello world, not a frame".getBytes(StandardCharsets.US_ASCII))) {
            assertThatThrownBy(() -> FrameCodec.decode(Unpooled.wrappedBuffer(garbage)))
                    .isInstanceOf(ProtocolException.class)
                    .satisfies(e -> assertThat(((ProtocolException) e).code()).isEqualTo(ErrorCode.MALFORMED_FRAME));
        }
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1024));
        ByteBuf stray = Unpooled.buffer().writeInt(3).writeByte(FrameCodec.KIND_REQUEST).writeShort(0);
        assertThatThrownBy(() -> ch.writeInbound(stray)).isInstanceOf(DecoderException.class);
    }
}
