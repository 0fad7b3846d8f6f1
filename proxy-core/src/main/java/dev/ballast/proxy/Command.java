package dev.ballast.proxy;

import io.netty.buffer.ByteBuf;

/**
 * A client's command, decoded from its packet by {@link #decode}. Commands whose payload the relay sends on as it is
 * ({@link Execute}) or keeps ({@link LongData}) hold that payload; {@link #release()} frees it once the command is done.
 */
sealed interface Command {

    int COM_QUIT = 0x01, COM_INIT_DB = 0x02, COM_QUERY = 0x03, COM_FIELD_LIST = 0x04, COM_PING = 0x0e,
            COM_STMT_PREPARE = 0x16, COM_STMT_EXECUTE = 0x17, COM_STMT_SEND_LONG_DATA = 0x18, COM_STMT_CLOSE = 0x19,
            COM_STMT_RESET = 0x1a, COM_SET_OPTION = 0x1b, COM_STMT_FETCH = 0x1c, COM_RESET_CONNECTION = 0x1f;

    /** the sequence id of the command's packet; replies continue from it */
    int sequence();

    /** Frees the payload a command holds; a no-op for the others. */
    default void release() {
    }

    record Quit(int sequence) implements Command {
    }

    record Ping(int sequence) implements Command {
    }

    record ResetConnection(int sequence) implements Command {
    }

    record InitDb(int sequence, String database) implements Command {
    }

    record Query(int sequence, String sql) implements Command {
    }

    record FieldList(int sequence, String table) implements Command {
    }

    record Prepare(int sequence, String sql) implements Command {
    }

    /** COM_STMT_EXECUTE: {@code payload} is the whole packet payload, command byte first (the relay sends it on). */
    record Execute(int sequence, int statementId, ByteBuf payload) implements Command {
        @Override
        public void release() {
            payload.release();
        }
    }

    /** COM_STMT_SEND_LONG_DATA: {@code data} is the chunk of the parameter's value. */
    record LongData(int sequence, int statementId, int parameter, ByteBuf data) implements Command {
        @Override
        public void release() {
            data.release();
        }
    }

    record CloseStatement(int sequence, int statementId) implements Command {
    }

    record ResetStatement(int sequence, int statementId) implements Command {
    }

    record SetOption(int sequence, int option) implements Command {
    }

    /** COM_STMT_FETCH: {@code rows} more rows of the statement's open cursor. */
    record Fetch(int sequence, int statementId, long rows) implements Command {
    }

    record Unknown(int sequence, int code) implements Command {
    }

    /**
     * Decodes one command packet. Takes over the packet's payload: it is released here, or held by the command
     * ({@link Execute}, {@link LongData}) until {@link #release()}.
     *
     * @throws Wire.ProtocolException when the packet is shorter than its command needs (the payload is released)
     */
    static Command decode(Packet packet) {
        ByteBuf p = packet.payload();
        int seq = packet.sequence();
        boolean kept = false;
        try {
            Wire.need(p, 1);
            int code = p.getUnsignedByte(p.readerIndex());
            Command c = switch (code) {
                case COM_QUIT -> new Quit(seq);
                case COM_PING -> new Ping(seq);
                case COM_RESET_CONNECTION -> new ResetConnection(seq);
                case COM_INIT_DB -> new InitDb(seq, Wire.readRest(p.skipBytes(1)));
                case COM_QUERY -> new Query(seq, QueryText.decode(p.skipBytes(1)));
                case COM_FIELD_LIST -> new FieldList(seq, Wire.readNulString(p.skipBytes(1)));
                case COM_STMT_PREPARE -> new Prepare(seq, Wire.readRest(p.skipBytes(1)));
                case COM_STMT_EXECUTE -> {
                    Wire.need(p, 10);
                    kept = true;
                    yield new Execute(seq, p.getIntLE(p.readerIndex() + 1), p);
                }
                case COM_STMT_SEND_LONG_DATA -> {
                    Wire.need(p, 7);
                    p.skipBytes(1);
                    int id = p.readIntLE();
                    int param = p.readUnsignedShortLE();
                    kept = true;
                    yield new LongData(seq, id, param, p);
                }
                case COM_STMT_CLOSE -> {
                    Wire.need(p, 5);
                    yield new CloseStatement(seq, p.skipBytes(1).readIntLE());
                }
                case COM_STMT_RESET -> {
                    Wire.need(p, 5);
                    yield new ResetStatement(seq, p.skipBytes(1).readIntLE());
                }
                case COM_STMT_FETCH -> {
                    Wire.need(p, 9);
                    p.skipBytes(1);
                    yield new Fetch(seq, p.readIntLE(), p.readUnsignedIntLE());
                }
                case COM_SET_OPTION -> new SetOption(seq, p.readableBytes() >= 3 ? p.getUnsignedShortLE(p.readerIndex() + 1) : 0);
                default -> new Unknown(seq, code);
            };
            return c;
        } finally {
            if (!kept) {
                p.release();
            }
        }
    }
}
