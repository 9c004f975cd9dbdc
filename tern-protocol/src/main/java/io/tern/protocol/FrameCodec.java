package io.tern.protocol;

import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.List;

/**
 * Encodes and decodes frame bodies (the length prefix is the pipeline's job, see {@link FrameEncoder}
 * and {@link FrameDecoder}).
 *
 * <pre>
 * frame    := length:i32 body                    (length = bytes of body, at most the max frame size)
 * body     := 1 correlation:i64 digest:i64 request      -- client to server
 *           | 2 correlation:i64 flag:u8 [topology] response   -- flag 1: a topology follows
 *           | 3 consumer:i64 delivery:i64 deliveryCount:i32 message
 *           | 4 noticeKind:u8 target:string              -- server to client, unasked (1 = lame duck)
 * request  := type:u8 fields                     (types: REQ_* below, fields in declaration order)
 * response := type:u8 fields                     (types: RES_* below)
 * message  := id:string bodyType:u8 destination replyTo correlationId:string type:string
 *             persistent:bool priority:u8 timestamp:i64 expiration:i64 deliveryTime:i64 properties:map body:bytes
 * </pre>
 */
public final class FrameCodec {
    static final byte KIND_REQUEST = 1;
    static final byte KIND_RESPONSE = 2;
    static final byte KIND_DELIVER = 3;
    static final byte KIND_NOTICE = 4;

    private FrameCodec() {
    }

    public static void encode(Frame frame, ByteBuf out) {
        if (frame instanceof RequestFrame r) {
            out.writeByte(KIND_REQUEST).writeLong(r.correlationId()).writeLong(r.topologyDigest());
            writeRequest(r.request(), out);
        } else if (frame instanceof ResponseFrame r) {
            out.writeByte(KIND_RESPONSE).writeLong(r.correlationId());
            if (r.topology() == null) {
                out.writeByte(0);
            } else {
                out.writeByte(1);
                TopologyCodec.write(r.topology(), out);
            }
            writeResponse(r.response(), out);
        } else if (frame instanceof Deliver d) {
            out.writeByte(KIND_DELIVER).writeLong(d.consumerId()).writeLong(d.deliveryId())
                    .writeInt(d.deliveryCount());
            writeMessage(d.message(), out);
        } else if (frame instanceof Notice n) {
            out.writeByte(KIND_NOTICE).writeByte(n.kind().ordinal() + 1);
            Wire.writeString(out, n.target());
        }
    }

    /**
     * About the bytes {@link #encode} writes for {@code frame}, at least: a frame that carries a message
     * is sized by it ({@link WireMessage#estimatedSize} and room for its ids and names), any other as a
     * small frame.
     */
    static int sizeHint(Frame frame) {
        WireMessage m = frame instanceof Deliver d ? d.message()
                : frame instanceof RequestFrame r && r.request() instanceof Request.Send s ? s.message() : null;
        return m == null ? SMALL_FRAME : SMALL_FRAME + m.estimatedSize();
    }

    /** Room for a frame's fields other than a message: Netty's default first size for an encoder's buffer. */
    private static final int SMALL_FRAME = 256;

