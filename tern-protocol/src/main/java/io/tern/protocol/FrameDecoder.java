package io.tern.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;

/**
 * Splits the stream at the 4-byte length prefix and decodes each body to a {@link Frame}.
 * The length is checked against the limit before a byte of the body is buffered; an over-long frame
 * fails with {@link ProtocolException} code {@link ErrorCode#FRAME_TOO_LONG}. A server's decoder starts
 * with the limit of a HELLO ({@link #HELLO_LIMIT}) and is opened to {@code maxFrameSize} once the client
 * is welcome ({@link #open()}), so that a stranger cannot make the server buffer a large frame; with a
 * {@link FrameBudget}, a large frame waits for its share of the server's memory before it is read, and
 * must then arrive within {@link #LARGE_FRAME_TIMEOUT_MS}, or the connection is closed.
 */
public final class FrameDecoder extends LengthFieldBasedFrameDecoder {
    /** The largest frame a server reads before the client's HELLO is accepted. */
    public static final int HELLO_LIMIT = 16 * 1024;

    private final int maxFrameSize;
    private volatile int limit;
    private final FrameBudget budget;
    /** The length reserved from the budget for the frame being received; 0 if none. Event loop only. */
    private long reserved;
    /** The length this connection waits to reserve from the budget; 0 if it does not wait. Event loop only. */
    private long waitingFor;
    /** A large frame did not arrive in time: the connection is closing and nothing more is decoded. */
    private boolean timedOut;
    /** Closes the connection if the reserved frame has not arrived in time; null if none. */
    private java.util.concurrent.Future<?> deadline;
    /**
     * A large frame must arrive within this long once it holds its share of the budget: 30 s (the system
     * property {@code tern.largeFrameTimeoutMs} shortens it for tests).
     */
    public static final long LARGE_FRAME_TIMEOUT_MS = Long.getLong("tern.largeFrameTimeoutMs", 30_000);

    /** A decoder open to frames of up to {@code maxFrameSize} bytes (a client's). */
    public FrameDecoder(int maxFrameSize) {
        this(maxFrameSize, maxFrameSize, null);
    }

    /** A server's decoder: frames up to {@code firstLimit} until {@link #open()}, large ones within {@code budget} (may be null). */
    public FrameDecoder(int maxFrameSize, int firstLimit, FrameBudget budget) {
        super(maxFrameSize + 4, 0, 4, 0, 4, true);
        if (maxFrameSize < 64) {
            throw new IllegalArgumentException("maxFrameSize must be >= 64: " + maxFrameSize);
        }
        this.maxFrameSize = maxFrameSize;
        this.limit = Math.min(firstLimit, maxFrameSize);
        this.budget = budget;
    }

    /** Lets frames up to the maximum size through: the client is welcome. */
    public void open() {
        limit = maxFrameSize;
    }

    @Override
    protected Object decode(ChannelHandlerContext ctx, ByteBuf in) throws Exception {
        if (timedOut) {
            in.skipBytes(in.readableBytes());
            return null;
        }
        if (in.readableBytes() >= 4) {
            long length = in.getUnsignedInt(in.readerIndex());
            int max = limit;
            if (length > max) {
                throw new ProtocolException(ErrorCode.FRAME_TOO_LONG, "frame of " + length + " bytes exceeds the maximum of "
                        + max + (max < maxFrameSize ? " before the HELLO is accepted" : ""));
            }
            if (waitingFor > 0) {
                return null; // waits for its turn in the budget, reading nothing more
            }
            if (budget != null && reserved == 0 && length > FrameBudget.SMALL_FRAME && in.readableBytes() < length + 4) {
                if (!budget.reserve(length, () -> ctx.executor().execute(() -> granted(ctx, length)))) {
                    waitingFor = length;
                    ctx.channel().config().setAutoRead(false);
                    return null;
                }
                holding(ctx, length);
            }
        }
        ByteBuf body;
        try {
            body = (ByteBuf) super.decode(ctx, in);
        } catch (TooLongFrameException e) {
            throw new ProtocolException(ErrorCode.FRAME_TOO_LONG, e.getMessage());
        }
        if (body == null) {
            return null;
        }
        giveBack();
        try {
            return FrameCodec.decode(body);
        } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME, e.getMessage());
        } finally {
            body.release();
        }
    }

    /** The budget has room for this connection's frame now: read on, and decode what was buffered. */
    private void granted(ChannelHandlerContext ctx, long length) {
        waitingFor = 0;
        if (ctx.isRemoved() || !ctx.channel().isActive()) {
            budget.release(length);
            return;
        }
        holding(ctx, length);
        ctx.channel().config().setAutoRead(true);
        try {
            channelRead(ctx, Unpooled.EMPTY_BUFFER); // decodes what came before the wait, if it is whole now
            channelReadComplete(ctx);
        } catch (Exception e) {
            ctx.fireExceptionCaught(e);
        }
        ctx.read();
    }

    /** Holds {@code length} of the budget for the frame being received, until it arrives or its time runs out. */
    private void holding(ChannelHandlerContext ctx, long length) {
        reserved = length;
        deadline = ctx.executor().schedule(() -> {
            if (reserved == length && ctx.channel().isActive()) {
                giveBack(); // at once: a peer that reads nothing would otherwise keep it until its connection's TTL
                timedOut = true; // and reads nothing more: the connection is closing
                ctx.channel().config().setAutoRead(false);
                ctx.fireExceptionCaught(new ProtocolException(ErrorCode.RESOURCE_EXHAUSTED, "a frame of " + length
                        + " bytes did not arrive within " + LARGE_FRAME_TIMEOUT_MS + " ms"));
            }
        }, LARGE_FRAME_TIMEOUT_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** While this connection waits for the budget, nothing more is read (the decoder would ask for more). */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        if (waitingFor > 0 || timedOut) {
            ctx.fireChannelReadComplete();
            return;
        }
        super.channelReadComplete(ctx);
    }

    private void giveBack() {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
        if (reserved > 0) {
            long r = reserved;
            reserved = 0;
            budget.release(r);
        }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        giveBack(); // the connection closed with a large frame half received
    }
}
