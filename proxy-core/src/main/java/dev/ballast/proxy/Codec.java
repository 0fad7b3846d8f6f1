package dev.ballast.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;

/**
 * The proxy's one packet encoder: frames (3-byte little-endian length, sequence id, payload; a payload of 16 MiB or more
 * split in 0xFFFFFF-byte chunks) and the payloads of {@link Reply} values. Every packet the proxy writes itself, to a
 * client or to a server, is framed here; {@link PacketDecoder} and {@link Command#decode} are the way back.
 */
final class Codec {

    private Codec() {
    }

    /** Appends {@code payload} to {@code out} as one logical packet starting at {@code sequence}; returns the next sequence id. */
    static int frame(ByteBuf out, int sequence, ByteBuf payload) {
        int length = payload.readableBytes();
        do {
            int chunk = Math.min(length, PacketDecoder.MAX_CHUNK);
            out.writeMediumLE(chunk);
            out.writeByte(sequence++ & 0xff);
            out.writeBytes(payload, chunk);
            length -= chunk;
            if (chunk < PacketDecoder.MAX_CHUNK) {
                return sequence;
            }
        } while (true);
    }

    /**
     * Starts a packet written in place (a payload known to stay below 16 MiB): the header with a length to be set by
     * {@link #endPacket}; returns where the header is.
     */
    static int beginPacket(ByteBuf out, int sequence) {
        int at = out.writerIndex();
        out.writeMediumLE(0);
        out.writeByte(sequence & 0xff);
        return at;
    }

    /** Ends the packet {@link #beginPacket} started at {@code at}: its length is what was written since. */
    static void endPacket(ByteBuf out, int at) {
        int length = out.writerIndex() - at - 4;
        if (length >= PacketDecoder.MAX_CHUNK) {
            throw new IllegalStateException("a packet written in place has " + length + " bytes, beyond one frame");
        }
        out.setMediumLE(at, length);
    }

    /**
     * Appends the reply as one packet; returns the next sequence id. A reply is always far below 16 MiB (an error's
     * message is cut at 64 KiB), so it is written in place, without a payload buffer of its own.
     */
    static int encode(ByteBuf out, int sequence, Reply reply) {
        int at = beginPacket(out, sequence);
        payload(out, reply);
        endPacket(out, at);
        return sequence + 1;
    }

    /** Writes the reply's payload (no header). */
    static void payload(ByteBuf b, Reply reply) {
        if (reply instanceof Reply.Ok ok) {
            b.writeByte(ok.eofHeader() ? 0xfe : 0x00);
            Wire.lenencInt(b, ok.affected());
            Wire.lenencInt(b, ok.insertId());
            b.writeShortLE(ok.status());
            b.writeShortLE(ok.warnings());
        } else if (reply instanceof Reply.Err err) {
            b.writeByte(0xff);
            b.writeShortLE(err.code());
            b.writeByte('#');
            b.writeBytes(err.state().getBytes(StandardCharsets.US_ASCII), 0, 5);
            byte[] text = err.message().getBytes(StandardCharsets.UTF_8);
            b.writeBytes(text, 0, Math.min(text.length, 65_535));
        } else if (reply instanceof Reply.Eof eof) {
            b.writeByte(0xfe);
            b.writeShortLE(eof.warnings());
            b.writeShortLE(eof.status());
        } else {
            throw new IllegalArgumentException("no encoding for " + reply);
        }
    }

    /** A command packet (sequence 0) whose argument is {@code text}, as the relay sends BEGIN, PREPARE and queries to a server. */
    static ByteBuf command(ByteBufAllocator alloc, int command, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ByteBuf payload = alloc.buffer(1 + bytes.length).writeByte(command).writeBytes(bytes);
        ByteBuf b = alloc.buffer(5 + bytes.length + (bytes.length >= PacketDecoder.MAX_CHUNK ? 8 : 0));
        try {
            frame(b, 0, payload);
        } finally {
            payload.release();
        }
        return b;
    }

    /** A command packet (sequence 0) whose argument is a 4-byte statement id (COM_STMT_CLOSE, COM_STMT_RESET). */
    static ByteBuf statementCommand(ByteBufAllocator alloc, int command, int statementId) {
        ByteBuf b = alloc.buffer(9);
        int at = beginPacket(b, 0);
        b.writeByte(command);
        b.writeIntLE(statementId);
        endPacket(b, at);
        return b;
    }
}
