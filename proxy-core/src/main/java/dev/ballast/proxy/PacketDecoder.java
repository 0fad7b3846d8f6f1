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

    /** The client asked for TLS (SSLRequest) and the connection now runs through the TLS handler. */
    record SwitchedToTls(int sequence) {
    }

    private final int maxPacketBytes;
    /** TLS handlers for clients that ask for TLS in their first packet; null when the proxy offers none */
    private final java.util.function.Supplier<io.netty.handler.ssl.SslHandler> tls;
    private boolean firstPacket = true;
    private CompositeByteBuf pending;
    private long pendingLength;
    private int firstSequence;
    private boolean discarding;

    PacketDecoder(int maxPacketBytes, java.util.function.Supplier<io.netty.handler.ssl.SslHandler> tls) {
        this.maxPacketBytes = maxPacketBytes;
        this.tls = tls;
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
            boolean first = firstPacket;
            firstPacket = false;
            if (first && tls != null && length == 32
                    && (in.getIntLE(in.readerIndex() + 4) & ClientSession.CLIENT_SSL) != 0) {
                // SSLRequest: from the next byte on the client speaks TLS. Bytes of its ClientHello may already be
                // here; they go to the TLS handler now, in order, before anything the socket reads later.
                in.skipBytes(4 + 32);
                io.netty.handler.ssl.SslHandler ssl = tls.get();
                ctx.pipeline().addBefore(ctx.name(), "tls", ssl);
                out.add(new SwitchedToTls(sequence));
                if (in.isReadable()) {
                    ByteBuf early = in.readRetainedSlice(in.readableBytes());
                    try {
                        ssl.channelRead(ctx.pipeline().context("tls"), early);
                    } catch (Exception e) {
                        ctx.fireExceptionCaught(e);
                    }
                }
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
