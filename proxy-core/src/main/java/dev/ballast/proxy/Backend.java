package dev.ballast.proxy;

import dev.ballast.jdbc.internal.NodeDataSource;
import dev.ballast.rules.Flavour;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * One connection from the proxy to a server, speaking the client side of the protocol, over which the relay sends
 * prepared statements and passes their responses on without decoding the rows. It lives on one event loop and every
 * method runs there. It logs in with the cluster's credentials, keeps the server-side statements it prepared (by
 * physical SQL text), and parses each response only as far as needed to find where it ends and to read its OK packets
 * (affected rows, insert id, the GTID of a commit).
 */
final class Backend extends ByteToMessageDecoder {

    private static final Logger log = LoggerFactory.getLogger(Backend.class);

    static final int CLIENT_SESSION_TRACK = 0x800000;
    static final int SERVER_MORE_RESULTS_EXISTS = 0x0008, SERVER_SESSION_STATE_CHANGED = 0x4000;
    private static final int MAX_STATEMENTS = 256;
    private static final int CONTINUED = 0xFFFFFF;

    /** Receives one relayed command's response; called on the event loop. */
    interface Listener {
        /** A packet to pass on unchanged: {@code length} bytes at {@code index} of {@code in}, header included. */
        void frame(ByteBuf in, int index, int length);

        /** A column definition packet, header included. */
        void column(ByteBuf in, int index, int length);

        /** An OK packet: the reply to a statement without rows (header 0x00) or the end of rows (0xfe). */
        void ok(boolean endOfRows, int sequence, long affected, long insertId, int status, int warnings, String gtid);

        /** The reply is one error packet (header included); false = do not pass it on, the relay takes another way. */
        boolean error(ByteBuf in, int index, int length, int code);

        /** The reply is complete and this connection is idle again. */
        void done(Backend backend);

        /** The statement could not be prepared here (nothing reached the client); the connection is idle again. */
        void prepareFailed(Backend backend, int code, String message);

        /** The connection broke or did not answer in time; {@code executeSent}: the statement may have run. */
        void failed(String why, boolean executeSent);
    }

    private enum State { GREETING, AUTH, INIT, IDLE, BEGIN, PREPARE, EXECUTE, CLOSED }

    private enum Part { FIRST, COLUMNS, COLUMNS_EOF, ROWS }

    private final Backends pool;
    final NodeDataSource node;
    final int variant;
    private final boolean deprecateEof;
    private final boolean foundRows;
    private final String user;
    private final String password;
    private final String database;
    private final int socketTimeoutMs;
    private ChannelHandlerContext ctx;
    private State state = State.GREETING;
    private String failure;
    private int capabilities;
    private final Map<String, int[]> statements = new LinkedHashMap<>(16, 0.75f, true);

    // the command in flight
    private Listener listener;
    private String pendingSql;
    private IntFunction<ByteBuf> executePacket;
    private Part part;
    private long columnsLeft;
    private int skipFrames;
    private int[] preparing;
    private boolean continued;
    private boolean executeSent;
    /** when the reply to the command in flight is overdue (System.nanoTime), 0 = no deadline; see {@link #overdue} */
    private long replyDeadlineNanos;
    long idleSinceNanos = System.nanoTime();
    /** the server's id of this connection (its thread id, as {@code KILL} and {@code INNODB_TRX} name it); 0 before login */
    volatile long serverThreadId;
    /** when the command in flight was sent (System.nanoTime), 0 while none is: what the deadlock check reads (through {@link ShardedTransaction#busySinceNanos}) */
    volatile long busySinceNanos;

    Backend(Backends pool, NodeDataSource node, int variant, String user, String password, String database, int socketTimeoutMs) {
        this.pool = pool;
        this.node = node;
        this.variant = variant;
        this.deprecateEof = (variant & 1) != 0;
        this.foundRows = (variant & 2) != 0;
        this.user = user;
        this.password = password == null ? "" : password;
        this.database = database;
        this.socketTimeoutMs = socketTimeoutMs;
    }

    /** Whether the connection is closed (or failed) for good. */
    boolean closed() {
        return state == State.CLOSED;
    }

