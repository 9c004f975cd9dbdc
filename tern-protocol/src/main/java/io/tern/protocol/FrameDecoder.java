package io.tern.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;

/**
 * Splits the stream at the 4-byte length prefix and decodes each body to a {@link Frame}.
 * The length is checked against {@code maxFrameSize} before a byte of the body is buffered;
 * an over-long frame fails with {@link ProtocolException} code {@link ErrorCode#FRAME_TOO_LONG}.
 */
public final class FrameDecoder extends LengthFieldBasedFrameDecoder {
    private final int maxFrameSize;

    public FrameDecoder(int maxFrameSize) {
        super(maxFrameSize + 4, 0, 4, 0, 4, true);
        if (maxFrameSize < 64) {
            throw new IllegalArgumentException("maxFrameSize must be >= 64: " + maxFrameSize);
        }
        this.maxFrameSize = maxFrameSize;
    }

    @Override
    protected Object decode(ChannelHandlerContext ctx, ByteBuf in) throws Exception {
        if (in.readableBytes() >= 4) {
            long length = in.getUnsignedInt(in.readerIndex());
            if (length > maxFrameSize) {
                throw new ProtocolException(ErrorCode.FRAME_TOO_LONG,
                        "frame of " + length + " bytes exceeds the maximum of " + maxFrameSize);
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
        try {
            return FrameCodec.decode(body);
        } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME, e.getMessage());
        } finally {
            body.release();
        }
    }
}
