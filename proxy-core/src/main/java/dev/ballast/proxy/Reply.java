package dev.ballast.proxy;

/**
 * The proxy's own replies to a client, as values. {@link Codec#encode} is the one place that turns them into bytes;
 * rows and column definitions relayed from a server pass as the server sent them.
 */
sealed interface Reply {

    /**
     * An OK packet. {@code eofHeader}: the OK that ends a result set when the client asked for CLIENT_DEPRECATE_EOF
     * (header 0xfe, as the server sends it) rather than a plain OK (header 0x00).
     */
    record Ok(boolean eofHeader, long affected, long insertId, int status, int warnings) implements Reply {
        static Ok of(long affected, long insertId, int status) {
            return new Ok(false, affected, insertId, status, 0);
        }
    }

    /** An error packet: MySQL error code, five-character SQLSTATE, message. */
    record Err(int code, String state, String message) implements Reply {
        public Err {
            if (state == null || state.length() != 5) {
                throw new IllegalArgumentException("SQLSTATE must have 5 characters: '" + state + "' (error " + code + ")");
            }
        }

        /** A server's error packet: {@code length} bytes at {@code index} of {@code in}, header included. */
        static Err read(io.netty.buffer.ByteBuf in, int index, int length) {
            int code = in.getUnsignedShortLE(index + 5);
            boolean marked = length >= 4 + 9 && in.getUnsignedByte(index + 7) == '#';
            String state = marked ? in.toString(index + 8, 5, java.nio.charset.StandardCharsets.US_ASCII) : "HY000";
            int textAt = index + (marked ? 13 : 7);
            return new Err(code, state, in.toString(textAt, index + length - textAt, java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    /** The EOF packet of the protocol without CLIENT_DEPRECATE_EOF. */
    record Eof(int status, int warnings) implements Reply {
    }
}
