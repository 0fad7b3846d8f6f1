package dev.ballast.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/**
 * Splits the client's byte stream into packets: 3-byte little-endian length, 1-byte sequence id, payload; a payload of
 * exactly 0xFFFFFF bytes continues in the next packet. A logical packet larger than {@code maxPacketBytes} is not
 * buffered: the decoder emits {@link TooLarge} and drops the rest of the connection's input.
 */
final class PacketDecoder extends ByteToMessageDecoder {

    static final int MAX_CHUNK = 0xFFFFFF;

    /** The client sent a packet beyond the limit. */
    record TooLarge(long length) {
    }

    private final int maxPacketBytes;
    private CompositeByteBuf pending;
    private long pendingLength;
    private int firstSequence;
    private boolean discarding;

    PacketDecoder(int maxPacketBytes) {
        this.maxPacketBytes = maxPacketBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (discarding) {
            in.skipBytes(in.readableBytes());
            return;
        }
        while (in.readableBytes() >= 4) {
            int length = in.getUnsignedMediumLE(in.readerIndex());
            int sequence = in.getUnsignedByte(in.readerIndex() + 3);
            if (pendingLength + length > maxPacketBytes) {
                discarding = true;
                release();
                in.skipBytes(in.readableBytes());
                out.add(new TooLarge(pendingLength + length));
                return;
            }
            if (in.readableBytes() < 4 + length) {
                return;
            }
            in.skipBytes(4);
            ByteBuf chunk = in.readRetainedSlice(length);
            if (pending == null && length < MAX_CHUNK) {
                out.add(new Packet(sequence, chunk));
                continue;
            }
            if (pending == null) {
                pending = ctx.alloc().compositeBuffer(Integer.MAX_VALUE);
                pendingLength = 0;
                firstSequence = sequence;
            }
            pending.addComponent(true, chunk);
            pendingLength += length;
            if (length < MAX_CHUNK) {
                out.add(new Packet(firstSequence, pending));
                pending = null;
                pendingLength = 0;
            }
        }
    }

    private void release() {
        if (pending != null) {
            pending.release();
            pending = null;
        }
        pendingLength = 0;
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        release();
    }
}