    /** Whether the connection is logged in and has no command in flight. */
    boolean idle() {
        return state == State.IDLE && ctx != null && ctx.channel().isActive();
    }

    Channel channel() {
        return ctx == null ? null : ctx.channel();
    }

    /**
     * Runs the prepared statement {@code sql} (prepared here first if this connection has not yet): {@code execute}
     * builds the COM_STMT_EXECUTE packet (header included) for the server's statement id.
     */
    void execute(String sql, IntFunction<ByteBuf> execute, Listener l) {
        execute(sql, execute, l, false);
    }

    /**
     * As {@link #execute(String, IntFunction, Listener)}, after a BEGIN (answered before anything else is sent); with
     * {@code sql} null, {@code execute} builds a whole command (a COM_QUERY) sent as it is.
     */
    void execute(String sql, IntFunction<ByteBuf> execute, Listener l, boolean beginFirst) {
        listener = l;
        busySinceNanos = System.nanoTime() | 1; // never 0
        executePacket = execute;
        executeSent = false;
        continued = false;
        pendingSql = sql;
        if (beginFirst) {
            begin();
        } else {
            proceed();
        }
        armTimeout();
    }

    /** Sends the COM_QUERY {@code query} builds (header included) and passes its reply on; after a BEGIN when asked. */
    void query(IntFunction<ByteBuf> query, Listener l, boolean beginFirst) {
        execute(null, query, l, beginFirst); // no statement to prepare: the packet goes as it is
    }

    private void begin() {
        state = State.BEGIN;
        sendCommand(Command.COM_QUERY, "BEGIN");
    }

    /** Writes one command packet (sequence 0) whose argument is {@code text}. */
    private void sendCommand(int command, String text) {
        ctx.writeAndFlush(Codec.command(ctx.alloc(), command, text), ctx.voidPromise());
    }

    /** After the BEGIN (if any): the query, or the statement (prepared first when needed). */
    private void proceed() {
        String sql = pendingSql;
        if (sql == null) {
            sendExecute(0);
            return;
        }
        int[] known = statements.get(sql);
        if (known != null) {
            sendExecute(known[0]);
        } else {
            state = State.PREPARE;
            preparing = null;
            sendCommand(Command.COM_STMT_PREPARE, sql);
        }
    }

    private void sendExecute(int statementId) {
        state = State.EXECUTE;
        part = Part.FIRST;
        executeSent = true;
        ctx.writeAndFlush(executePacket.apply(statementId), ctx.voidPromise());
    }

    /** Stops reading the server while the client's socket is full; resumes when it drains. */
    void pauseReading(boolean pause) {
        if (ctx != null) {
            ctx.channel().config().setAutoRead(!pause);
        }
    }

    void close() {
        if (ctx != null) {
            ctx.close();
        }
    }

