package dev.ballast.proxy;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/** MySQL wire-format primitives: little-endian integers, length-encoded integers and strings. */
final class Wire {

    private Wire() {
    }

    static void lenencInt(ByteBuf b, long v) {
        if (v < 0xfb && v >= 0) {
            b.writeByte((int) v);
        } else if (v >= 0 && v < (1 << 16)) {
            b.writeByte(0xfc);
            b.writeShortLE((int) v);
        } else if (v >= 0 && v < (1 << 24)) {
            b.writeByte(0xfd);
            b.writeMediumLE((int) v);
        } else {
            b.writeByte(0xfe);
            b.writeLongLE(v);
        }
    }

    static void lenencBytes(ByteBuf b, byte[] bytes) {
        lenencInt(b, bytes.length);
        b.writeBytes(bytes);
    }

    static void lenencString(ByteBuf b, String s) {
        lenencBytes(b, s.getBytes(StandardCharsets.UTF_8));
    }

    static void nulString(ByteBuf b, String s) {
        b.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        b.writeByte(0);
    }

    /**
     * Reads a length-encoded integer.
     *
     * @throws ProtocolException when the buffer ends early or the first byte is not one
     */
    static long readLenencInt(ByteBuf b) {
        need(b, 1);
        int first = b.readUnsignedByte();
        if (first < 0xfb) {
            return first;
        }
        return switch (first) {
            case 0xfc -> {
                need(b, 2);
                yield b.readUnsignedShortLE();
            }
            case 0xfd -> {
                need(b, 3);
                yield b.readUnsignedMediumLE();
            }
            case 0xfe -> {
                need(b, 8);
                yield b.readLongLE();
            }
            default -> throw new ProtocolException("bad length-encoded integer 0x" + Integer.toHexString(first));
        };
    }

    static byte[] readLenencBytes(ByteBuf b) {
        long n = readLenencInt(b);
        if (n < 0 || n > b.readableBytes()) {
            throw new ProtocolException("length " + n + " beyond the packet's " + b.readableBytes() + " bytes");
        }
        byte[] out = new byte[(int) n];
        b.readBytes(out);
        return out;
    }

    static String readNulString(ByteBuf b) {
        int end = b.indexOf(b.readerIndex(), b.writerIndex(), (byte) 0);
        if (end < 0) {
            throw new ProtocolException("string without its terminating NUL");
        }
        String s = b.toString(b.readerIndex(), end - b.readerIndex(), StandardCharsets.UTF_8);
        b.readerIndex(end + 1);
        return s;
    }

    static String readRest(ByteBuf b) {
        String s = b.toString(StandardCharsets.UTF_8);
        b.readerIndex(b.writerIndex());
        return s;
    }

    static void need(ByteBuf b, int n) {
        if (b.readableBytes() < n) {
            throw new ProtocolException("packet ends " + (n - b.readableBytes()) + " bytes early");
        }
    }

    /** A packet that does not follow the protocol: the client gets error 1835/08S01 and is disconnected. */
    static final class ProtocolException extends RuntimeException {
        ProtocolException(String message) {
            super(message);
        }
    }
}