    /** Decodes one whole frame body; every byte must be consumed. */
    public static Frame decode(ByteBuf in) {
        Wire.need(in, 1);
        byte kind = in.readByte();
        Frame frame = switch (kind) {
            case KIND_REQUEST -> {
                Wire.need(in, 16);
                yield new RequestFrame(in.readLong(), in.readLong(), readRequest(in));
            }
            case KIND_RESPONSE -> {
                Wire.need(in, 9);
                long correlation = in.readLong();
                byte flag = in.readByte();
                ClusterTopology topology = switch (flag) {
                    case 0 -> null;
                    case 1 -> TopologyCodec.read(in);
                    default -> throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "bad topology flag " + flag);
                };
                yield new ResponseFrame(correlation, topology, readResponse(in));
            }
            case KIND_DELIVER -> {
                Wire.need(in, 20);
                yield new Deliver(in.readLong(), in.readLong(), in.readInt(), readMessage(in));
            }
            case KIND_NOTICE -> {
                Wire.need(in, 1);
                int notice = in.readByte();
                if (notice < 1 || notice > Notice.Kind.values().length) {
                    throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "unknown notice kind " + notice);
                }
                yield new Notice(Notice.Kind.values()[notice - 1], Wire.readString(in));
            }
            default -> throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "unknown frame kind " + kind);
        };
        if (in.isReadable()) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME, in.readableBytes() + " stray bytes after frame");
        }
        return frame;
    }

    private static final byte REQ_HELLO = 1, REQ_SET_CLIENT_ID = 2, REQ_CREATE_SESSION = 3, REQ_CLOSE_SESSION = 4,
            REQ_CREATE_CONSUMER = 5, REQ_CLOSE_CONSUMER = 6, REQ_UNSUBSCRIBE = 7, REQ_SEND = 8, REQ_ACK = 9,
            REQ_RECOVER = 10, REQ_COMMIT = 11, REQ_ROLLBACK = 12, REQ_BROWSE = 13, REQ_CREATE_TEMP = 14,
            REQ_DELETE_TEMP = 15, REQ_CREDIT = 16, REQ_PULL = 17, REQ_PING = 18,
            REQ_RECOVER_SESSION = 19, REQ_DRAIN = 20, REQ_RELEASE = 21;

    private static void writeRequest(Request request, ByteBuf out) {
        if (request instanceof Request.Hello r) {
            out.writeByte(REQ_HELLO);
            Wire.writeString(out, r.user());
            Wire.writeString(out, r.password());
            Wire.writeString(out, r.clientName());
            Wire.writeString(out, r.connectionKey());
            Wire.writeString(out, r.fromNode());
            if (r.holdsNothing()) {
                out.writeBoolean(true);
            }
        } else if (request instanceof Request.SetClientId r) {
            out.writeByte(REQ_SET_CLIENT_ID);
            Wire.writeString(out, r.clientId());
        } else if (request instanceof Request.CreateSession r) {
            out.writeByte(REQ_CREATE_SESSION).writeInt(r.sessionId()).writeByte(r.ackMode());
        } else if (request instanceof Request.CloseSession r) {
            out.writeByte(REQ_CLOSE_SESSION).writeInt(r.sessionId());
            Wire.writeLongs(out, r.seen());
        } else if (request instanceof Request.CreateConsumer r) {
            out.writeByte(REQ_CREATE_CONSUMER).writeInt(r.sessionId()).writeLong(r.consumerId());
            Wire.writeDestination(out, r.destination());
            Wire.writeString(out, r.selector());
            out.writeBoolean(r.noLocal());
            Wire.writeString(out, r.subscriptionName());
            out.writeByte(r.subscriptionKind()).writeInt(r.prefetch());
            if (r.windowBytes() != 0) {
                out.writeInt(r.windowBytes());
            }
        } else if (request instanceof Request.CloseConsumer r) {
            out.writeByte(REQ_CLOSE_CONSUMER).writeLong(r.consumerId());
            Wire.writeLongs(out, r.seen());
        } else if (request instanceof Request.Unsubscribe r) {
            out.writeByte(REQ_UNSUBSCRIBE);
            Wire.writeString(out, r.subscriptionName());
        } else if (request instanceof Request.Send r) {
            out.writeByte(REQ_SEND).writeInt(r.sessionId());
            writeMessage(r.message(), out);
        } else if (request instanceof Request.Ack r) {
            out.writeByte(REQ_ACK).writeInt(r.sessionId());
            Wire.writeLongs(out, r.deliveryIds());
        } else if (request instanceof Request.Recover r) {
            out.writeByte(REQ_RECOVER).writeInt(r.sessionId());
            Wire.writeLongs(out, r.seen());
        } else if (request instanceof Request.Commit r) {
            out.writeByte(REQ_COMMIT).writeInt(r.sessionId());
        } else if (request instanceof Request.Rollback r) {
            out.writeByte(REQ_ROLLBACK).writeInt(r.sessionId());
            Wire.writeLongs(out, r.seen());
        } else if (request instanceof Request.Browse r) {
            out.writeByte(REQ_BROWSE);
            Wire.writeDestination(out, r.queue());
            Wire.writeString(out, r.selector());
            out.writeLong(r.afterSequence()).writeInt(r.max());
        } else if (request instanceof Request.CreateTemp r) {
            out.writeByte(REQ_CREATE_TEMP).writeByte(r.kind().ordinal());
            Wire.writeString(out, r.name());
        } else if (request instanceof Request.DeleteTemp r) {
            out.writeByte(REQ_DELETE_TEMP);
            Wire.writeDestination(out, r.destination());
        } else if (request instanceof Request.Credit r) {
            out.writeByte(REQ_CREDIT).writeLong(r.consumerId()).writeInt(r.messages());
            if (r.bytes() != 0) {
                out.writeInt(r.bytes());
            }
        } else if (request instanceof Request.Release r) {
            out.writeByte(REQ_RELEASE).writeLong(r.consumerId());
            Wire.writeLongs(out, r.deliveryIds());
        } else if (request instanceof Request.Pull r) {
            out.writeByte(REQ_PULL).writeLong(r.consumerId());
        } else if (request instanceof Request.Ping r) {
            out.writeByte(REQ_PING);
        } else if (request instanceof Request.Drain r) {
            out.writeByte(REQ_DRAIN);
            Wire.writeString(out, r.nodeName());
        } else if (request instanceof Request.RecoverSession r) {
            out.writeByte(REQ_RECOVER_SESSION).writeInt(r.sessionId()).writeInt(r.messages().size());
            for (Request.HeldMessage m : r.messages()) {
                out.writeLong(m.consumerId());
                Wire.writeString(out, m.messageId());
                out.writeByte(m.state().ordinal());
            }
        }
    }

    /** A field a newer client appends: 0 if the frame ends before it. */
    private static int optionalInt(ByteBuf in) {
        if (!in.isReadable()) {
            return 0;
        }
        Wire.need(in, 4);
        int value = in.readInt();
        if (value < 0) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "a negative byte count: " + value);
        }
        return value;
    }

    private static Request readRequest(ByteBuf in) {
        Wire.need(in, 1);
        byte type = in.readByte();
        return switch (type) {
            case REQ_HELLO -> new Request.Hello(Wire.readString(in), Wire.readString(in), Wire.readString(in),
                    Wire.readString(in), Wire.readString(in), in.isReadable() && in.readBoolean());
            case REQ_SET_CLIENT_ID -> new Request.SetClientId(requiredString(in, "client id"));
            case REQ_CREATE_SESSION -> {
                Wire.need(in, 5);
                yield new Request.CreateSession(in.readInt(), in.readByte());
            }
            case REQ_CLOSE_SESSION -> new Request.CloseSession(readInt(in), Wire.readLongs(in));
            case REQ_CREATE_CONSUMER -> {
                Wire.need(in, 12);
                int session = in.readInt();
                long consumer = in.readLong();
                DestinationName destination = requiredDestination(in);
                String selector = Wire.readString(in);
                Wire.need(in, 1);
                boolean noLocal = in.readBoolean();
                String subscription = Wire.readString(in);
                Wire.need(in, 5);
                byte kind = in.readByte();
                int prefetch = in.readInt();
                yield new Request.CreateConsumer(session, consumer, destination, selector, noLocal, subscription,
                        kind, prefetch, optionalInt(in));
            }
            case REQ_CLOSE_CONSUMER -> new Request.CloseConsumer(readLong(in), Wire.readLongs(in));
            case REQ_UNSUBSCRIBE -> new Request.Unsubscribe(requiredString(in, "subscription name"));
            case REQ_SEND -> new Request.Send(readInt(in), readMessage(in));
            case REQ_ACK -> new Request.Ack(readInt(in), Wire.readLongs(in));
            case REQ_RECOVER -> new Request.Recover(readInt(in), Wire.readLongs(in));
            case REQ_COMMIT -> new Request.Commit(readInt(in));
            case REQ_ROLLBACK -> new Request.Rollback(readInt(in), Wire.readLongs(in));
            case REQ_BROWSE -> {
                DestinationName queue = requiredDestination(in);
                String selector = Wire.readString(in);
                Wire.need(in, 12);
                yield new Request.Browse(queue, selector, in.readLong(), in.readInt());
            }
            case REQ_CREATE_TEMP -> {
                Wire.need(in, 1);
                int kind = in.readByte();
                if (kind != DestinationName.Kind.TEMP_QUEUE.ordinal() && kind != DestinationName.Kind.TEMP_TOPIC.ordinal()) {
                    throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "not a temporary kind: " + kind);
                }
                yield new Request.CreateTemp(DestinationName.Kind.values()[kind], Wire.readString(in));
            }
            case REQ_DELETE_TEMP -> new Request.DeleteTemp(requiredDestination(in));
            case REQ_CREDIT -> {
                Wire.need(in, 12);
                yield new Request.Credit(in.readLong(), in.readInt(), optionalInt(in));
            }
            case REQ_RELEASE -> new Request.Release(readLong(in), Wire.readLongs(in));
            case REQ_PULL -> new Request.Pull(readLong(in));
            case REQ_PING -> new Request.Ping();
            case REQ_DRAIN -> new Request.Drain(requiredString(in, "node name"));
            case REQ_RECOVER_SESSION -> {
                int session = readInt(in);
                int count = Wire.readCount(in, 14);
                List<Request.HeldMessage> held = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    long consumer = readLong(in);
                    String messageId = requiredString(in, "message id");
                    Wire.need(in, 1);
                    int state = in.readByte();
                    if (state < 0 || state >= Request.Held.values().length) {
                        throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "unknown held state " + state);
                    }
                    held.add(new Request.HeldMessage(consumer, messageId, Request.Held.values()[state]));
                }
                yield new Request.RecoverSession(session, held);
            }
            default -> throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "unknown request type " + type);
        };
    }

    private static final byte RES_OK = 1, RES_ERROR = 2, RES_WELCOME = 3, RES_BROWSE_BATCH = 4, RES_TEMP_CREATED = 5,
            RES_REDIRECT = 6, RES_RECOVERED = 7, RES_DRAINED = 8;

    private static void writeResponse(Response response, ByteBuf out) {
        if (response instanceof Response.Ok r) {
            out.writeByte(RES_OK);
        } else if (response instanceof Response.Error r) {
            out.writeByte(RES_ERROR).writeShort(r.code().code());
            Wire.writeString(out, r.message());
        } else if (response instanceof Response.Welcome r) {
            out.writeByte(RES_WELCOME);
            Wire.writeString(out, r.serverName());
            Wire.writeString(out, r.nodeId());
            out.writeInt(r.maxFrameSize());
        } else if (response instanceof Response.BrowseBatch r) {
            out.writeByte(RES_BROWSE_BATCH).writeBoolean(r.more()).writeInt(r.messages().size());
            for (Response.Browsed b : r.messages()) {
                out.writeLong(b.sequence());
                writeMessage(b.message(), out);
            }
        } else if (response instanceof Response.TempCreated r) {
            out.writeByte(RES_TEMP_CREATED);
            Wire.writeDestination(out, r.destination());
        } else if (response instanceof Response.Redirect r) {
            out.writeByte(RES_REDIRECT);
            Wire.writeString(out, r.uri());
            Wire.writeString(out, r.reason());
        } else if (response instanceof Response.Drained r) {
            out.writeByte(RES_DRAINED).writeInt(r.remaining());
        } else if (response instanceof Response.Recovered r) {
            out.writeByte(RES_RECOVERED);
            Wire.writeLongs(out, r.deliveryIds());
        }
    }

    private static Response readResponse(ByteBuf in) {
        Wire.need(in, 1);
        byte type = in.readByte();
        return switch (type) {
            case RES_OK -> Response.OK;
            case RES_ERROR -> {
                Wire.need(in, 2);
                yield new Response.Error(ErrorCode.of(in.readShort()), Wire.readString(in));
            }
            case RES_WELCOME -> new Response.Welcome(Wire.readString(in), Wire.readString(in), readInt(in));
            case RES_BROWSE_BATCH -> {
                Wire.need(in, 1);
                boolean more = in.readBoolean();
                int count = Wire.readCount(in, 40);
                List<Response.Browsed> list = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    list.add(new Response.Browsed(readLong(in), readMessage(in)));
                }
                yield new Response.BrowseBatch(list, more);
            }
            case RES_TEMP_CREATED -> new Response.TempCreated(requiredDestination(in));
            case RES_REDIRECT -> new Response.Redirect(requiredString(in, "redirect uri"), Wire.readString(in));
            case RES_RECOVERED -> new Response.Recovered(Wire.readLongs(in));
            case RES_DRAINED -> new Response.Drained(readInt(in));
            default -> throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "unknown response type " + type);
        };
    }

    public static void writeMessage(WireMessage m, ByteBuf out) {
        Wire.writeString(out, m.messageId());
        out.writeByte(m.bodyType());
        Wire.writeDestination(out, m.destination());
        Wire.writeDestination(out, m.replyTo());
        Wire.writeString(out, m.correlationId());
        Wire.writeString(out, m.type());
        out.writeBoolean(m.persistent()).writeByte(m.priority());
        out.writeLong(m.timestamp()).writeLong(m.expiration()).writeLong(m.deliveryTime());
        Wire.writeMap(out, m.properties());
        Wire.writeBytes(out, m.body());
    }

    public static WireMessage readMessage(ByteBuf in) {
        String id = Wire.readString(in);
        Wire.need(in, 1);
        byte bodyType = in.readByte();
        if (bodyType < WireMessage.BODY_NONE || bodyType > WireMessage.BODY_STREAM) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "unknown body type " + bodyType);
        }
        DestinationName destination = requiredDestination(in);
        DestinationName replyTo = Wire.readDestination(in);
        String correlationId = Wire.readString(in);
        String type = Wire.readString(in);
        Wire.need(in, 26);
        boolean persistent = in.readBoolean();
        int priority = in.readByte();
        if (priority < 0 || priority > 9) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "priority out of range: " + priority);
        }
        long timestamp = in.readLong();
        long expiration = in.readLong();
        long deliveryTime = in.readLong();
        var properties = Wire.readMap(in);
        for (Object v : properties.values()) {
            if (v instanceof byte[] || v instanceof Character) {
                throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "property of a type JMS does not allow");
            }
        }
        return new WireMessage(id, bodyType, destination, replyTo, correlationId, type, persistent, priority,
                timestamp, expiration, deliveryTime, properties, Wire.readBytes(in));
    }

    private static DestinationName requiredDestination(ByteBuf in) {
        DestinationName d = Wire.readDestination(in);
        if (d == null) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "missing destination");
        }
        return d;
    }

    private static String requiredString(ByteBuf in, String what) {
        String s = Wire.readString(in);
        if (s == null) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "missing " + what);
        }
        return s;
    }

    private static int readInt(ByteBuf in) {
        Wire.need(in, 4);
        return in.readInt();
    }

    private static long readLong(ByteBuf in) {
        Wire.need(in, 8);
        return in.readLong();
    }
}