    // ---- Netty -------------------------------------------------------------------------------------

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        fail(failure != null ? failure : "the server closed the connection");
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        failure = cause.toString();
        ctx.close();
    }

    /** The TCP connection could not be made. */
    void connectFailed(Throwable cause) {
        fail("cannot connect to " + node.address() + ": " + cause.getMessage());
        if (ctx != null) {
            ctx.close();
        }
    }

    /** Called once {@code pool.connectTimeoutMs} after connecting began: closes a connection still logging in. */
    void loginTimedOut() {
        if (state == State.GREETING || state == State.AUTH || state == State.INIT) {
            failure = "no login within pool.connectTimeoutMs";
            if (ctx != null && ctx.channel().isActive()) {
                ctx.close();
            } else {
                fail(failure);
                if (ctx != null) {
                    ctx.close();
                }
            }
        }
    }

    private void fail(String why) {
        if (state == State.CLOSED) {
            return;
        }
        State was = state;
        state = State.CLOSED;
        busySinceNanos = 0;
        cancelTimeout();
        Listener l = listener;
        listener = null;
        if (was == State.GREETING || was == State.AUTH || was == State.INIT) {
            pool.loginFailed(this, why);
        } else {
            pool.closed(this);
        }
        if (l != null) {
            l.failed(why, executeSent);
        }
    }

    /**
     * Starts the reply deadline of the command just sent: {@code pool.socketTimeoutMs}, enforced by the pool's sweep of
     * its loop (every {@link Backends#SWEEP_MS} ms), not by a timer per command, which the relay's hot path would
     * pay for on every statement.
     */
    private void armTimeout() {
        if (socketTimeoutMs > 0) {
            replyDeadlineNanos = System.nanoTime() + socketTimeoutMs * 1_000_000L;
        }
    }

    private void cancelTimeout() {
        replyDeadlineNanos = 0;
    }

    /** Whether a command is in flight whose reply did not come within {@code pool.socketTimeoutMs}. */
    boolean overdue(long nowNanos) {
        return replyDeadlineNanos != 0 && nowNanos - replyDeadlineNanos > 0 && state != State.CLOSED;
    }

    /** Closes the connection of an overdue command; its listener learns it failed (and whether it was sent). */
    void timedOut() {
        failure = "no reply from " + node.address() + " within pool.socketTimeoutMs " + socketTimeoutMs + " ms";
        replyDeadlineNanos = 0;
        if (ctx != null) {
            ctx.close();
        }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.readableBytes() >= 4 && state != State.CLOSED) {
            int start = in.readerIndex();
            int length = in.getUnsignedMediumLE(start);
            if (in.readableBytes() < 4 + length) {
                return;
            }
            int sequence = in.getUnsignedByte(start + 3);
            try {
                packet(in, start, length, sequence);
            } catch (Wire.ProtocolException | IndexOutOfBoundsException e) {
                failure = "malformed reply from " + node.address() + ": " + e;
                in.skipBytes(in.readableBytes());
                ctx.close();
                return;
            }
            in.readerIndex(start + 4 + length);
        }
        if (state == State.CLOSED) {
            in.skipBytes(in.readableBytes());
        }
    }

    private void packet(ByteBuf in, int start, int length, int sequence) {
        int header = length > 0 ? in.getUnsignedByte(start + 4) : -1;
        switch (state) {
            case GREETING -> greeting(in.slice(start + 4, length), sequence);
            case AUTH -> auth(in.slice(start + 4, length), header, sequence);
            case INIT -> {
                if (header != 0) {
                    loginError(in.slice(start + 4, length), "setting up the session");
                    return;
                }
                ready();
            }
            case IDLE -> {
                // nothing was asked: the server is closing the connection (e.g. wait_timeout) or out of step
                failure = "unexpected packet from an idle connection to " + node.address();
                ctx.close();
            }
            case BEGIN -> {
                if (header != 0) {
                    // BEGIN refused on a live connection: nothing else was sent; report it as a broken connection
                    int code = length >= 3 ? in.getUnsignedShortLE(start + 5) : 0;
                    failure = "BEGIN refused on " + node.address() + " (error " + code + ")";
                    ctx.close();
                    return;
                }
                proceed();
            }
            case PREPARE -> prepareReply(in, start, length, header);
            case EXECUTE -> reply(in, start, length, sequence, header);
            case CLOSED -> {
            }
        }
    }

    // ---- login ------------------------------------------------------------------------------------

    private void greeting(ByteBuf p, int sequence) {
        if (p.getUnsignedByte(p.readerIndex()) == 0xff) {
            loginError(p, "connecting");
            return;
        }
        if (p.readUnsignedByte() != 10) {
            loginFailed("protocol version is not 10");
            return;
        }
        Wire.readNulString(p); // server version
        Wire.need(p, 4 + 8 + 1 + 2);
        serverThreadId = p.readUnsignedIntLE();
        byte[] nonce = new byte[20];
        p.readBytes(nonce, 0, 8);
        p.skipBytes(1);
        int serverCaps = p.readUnsignedShortLE();
        String plugin = Auth.NATIVE;
        if (p.readableBytes() >= 16) {
            p.skipBytes(1 + 2); // character set, status
            serverCaps |= p.readUnsignedShortLE() << 16;
            int authLength = p.readUnsignedByte();
            p.skipBytes(10);
            int part2 = Math.max(13, authLength - 8);
            Wire.need(p, Math.min(part2, 12));
            p.readBytes(nonce, 8, 12);
            p.skipBytes(Math.min(p.readableBytes(), part2 - 12));
            if ((serverCaps & ClientSession.CLIENT_PLUGIN_AUTH) != 0 && p.isReadable()) {
                int end = p.indexOf(p.readerIndex(), p.writerIndex(), (byte) 0);
                plugin = p.toString(p.readerIndex(), (end < 0 ? p.writerIndex() : end) - p.readerIndex(), StandardCharsets.UTF_8);
            }
        }
        int wanted = ClientSession.CLIENT_LONG_PASSWORD | ClientSession.CLIENT_LONG_FLAG | ClientSession.CLIENT_CONNECT_WITH_DB
                | ClientSession.CLIENT_PROTOCOL_41 | ClientSession.CLIENT_TRANSACTIONS | ClientSession.CLIENT_SECURE_CONNECTION
                | ClientSession.CLIENT_MULTI_RESULTS | ClientSession.CLIENT_PS_MULTI_RESULTS | ClientSession.CLIENT_PLUGIN_AUTH
                | ClientSession.CLIENT_PLUGIN_AUTH_LENENC | CLIENT_SESSION_TRACK
                | (foundRows ? ClientSession.CLIENT_FOUND_ROWS : 0) | (deprecateEof ? ClientSession.CLIENT_DEPRECATE_EOF : 0);
        int needed = ClientSession.CLIENT_PROTOCOL_41 | ClientSession.CLIENT_PLUGIN_AUTH | CLIENT_SESSION_TRACK
                | (deprecateEof ? ClientSession.CLIENT_DEPRECATE_EOF : 0);
        if ((serverCaps & needed) != needed) {
            loginFailed("the server lacks protocol capabilities the relay needs (0x" + Integer.toHexString(needed & ~serverCaps) + ")");
            return;
        }
        capabilities = wanted & serverCaps;
        byte[] response = scramble(plugin, nonce);
        byte[] userBytes = user.getBytes(StandardCharsets.UTF_8);
        byte[] db = database.getBytes(StandardCharsets.UTF_8);
        byte[] pluginBytes = plugin.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = ctx.alloc().buffer(64 + userBytes.length + response.length + db.length + pluginBytes.length);
        int lengthAt = Codec.beginPacket(b, sequence + 1);
        b.writeIntLE(capabilities);
        b.writeIntLE(1 << 24);
        b.writeByte(Columns.UTF8MB4);
        b.writeZero(23);
        b.writeBytes(userBytes).writeByte(0);
        Wire.lenencBytes(b, response);
        b.writeBytes(db).writeByte(0);
        b.writeBytes(pluginBytes).writeByte(0);
        Codec.endPacket(b, lengthAt);
        state = State.AUTH;
        ctx.writeAndFlush(b, ctx.voidPromise());
    }

    private byte[] scramble(String plugin, byte[] nonce) {
        if (password.isEmpty()) {
            return new byte[0];
        }
        return plugin.equals(Auth.SHA2) ? Auth.sha2Response(password, nonce) : Auth.nativeResponse(password, nonce);
    }

    private void auth(ByteBuf p, int header, int sequence) {
        switch (header) {
            case 0x00 -> initSession();
            case 0xff -> loginError(p, "logging in");
            case 0xfe -> { // authentication switch: plugin name, then the new nonce
                p.skipBytes(1);
                String plugin = Wire.readNulString(p);
                byte[] nonce = new byte[Math.min(20, p.readableBytes())];
                p.readBytes(nonce);
                if (!plugin.equals(Auth.NATIVE) && !plugin.equals(Auth.SHA2)) {
                    loginFailed("the server asks for authentication plugin " + plugin + ", which the relay does not speak");
                    return;
                }
                byte[] response = scramble(plugin, nonce);
                ByteBuf b = ctx.alloc().buffer(4 + response.length);
                Codec.frame(b, sequence + 1, Unpooled.wrappedBuffer(response));
                ctx.writeAndFlush(b, ctx.voidPromise());
            }
            case 0x01 -> { // caching_sha2_password: 3 = fast authentication succeeded (OK follows), 4 = full needed
                int status = p.readableBytes() >= 2 ? p.getUnsignedByte(p.readerIndex() + 1) : -1;
                if (status != 3) {
                    loginFailed("caching_sha2_password needs full authentication (TLS or RSA), which the relay does not do");
                }
            }
            default -> loginFailed("unexpected reply 0x" + Integer.toHexString(header) + " while logging in");
        }
    }

    private void initSession() {
        String sql = null;
        if (node.tracksCommits()) {
            sql = node.flavour() == Flavour.MYSQL ? "SET SESSION session_track_gtids = OWN_GTID"
                    : "SET SESSION session_track_system_variables = CONCAT_WS(',', @@session_track_system_variables, 'last_gtid')";
        }
        if (sql == null) {
            ready();
            return;
        }
        state = State.INIT;
        sendCommand(Command.COM_QUERY, sql);
    }

    private void ready() {
        state = State.IDLE;
        idleSinceNanos = System.nanoTime();
        pool.ready(this);
    }

    private void loginError(ByteBuf p, String when) {
        p.skipBytes(1);
        int code = p.readableBytes() >= 2 ? p.readUnsignedShortLE() : 0;
        if (p.readableBytes() >= 6 && p.getByte(p.readerIndex()) == '#') {
            p.skipBytes(6);
        }
        loginFailed("error " + code + " " + when + ": " + p.toString(StandardCharsets.UTF_8));
    }

    private void loginFailed(String why) {
        log.debug("[relay {}] login failed: {}", node.describe(), why);
        failure = why;
        ctx.close();
    }

    // ---- statements --------------------------------------------------------------------------------

    private void prepareReply(ByteBuf in, int start, int length, int header) {
        if (preparing == null) {
            if (header == 0xff) {
                int code = in.getUnsignedShortLE(start + 5);
                int textAt = start + 7 + (length >= 9 && in.getByte(start + 7) == '#' ? 6 : 0);
                String message = in.toString(textAt, start + 4 + length - textAt, StandardCharsets.UTF_8);
                Listener l = listener;
                finish();
                l.prepareFailed(this, code, message);
                return;
            }
            if (header != 0 || length < 12) {
                throw new Wire.ProtocolException("bad reply to COM_STMT_PREPARE");
            }
            int id = in.getIntLE(start + 5);
            int columns = in.getUnsignedShortLE(start + 9);
            int params = in.getUnsignedShortLE(start + 11);
            preparing = new int[]{id, params, columns};
            skipFrames = params + columns + (deprecateEof ? 0 : (params > 0 ? 1 : 0) + (columns > 0 ? 1 : 0));
        } else {
            skipFrames--;
        }
        if (skipFrames == 0) {
            remember(pendingSql, preparing);
            pendingSql = null;
            int id = preparing[0];
            preparing = null;
            sendExecute(id);
        }
    }

    private void remember(String sql, int[] statement) {
        statements.put(sql, statement);
        if (statements.size() > MAX_STATEMENTS) {
            Iterator<Map.Entry<String, int[]>> it = statements.entrySet().iterator();
            int id = it.next().getValue()[0];
            it.remove();
            ctx.write(Codec.statementCommand(ctx.alloc(), Command.COM_STMT_CLOSE, id), ctx.voidPromise()); // no reply; flushed with the next command
        }
    }

    private void reply(ByteBuf in, int start, int length, int sequence, int header) {
        int frame = 4 + length;
        if (continued) {
            continued = length == CONTINUED;
            listener.frame(in, start, frame);
            return;
        }
        continued = length == CONTINUED;
        switch (part) {
            case FIRST -> {
                if (header == 0x00) {
                    int status = ok(in, start + 5, start + 4 + length, false, sequence);
                    endOrMore(status);
                } else if (header == 0xff) {
                    int code = length >= 3 ? in.getUnsignedShortLE(start + 5) : 0;
                    Listener l = listener;
                    finish();
                    if (l.error(in, start, frame, code)) {
                        l.frame(in, start, frame);
                    }
                    l.done(this);
                } else if (header == 0xfb) {
                    throw new Wire.ProtocolException("LOCAL INFILE request to a relayed statement");
                } else {
                    ByteBuf p = in.slice(start + 4, length);
                    columnsLeft = Wire.readLenencInt(p);
                    listener.frame(in, start, frame);
                    part = columnsLeft > 0 ? Part.COLUMNS : Part.ROWS;
                }
            }
            case COLUMNS -> {
                listener.column(in, start, frame);
                if (--columnsLeft == 0) {
                    part = deprecateEof ? Part.ROWS : Part.COLUMNS_EOF;
                }
            }
            case COLUMNS_EOF -> {
                listener.frame(in, start, frame);
                part = Part.ROWS;
            }
            case ROWS -> {
                if (header == 0xfe && length < CONTINUED) {
                    int status;
                    if (deprecateEof) {
                        status = ok(in, start + 5, start + 4 + length, true, sequence);
                    } else {
                        status = length >= 5 ? in.getUnsignedShortLE(start + 7) : 0;
                        listener.frame(in, start, frame);
                    }
                    endOrMore(status);
                } else if (header == 0xff) {
                    listener.frame(in, start, frame);
                    endOrMore(0);
                } else {
                    listener.frame(in, start, frame);
                }
            }
        }
    }

    /** Parses an OK packet's body (after its header byte) and hands it on; returns its status flags. */
    private int ok(ByteBuf in, int from, int to, boolean endOfRows, int sequence) {
        ByteBuf p = in.slice(from, to - from);
        long affected = Wire.readLenencInt(p);
        long insertId = Wire.readLenencInt(p);
        Wire.need(p, 4);
        int status = p.readUnsignedShortLE();
        int warnings = p.readUnsignedShortLE();
        String gtid = null;
        if ((status & SERVER_SESSION_STATE_CHANGED) != 0 && p.isReadable()) {
            Wire.readLenencBytes(p); // info
            if (p.isReadable()) {
                gtid = gtid(p.slice(p.readerIndex() + lenencSize(p), (int) peekLenenc(p)));
            }
        }
        listener.ok(endOfRows, sequence, affected, insertId, status, warnings, gtid);
        return status;
    }

    /** The GTID in session state changes: MariaDB's last_gtid system variable, or MySQL's own GTID. */
    private static String gtid(ByteBuf changes) {
        String found = null;
        while (changes.isReadable()) {
            int type = changes.readUnsignedByte();
            ByteBuf data = changes.readSlice((int) Wire.readLenencInt(changes));
            if (type == 0) { // SESSION_TRACK_SYSTEM_VARIABLES: name, value
                String name = new String(Wire.readLenencBytes(data), StandardCharsets.UTF_8);
                String value = new String(Wire.readLenencBytes(data), StandardCharsets.UTF_8);
                if (name.equals("last_gtid") && !value.isEmpty()) {
                    found = value;
                }
            } else if (type == 3 && data.isReadable()) { // SESSION_TRACK_GTIDS: encoding, then the GTID set
                data.skipBytes(1);
                String value = new String(Wire.readLenencBytes(data), StandardCharsets.UTF_8);
                if (!value.isEmpty()) {
                    found = value;
                }
            }
        }
        return found;
    }

    private static long peekLenenc(ByteBuf p) {
        return Wire.readLenencInt(p.duplicate());
    }

    private static int lenencSize(ByteBuf p) {
        int first = p.getUnsignedByte(p.readerIndex());
        return first < 0xfb ? 1 : first == 0xfc ? 3 : first == 0xfd ? 4 : 9;
    }

    private void endOrMore(int status) {
        if ((status & SERVER_MORE_RESULTS_EXISTS) != 0) {
            part = Part.FIRST;
            return;
        }
        Listener l = listener;
        finish();
        l.done(this);
    }

    private void finish() {
        cancelTimeout();
        listener = null;
        executePacket = null;
        state = State.IDLE;
        busySinceNanos = 0;
        idleSinceNanos = System.nanoTime();
    }

    @Override
    public String toString() {
        return "Backend[" + node.describe() + "]";
    }
}
