package dev.ballast.proxy;

import dev.ballast.jdbc.BallastDataSource;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.DataNode;
import dev.ballast.rules.ProxySettings;
import dev.ballast.rules.TableRule;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.ballast.proxy.SessionState.Prepared;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * One client connection: handshake and authentication on the event loop, then each command on a worker thread, in the
 * order the client sent them. Statements run on the Ballast data plane: a logical connection per statement in autocommit
 * mode (so idle clients hold no server connection), one for the whole transaction otherwise.
 */
final class ClientSession extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

    // capability flags
    static final int CLIENT_LONG_PASSWORD = 1, CLIENT_FOUND_ROWS = 2, CLIENT_LONG_FLAG = 4, CLIENT_CONNECT_WITH_DB = 8,
            CLIENT_PROTOCOL_41 = 0x200, CLIENT_SSL = 0x800, CLIENT_TRANSACTIONS = 0x2000, CLIENT_SECURE_CONNECTION = 0x8000,
            CLIENT_MULTI_STATEMENTS = 0x10000, CLIENT_MULTI_RESULTS = 0x20000, CLIENT_PS_MULTI_RESULTS = 0x40000,
            CLIENT_PLUGIN_AUTH = 0x80000, CLIENT_CONNECT_ATTRS = 0x100000, CLIENT_PLUGIN_AUTH_LENENC = 0x200000,
            CLIENT_DEPRECATE_EOF = 0x1000000;
    /**
     * What the proxy offers. CLIENT_DEPRECATE_EOF is offered (as MySQL 5.7+ and MariaDB 10.2+ servers do) because
     * MySQL Connector/J 9.5 mishandles the other protocol: for a server-prepared statement without a cursor it reads
     * the status of the EOF that follows the column definitions but leaves that EOF unconsumed, then takes it for the
     * end of the rows, so every binary result set came back empty.
     */
    static final int SERVER_CAPABILITIES = CLIENT_LONG_PASSWORD | CLIENT_FOUND_ROWS | CLIENT_LONG_FLAG | CLIENT_CONNECT_WITH_DB
            | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION | CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS
            | CLIENT_PS_MULTI_RESULTS | CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_ATTRS | CLIENT_PLUGIN_AUTH_LENENC
            | CLIENT_DEPRECATE_EOF;
    static final int STATUS_IN_TRANS = SessionState.STATUS_IN_TRANS, STATUS_AUTOCOMMIT = SessionState.STATUS_AUTOCOMMIT,
            STATUS_MORE_RESULTS_EXISTS = 0x0008;
    static final int CURSOR_TYPE_READ_ONLY = 1;
    /** COM_SET_OPTION's options */
    static final int MULTI_STATEMENTS_ON = 0, MULTI_STATEMENTS_OFF = 1;

    private enum Phase { HANDSHAKE, AUTH_SWITCH, COMMAND, CLOSED }

    /** Statements the proxy answers from the client's session state, whichever protocol carries them. */
    private static final java.util.Set<String> SESSION_STATEMENTS = java.util.Set.of("BEGIN", "START", "COMMIT", "ROLLBACK",
            "SET", "USE");

    private final ProxyServer server;
    private final ClusterConfig config;
    private final BallastDataSource ds;
    private final Executor workers;
    private final int connectionId;
    private final WritableGate gate;
    private final byte[] nonce = Auth.nonce();
    private ChannelHandlerContext ctx;
    private Phase phase = Phase.HANDSHAKE;
    private int sequence;
    /** the response being built; touched by one thread at a time (the event loop during authentication, then workers) */
    private ByteBuf out;
    private int clientCapabilities;
    /** the client asked for CLIENT_MULTI_STATEMENTS (or turned it on with COM_SET_OPTION) */
    private boolean multiStatements;
    /** SERVER_MORE_RESULTS_EXISTS while a statement of a multi-statement query that is not the last one is answered */
    private int moreResults;
    /** the response of the command running now holds an error packet: a multi-statement query stops there */
    private boolean errorSent;
    private boolean tlsActive;
    private ProxySettings.ProxyUser user;
    private String userName = "";
    private String switchedTo;
    private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
    /** commands received and not yet run; past {@link #MAX_QUEUED_COMMANDS} the socket is not read */
    private final java.util.concurrent.atomic.AtomicInteger queued = new java.util.concurrent.atomic.AtomicInteger();
    /** when the last command ended (or the connection was accepted), System.nanoTime: the idle timeout counts from it */
    private volatile long lastCommandEndNanos = System.nanoTime();
    /** since when the idle check found replies unread while a command ran (0 = not seen), event loop only */
    private long repliesUnreadSince;
    private boolean idleCheckScheduled;
    static final int MAX_QUEUED_COMMANDS = 64;

    /** autocommit, the transaction, prepared statements: read by the routing function, changed by the executors */
    private final SessionState state = new SessionState();
    /** relays single-node prepared statements on the event loop; null when proxy.relay is off */
    private Relay relay;
    /** whole transactions are relayed too: one group, every table under its own name */
    private boolean relayTransactions;
    /** transactions over several groups are relayed, one pinned server connection per group ({@link ShardedTransaction}) */
    private boolean relayShardedTransactions;
    /** the JDBC path's connection for relayed transactions over several groups, kept for the session; null until needed */
    private Connection shardedJdbc;
    /** ShardingSphere's prepared statements on {@link #shardedJdbc}, by the client's statement id */
    private final Map<Integer, PreparedStatement> shardedStatements = new HashMap<>();

    ClientSession(ProxyServer server, int connectionId, WritableGate gate) {
        this.server = server;
        this.gate = gate;
        this.config = server.config();
        this.ds = server.dataSource();
        this.workers = server.workers();
        this.connectionId = connectionId;
    }

    // ---- Netty events ----------------------------------------------------------------------------

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (server.admit()) {
            server.register(this);
        } else {
            phase = Phase.CLOSED;
            sequence = 0;
            error(1040, "08004", "Too many connections: the Ballast proxy allows proxy.maxConnections = "
                    + config.proxy().maxConnections());
            flushOut();
            ctx.close();
            return;
        }
        if (server.backends() != null) {
            relay = new Relay(this, state, server.backends(), ds.router(), config.name(), ctx);
            relayTransactions = server.relaysTransactions();
            relayShardedTransactions = server.relaysShardedTransactions();
        }
        sendHandshake();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (server.admitted(this)) {
            server.release(this);
        }
        phase = Phase.CLOSED;
        if (relay != null) {
            relay.abort();
        }
        // Roll back and release whatever the client left open, after any command still running.
        tail = tail.handleAsync((v, e) -> {
            closeSession();
            return null;
        }, workers);
    }

    /** Reads the client again once its backlog drained and it reads its replies (its socket is writable). */
    private void resumeReading() {
        if (queued.get() <= MAX_QUEUED_COMMANDS / 4 && ctx.channel().isWritable() && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (!ctx.channel().isWritable()) {
            ctx.channel().config().setAutoRead(false); // replies pile up unread: stop taking commands
        } else {
            resumeReading();
            if (relay != null) {
                relay.clientWritable();
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    /**
     * Nothing read from the client for {@code proxy.idleTimeoutMs}. As MySQL's {@code wait_timeout}, the timeout counts
     * only while the proxy waits for a command: a statement that runs longer is not cut. A client that leaves the replies
     * of a running command unread for that long (its socket not writable at two checks that far apart) is closed.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            idleCheck();
        }
    }

    private void idleCheck() {
        idleCheckScheduled = false;
        if (!ctx.channel().isActive()) {
            return;
        }
        long timeout = config.proxy().idleTimeoutMs() * 1_000_000L;
        long now = System.nanoTime();
        if (queued.get() > 0) {
            if (ctx.channel().isWritable()) {
                repliesUnreadSince = 0; // a command is running: not idle (asked again after the timeout)
                return;
            }
            if (repliesUnreadSince == 0) {
                repliesUnreadSince = now;
            }
            if (now - repliesUnreadSince >= timeout) {
                log.debug("[proxy conn={}] replies unread for proxy.idleTimeoutMs; closing", connectionId);
                ctx.close();
            } else {
                scheduleIdleCheck(timeout - (now - repliesUnreadSince));
            }
            return;
        }
        repliesUnreadSince = 0;
        long idle = now - lastCommandEndNanos;
        if (idle >= timeout) {
            log.debug("[proxy conn={}] idle for proxy.idleTimeoutMs; closing", connectionId);
            ctx.close();
        } else {
            scheduleIdleCheck(timeout - idle); // the last command ended after the last read: count from its end
        }
    }

    private void scheduleIdleCheck(long nanos) {
        if (!idleCheckScheduled) {
            idleCheckScheduled = true;
            ctx.executor().schedule(this::idleCheck, nanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("[proxy conn={}] {}", connectionId, cause.toString());
        ctx.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof PacketDecoder.TooLarge big) {
            sequence = 0;
            error(1153, "08S01", "Got a packet bigger than 'max_allowed_packet' bytes (" + big.length() + " > proxy.maxPacketBytes "
                    + config.proxy().maxPacketBytes() + ")");
            flushOut();
            ctx.close();
            return;
        }
        if (msg instanceof PacketDecoder.SwitchedToTls tls) {
            sequence = tls.sequence() + 1;
            tlsActive = true;
            return; // the handshake response follows over TLS
        }
        Packet packet = (Packet) msg;
        try {
            switch (phase) {
                case HANDSHAKE -> {
                    sequence = packet.sequence() + 1;
                    handshakeResponse(packet.payload());
                    flushOut();
                }
                case AUTH_SWITCH -> {
                    sequence = packet.sequence() + 1;
                    authSwitchResponse(packet.payload());
                    flushOut();
                }
                case COMMAND -> {
                    Command command = Command.decode(new Packet(packet.sequence(), packet.payload().retain()));
                    if (queued.incrementAndGet() >= MAX_QUEUED_COMMANDS) {
                        // a client that sends without reading: stop reading its socket until the backlog drains
                        ctx.channel().config().setAutoRead(false);
                    }
                    // In the order sent: each command starts when the one before it has finished (whether it failed or
                    // not), on this event loop when the relay takes it, else on a worker thread.
                    CompletableFuture<Void> previous = tail;
                    CompletableFuture<Void> done = new CompletableFuture<>();
                    tail = done;
                    if (previous.isDone()) {
                        dispatch(command, done);
                    } else {
                        previous.whenComplete((v, e) -> {
                            if (ctx.executor().inEventLoop()) {
                                dispatch(command, done);
                            } else {
                                ctx.executor().execute(() -> dispatch(command, done));
                            }
                        });
                    }
                    return; // the command owns its payload now
                }
                case CLOSED -> {
                }
            }
        } catch (Wire.ProtocolException e) {
            protocolError(e);
        } finally {
            packet.payload().release();
        }
    }

    /** Runs one command: relayed when the relay takes it, else on a worker thread. Called on the event loop. */
    private void dispatch(Command command, CompletableFuture<Void> done) {
        boolean relayed = false;
        try {
            relayed = switch (Routing.route(command, state, relay != null, relayTransactions, relayShardedTransactions)) {
                case RELAY_STATEMENT -> relay.tryStart(command, done);
                case RELAY_TRANSACTION -> relay.tryTransaction(command, done);
                case RELAY_SHARDED_TRANSACTION -> relay.tryShardedTransaction(command, done);
                case BEGIN -> relay.begin(command, done);
                case JDBC -> false;
            };
        } catch (RuntimeException e) {
            log.warn("[proxy conn={}] relay: {}", connectionId, e.toString(), e);
        }
        if (!relayed) {
            runOnWorker(command, done);
        }
    }

    /** Runs the command on a worker thread through the JDBC data plane; completes {@code done} after it. */
    void runOnWorker(Command command, CompletableFuture<Void> done) {
        workers.execute(() -> {
            try {
                command(command);
            } finally {
                relayFinished(null, done);
            }
        });
    }

    /** A command ended: frees its payload (when not freed yet) and lets the next one start. */
    void relayFinished(Command command, CompletableFuture<Void> done) {
        if (command != null) {
            command.release();
        }
        lastCommandEndNanos = System.nanoTime();
        queued.decrementAndGet();
        resumeReading();
        done.complete(null);
    }

    /**
     * How long a worker waits for a relay connection to pin for a transaction over several groups: a connect timeout, or
     * with a failover monitor as long as the JDBC path holds a write for a new master ({@code failover.writeHoldMs}).
     */
    long pinWaitMs() {
        long hold = config.failover().zookeeper().isPresent() ? config.failover().writeHoldMs() : 0;
        return Math.max(1_000, Math.max(config.pool().connectTimeoutMs(), hold));
    }

    String database() {
        return config.database();
    }

    String onlyGroup() {
        return firstGroup();
    }

    static boolean isSessionStatement(String sql) {
        return SESSION_STATEMENTS.contains(Sql.firstKeyword(sql));
    }

    /** Whether a SET statement (its first words {@code w}) sets autocommit. */
    static boolean isAutocommitVariable(List<String> w) {
        String rest = w.size() > 1 ? w.get(1) : "";
        if (rest.equals("SESSION") || rest.equals("LOCAL") || rest.equals("@@SESSION")) {
            rest = w.size() > 2 ? w.get(2) : "";
        }
        return rest.equals("AUTOCOMMIT") || rest.equals("@@AUTOCOMMIT") || rest.equals("@@SESSION.AUTOCOMMIT");
    }

    /** What a SET statement does to autocommit: TRUE (on), FALSE (off), or null (it sets something else, or nonsense). */
    static Boolean autocommitSetting(String sql, List<String> w) {
        if (!isAutocommitVariable(w)) {
            return null;
        }
        String upper = sql.toUpperCase(Locale.ROOT).replace(" ", "");
        if (upper.endsWith("=1") || upper.endsWith("=ON") || upper.endsWith("=TRUE")) {
            return Boolean.TRUE;
        }
        if (upper.endsWith("=0") || upper.endsWith("=OFF") || upper.endsWith("=FALSE")) {
            return Boolean.FALSE;
        }
        return null;
    }

    /** The statement's fast-path route, or null when it needs ShardingSphere. */
    dev.ballast.jdbc.fastpath.RouteTemplate template(Prepared s) {
        Object route = s.route;
        if (route == null) {
            dev.ballast.jdbc.fastpath.RouteTemplate t = ds.routeTemplate(s.sql);
            route = t == null ? SessionState.NO_ROUTE : t;
            s.route = route;
        }
        return route == SessionState.NO_ROUTE ? null : (dev.ballast.jdbc.fastpath.RouteTemplate) route;
    }

    /** The scatter-and-merge plan of a prepared statement (null: ShardingSphere runs it, or proxy.relayMerge is off). */
    dev.ballast.jdbc.fastpath.ScatterTemplate scatter(Prepared s) {
        if (!server.relaysMerge()) {
            return null;
        }
        Object plan = s.scatter;
        if (plan == null) {
            dev.ballast.jdbc.fastpath.ScatterTemplate t = ds.scatterTemplate(s.sql);
            plan = t == null ? SessionState.NO_ROUTE : t;
            s.scatter = plan;
        }
        return plan == SessionState.NO_ROUTE ? null : (dev.ballast.jdbc.fastpath.ScatterTemplate) plan;
    }

    /** The protocol flags that change a server's replies, which relayed replies must match: DEPRECATE_EOF, FOUND_ROWS. */
    int relayVariant() {
        return ((clientCapabilities & CLIENT_DEPRECATE_EOF) != 0 ? 1 : 0) | ((clientCapabilities & CLIENT_FOUND_ROWS) != 0 ? 2 : 0);
    }

    private void protocolError(Wire.ProtocolException e) {
        error(1835, "08S01", "Malformed packet: " + e.getMessage());
        flushOut();
        ctx.close();
    }

    // ---- handshake and authentication ------------------------------------------------------------

    private void sendHandshake() {
        ByteBuf b = ctx.alloc().buffer(128);
        b.writeByte(10);
        Wire.nulString(b, server.versionString());
        b.writeIntLE(connectionId);
        b.writeBytes(nonce, 0, 8);
        b.writeByte(0);
        int capabilities = SERVER_CAPABILITIES | (server.offersTls() ? CLIENT_SSL : 0);
        b.writeShortLE(capabilities & 0xFFFF);
        b.writeByte(Columns.UTF8MB4);
        b.writeShortLE(STATUS_AUTOCOMMIT);
        b.writeShortLE(capabilities >>> 16);
        b.writeByte(21);
        b.writeZero(10);
        b.writeBytes(nonce, 8, 12);
        b.writeByte(0);
        Wire.nulString(b, Auth.NATIVE);
        sequence = 0;
        send(b);
        flushOut();
    }

    private void handshakeResponse(ByteBuf p) {
        Wire.need(p, 4);
        int caps = p.readIntLE();
        clientCapabilities = caps;
        multiStatements = (caps & CLIENT_MULTI_STATEMENTS) != 0;
        if ((caps & CLIENT_PROTOCOL_41) == 0) {
            error(1251, "08004", "Client does not support the 4.1 protocol; upgrade the client");
            flushOut();
            ctx.close();
            return;
        }
        Wire.need(p, 28);
        p.skipBytes(4 + 1 + 23); // max packet, charset, filler
        if ((caps & CLIENT_SSL) != 0 && p.readableBytes() == 0) {
            error(1045, "28000", "The Ballast proxy does not offer TLS (no proxy.tls in its config); connect without SSL "
                    + "(e.g. --ssl=0 / sslMode=DISABLED)");
            flushOut();
            ctx.close();
            return;
        }
        if (!tlsActive && config.proxy().tls().map(ProxySettings.Tls::required).orElse(false)) {
            error(3159, "08004", "Connections using insecure transport are prohibited: proxy.tls.required is set; connect "
                    + "with SSL");
            flushOut();
            ctx.close();
            return;
        }
        userName = Wire.readNulString(p);
        byte[] response;
        if ((caps & CLIENT_PLUGIN_AUTH_LENENC) != 0) {
            response = Wire.readLenencBytes(p);
        } else if ((caps & CLIENT_SECURE_CONNECTION) != 0) {
            Wire.need(p, 1);
            int n = p.readUnsignedByte();
            Wire.need(p, n);
            response = new byte[n];
            p.readBytes(response);
        } else {
            response = Wire.readNulString(p).getBytes(StandardCharsets.UTF_8);
        }
        String database = null;
        if ((caps & CLIENT_CONNECT_WITH_DB) != 0 && p.isReadable()) {
            database = Wire.readNulString(p);
        }
        String plugin = Auth.NATIVE;
        if ((caps & CLIENT_PLUGIN_AUTH) != 0 && p.isReadable()) {
            plugin = Wire.readNulString(p);
        }
        if (database != null && !database.isEmpty() && !database.equalsIgnoreCase(config.database())) {
            error(1049, "42000", "Unknown database '" + database + "': the Ballast proxy serves '" + config.database() + "'");
            flushOut();
            ctx.close();
            return;
        }
        user = config.proxy().users().get(userName);
        if (user == null) {
            denied();
            return;
        }
        if (plugin.equals(Auth.NATIVE) && user.nativeHash().isPresent()) {
            finishAuth(Auth.checkNative(user, nonce, response));
        } else if (plugin.equals(Auth.SHA2) && user.sha2Hash().isPresent()) {
            if (Auth.checkSha2(user, nonce, response)) {
                ByteBuf fast = ctx.alloc().buffer(2);
                fast.writeByte(0x01).writeByte(0x03); // fast_auth_success
                send(fast);
                finishAuth(true);
            } else {
                finishAuth(false);
            }
        } else {
            // Ask for the method this user has a hash for.
            switchedTo = user.nativeHash().isPresent() ? Auth.NATIVE : Auth.SHA2;
            ByteBuf b = ctx.alloc().buffer(64);
            b.writeByte(0xfe);
            Wire.nulString(b, switchedTo);
            b.writeBytes(nonce);
            b.writeByte(0);
            send(b);
            phase = Phase.AUTH_SWITCH;
        }
    }

    private void authSwitchResponse(ByteBuf p) {
        byte[] response = new byte[p.readableBytes()];
        p.readBytes(response);
        if (Auth.NATIVE.equals(switchedTo)) {
            finishAuth(Auth.checkNative(user, nonce, response));
        } else if (Auth.checkSha2(user, nonce, response)) {
            ByteBuf fast = ctx.alloc().buffer(2);
            fast.writeByte(0x01).writeByte(0x03);
            send(fast);
            finishAuth(true);
        } else {
            finishAuth(false);
        }
    }

    private void finishAuth(boolean ok) {
        if (!ok) {
            denied();
            return;
        }
        phase = Phase.COMMAND;
        ok(0, 0);
    }

    private void denied() {
        phase = Phase.CLOSED;
        error(1045, "28000", "Access denied for user '" + userName + "'@'" + remoteHost() + "' (using password: YES)");
        flushOut();
        ctx.close();
    }

    private String remoteHost() {
        java.net.SocketAddress a = ctx.channel().remoteAddress();
        return a instanceof java.net.InetSocketAddress i ? i.getAddress().getHostAddress() : String.valueOf(a);
    }

    // ---- commands ---------------------------------------------------------------------------------

    private void command(Command c) {
        try {
            if (phase == Phase.CLOSED || !ctx.channel().isActive()) {
                return;
            }
            sequence = c.sequence() + 1;
            if (c instanceof Command.Quit) {
                ctx.close();
            } else if (c instanceof Command.Ping) {
                ok(0, 0);
            } else if (c instanceof Command.ResetConnection) {
                resetSession();
                ok(0, 0);
            } else if (c instanceof Command.InitDb i) {
                useDatabase(i.database());
            } else if (c instanceof Command.Query q) {
                queries(q.sql());
            } else if (c instanceof Command.FieldList f) {
                fieldList(f.table());
            } else if (c instanceof Command.Prepare p) {
                prepare(p.sql());
            } else if (c instanceof Command.Execute x) {
                execute(x);
            } else if (c instanceof Command.LongData l) {
                longData(l);
            } else if (c instanceof Command.CloseStatement cs) {
                state.closePrepared(cs.statementId());
                closeQuietly(shardedStatements.remove(cs.statementId()));
            } else if (c instanceof Command.ResetStatement r) {
                Prepared s = state.prepared(r.statementId());
                if (s == null) {
                    error(1243, "HY000", "Unknown prepared statement handler given to mysqld_stmt_reset");
                } else {
                    s.longData.clear();
                    s.longDataTooLarge = false;
                    ok(0, 0);
                }
            } else if (c instanceof Command.SetOption o) {
                setOption(o.option());
            } else if (c instanceof Command.Fetch f) {
                // no execute opens a cursor here: its whole result went with the execute, without SERVER_STATUS_CURSOR_EXISTS
                error(1421, "HY000", "The statement (" + f.statementId() + ") has no open cursor: the Ballast proxy opens no "
                        + "server-side cursors and sends a cursor's whole result with COM_STMT_EXECUTE");
            } else if (c instanceof Command.Unknown u) {
                error(1047, "08S01", "Unknown command 0x" + Integer.toHexString(u.code()));
            }
        } catch (Wire.ProtocolException e) {
            protocolError(e);
        } catch (SQLException e) {
            error(e);
        } catch (RuntimeException e) {
            log.warn("[proxy conn={}] command failed: {}", connectionId, e.toString(), e);
            error(1105, "HY000", "Ballast proxy: " + e);
        } catch (Error e) {
            // the session's state is unknown now: tell the client and end it rather than leave it waiting
            log.error("[proxy conn={}] command failed: {}; closing the connection", connectionId, e.toString(), e);
            error(1105, "HY000", "Ballast proxy: internal error " + e + "; the connection is closed");
            flushOut();
            ctx.close();
        } finally {
            c.release();
            flushOut();
        }
    }

    /**
     * COM_QUERY: one statement, or with CLIENT_MULTI_STATEMENTS each statement of the text in turn, every result but
     * the last flagged SERVER_MORE_RESULTS_EXISTS. As the server does, the first error ends the batch: the statements
     * after it are not run, and the error is the last packet of the response.
     */
    private void queries(String sql) throws SQLException {
        if (!multiStatements || !Sql.severalStatements(sql)) {
            query(sql);
            return;
        }
        List<String> statements = Sql.statements(sql);
        errorSent = false;
        try {
            for (int i = 0; i < statements.size() && !errorSent; i++) {
                moreResults = i < statements.size() - 1 ? STATUS_MORE_RESULTS_EXISTS : 0;
                try {
                    query(statements.get(i));
                } catch (SQLException e) {
                    error(e);
                }
                if (out != null && out.readableBytes() >= 64 * 1024) {
                    flushOut();
                    awaitWritable();
                }
            }
        } finally {
            moreResults = 0;
        }
    }

    private void setOption(int option) {
        if (option == MULTI_STATEMENTS_ON || option == MULTI_STATEMENTS_OFF) {
            multiStatements = option == MULTI_STATEMENTS_ON;
            endOfResult();
        } else {
            error(1047, "08S01", "Unknown option " + option + " of COM_SET_OPTION");
        }
    }

    private void useDatabase(String name) {
        String db = name.trim().replace("`", "");
        if (db.equalsIgnoreCase(config.database())) {
            ok(0, 0);
        } else {
            error(1049, "42000", "Unknown database '" + db + "': the Ballast proxy serves '" + config.database() + "'");
        }
    }

    private void query(String sql) throws SQLException {
        List<String> w = Sql.words(sql, 4);
        String first = w.isEmpty() ? "" : w.get(0);
        switch (first) {
            case "USE" -> {
                // the name as written: USE `db` is a name in backquotes, which Sql.words leaves out
                int at = sql.toUpperCase(Locale.ROOT).indexOf("USE", Sql.skipSpace(sql, 0)) + 3;
                useDatabase(sql.substring(at).replace(";", ""));
                return;
            }
            case "SET" -> {
                set(sql, w);
                return;
            }
            case "BEGIN" -> {
                begin();
                return;
            }
            case "START" -> {
                if (w.size() > 1 && w.get(1).equals("TRANSACTION")) {
                    begin();
                    return;
                }
            }
            case "COMMIT" -> {
                endTransaction(true);
                return;
            }
            case "ROLLBACK" -> {
                if (w.size() == 1 || !w.contains("TO")) {
                    endTransaction(false);
                    return;
                }
            }
            default -> {
            }
        }
        if (readsNoTable(first, sql)) {
            try (Connection c = ds.serverConnection(firstGroup()); Statement s = c.createStatement()) {
                respond(s, s.execute(localValues(sql)), false);
            }
            return;
        }
        Connection c = connection();
        try (Statement s = c.createStatement()) {
            boolean insert = first.equals("INSERT") || first.equals("REPLACE");
            boolean rows = insert ? s.execute(sql, Statement.RETURN_GENERATED_KEYS) : s.execute(sql);
            respond(s, rows, insert);
        } finally {
            release(c);
        }
    }

    /** Statements that read no table go to one server directly: server variables, functions, most SHOW statements. */
    private static boolean readsNoTable(String first, String sql) {
        if (dev.ballast.sysschema.SystemSchema.handles(sql)) {
            return false; // information_schema and SHOW about tables: the JDBC executor, where the data plane answers them
        }
        if (first.equals("SHOW")) {
            List<String> w = Sql.words(sql, 4);
            String what = w.size() > 1 ? w.get(1) : "";
            if (what.equals("FULL")) {
                what = w.size() > 2 ? w.get(2) : "";
            }
            return !(what.equals("TABLES") || what.equals("COLUMNS") || what.equals("FIELDS") || what.equals("CREATE")
                    || what.equals("INDEX") || what.equals("INDEXES") || what.equals("KEYS") || what.equals("TABLE"));
        }
        if (first.equals("SELECT")) {
            return !Sql.words(sql, 10_000).contains("FROM");
        }
        return false;
    }

    /** Values that belong to the client's session here, not to the server's pooled one. */
    private String localValues(String sql) {
        String s = sql;
        String lower = s.toLowerCase(Locale.ROOT);
        if (lower.contains("@@version_comment")) {
            s = s.replaceAll("(?i)@@(session\\.|global\\.)?version_comment", "'Ballast proxy'");
        }
        if (lower.contains("autocommit")) {
            s = s.replaceAll("(?i)@@(session\\.)?autocommit", state.autocommit() ? "1" : "0");
        }
        if (lower.contains("connection_id()")) {
            s = s.replaceAll("(?i)connection_id\\(\\)", Integer.toString(connectionId));
        }
        if (lower.contains("last_insert_id()")) {
            s = s.replaceAll("(?i)last_insert_id\\(\\)", Long.toString(state.lastInsertId()));
        }
        if (lower.contains("transaction_isolation") || lower.contains("transaction_read_only")) {
            // MySQL 8 names asked by MySQL Connector/J; MariaDB 10.11 has the older ones
            s = s.replaceAll("(?i)@@(session\\.|global\\.)?transaction_isolation", "@@$1tx_isolation")
                    .replaceAll("(?i)@@(session\\.|global\\.)?transaction_read_only", "@@$1tx_read_only");
        }
        if (lower.contains("@@max_allowed_packet")) {
            s = s.replaceAll("(?i)@@(session\\.|global\\.)?max_allowed_packet", Integer.toString(config.proxy().maxPacketBytes()));
        }
        return s;
    }

    private void set(String sql, List<String> w) throws SQLException {
        if (isAutocommitVariable(w)) {
            Boolean on = autocommitSetting(sql, w);
            if (on == null) {
                error(1231, "42000", "Variable 'autocommit' can't be set to that value: use 0 or 1");
                return;
            }
            if (on && !state.autocommit() && state.jdbcTransaction() != null) {
                try {
                    state.jdbcTransaction().commit();
                } finally {
                    closeTransaction();
                }
            }
            state.autocommit(on);
            ok(0, 0);
            return;
        }
        // SET NAMES, character sets, sql_mode, time zone, isolation and other session variables: the proxy speaks
        // utf8mb4 to every client and runs statements on pooled server sessions, so these are accepted and not applied.
        ok(0, 0);
    }

    private void begin() throws SQLException {
        Connection transaction = state.jdbcTransaction();
        if (transaction != null) {
            transaction.commit(); // as the server does: BEGIN commits an open transaction
        } else if (!relayTransactions && !relayShardedTransactions) {
            transaction = ds.getConnection(state.readYourWrites());
            state.jdbcTransaction(transaction);
        }
        // with relayed transactions the transaction starts with its first statement: on a relay connection, or else here
        if (transaction != null) {
            transaction.setAutoCommit(false);
        }
        state.begun();
        ok(0, 0);
    }

    private void endTransaction(boolean commit) throws SQLException {
        Connection transaction = state.jdbcTransaction();
        if (transaction != null) {
            try {
                if (commit) {
                    transaction.commit();
                } else {
                    transaction.rollback();
                }
            } finally {
                // released in either mode: the next statement begins the next transaction (on a relay connection if it can)
                closeTransaction();
            }
        }
        state.ended();
        ok(0, 0);
    }

    /** The connection for a statement: the transaction's, or a fresh one (autocommit) released after it. */
    private Connection connection() throws SQLException {
        Connection transaction = state.jdbcTransaction();
        if (transaction != null) {
            return transaction;
        }
        ShardedTransaction tx = state.sharded();
        if (tx != null) {
            // a relayed transaction over several groups: ShardingSphere runs this statement on the pinned connections, on
            // one logical connection kept for the session (its prepared statements are reused from one transaction to
            // the next; at each end the relay makes it forget that transaction's connections)
            if (shardedJdbc == null) {
                Connection c = ds.getConnection(state.readYourWrites(), group -> {
                    ShardedTransaction current = state.sharded();
                    if (current == null) {
                        throw new IllegalStateException("no relayed transaction over several groups is open");
                    }
                    return PinnedJdbc.connection(current, group);
                });
                c.setAutoCommit(false);
                shardedJdbc = c;
            }
            tx.jdbc = shardedJdbc;
            return shardedJdbc;
        }
        if (!state.autocommit() || state.explicit()) {
            transaction = ds.getConnection(state.readYourWrites());
            state.jdbcTransaction(transaction);
            transaction.setAutoCommit(false);
            return transaction;
        }
        return ds.getConnection(state.readYourWrites());
    }

    private void release(Connection c) {
        if (c != state.jdbcTransaction() && c != shardedJdbc) {
            try {
                c.close();
            } catch (SQLException e) {
                log.debug("closing: {}", e.toString());
            }
        }
    }

    private void closeTransaction() {
        Connection t = state.takeJdbcTransaction();
        if (t != null) {
            try {
                t.close(); // rolls back what was not committed
            } catch (SQLException e) {
                log.debug("closing a transaction: {}", e.toString());
            }
        }
    }

    /** The relay ended a transaction over several groups: the session's connection forgets its server connections. */
    void shardedTransactionEnded() {
        if (shardedJdbc != null) {
            dev.ballast.jdbc.internal.Wrappers.transactionEndedElsewhere(shardedJdbc);
        }
    }

    private void closeSharded() {
        shardedStatements.values().forEach(ClientSession::closeQuietly);
        shardedStatements.clear();
        Connection c = shardedJdbc;
        shardedJdbc = null;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                log.debug("closing: {}", e.toString());
            }
        }
    }

    private static void closeQuietly(Statement s) {
        if (s != null) {
            try {
                s.close();
            } catch (SQLException e) {
                log.debug("closing a statement: {}", e.toString());
            }
        }
    }

    private void resetSession() {
        closeSharded();
        closeTransaction();
        state.reset();
    }

    private void closeSession() {
        closeSharded();
        Connection transaction = state.jdbcTransaction();
        if (transaction != null) {
            try {
                transaction.rollback();
            } catch (SQLException e) {
                log.debug("rollback on close: {}", e.toString());
            }
        }
        closeTransaction();
        state.reset();
    }

    private String firstGroup() {
        return config.groups().keySet().iterator().next();
    }

    // ---- prepared statements -----------------------------------------------------------------------

    private void prepare(String sql) throws SQLException {
        String first = Sql.firstKeyword(sql);
        int params = Sql.placeholders(sql);
        Columns.Column[] columns = new Columns.Column[0];
        if (first.equals("SELECT") || first.equals("SHOW") || first.equals("WITH") || first.equals("VALUES")
                || first.equals("DESC") || first.equals("DESCRIBE") || first.equals("EXPLAIN")) {
            columns = describe(sql);
        }
        int id = state.addPrepared(sql, params, columns).id;
        ByteBuf b = ctx.alloc().buffer(16);
        b.writeByte(0);
        b.writeIntLE(id);
        b.writeShortLE(columns.length);
        b.writeShortLE(params);
        b.writeByte(0);
        b.writeShortLE(0);
        send(b);
        if (params > 0) {
            for (int i = 0; i < params; i++) {
                columnDefinition(Columns.parameter());
            }
            endOfColumns();
        }
        if (columns.length > 0) {
            for (Columns.Column c : columns) {
                columnDefinition(c);
            }
            endOfColumns();
        }
    }

    /**
     * The result columns of a statement, without running it: prepared on the server that holds the first data node of
     * the first table it names, with logical table names replaced by that node's physical names.
     */
    private Columns.Column[] describe(String sql) throws SQLException {
        Map<String, String> names = new HashMap<>();
        String group = null;
        for (String word : Sql.words(sql, 10_000)) {
            TableRule t = tableRule(word);
            if (t != null) {
                DataNode node = t.dataNodes().get(0);
                names.put(t.name().toUpperCase(Locale.ROOT), node.table());
                if (group == null) {
                    group = node.group();
                }
            }
        }
        String physical = Sql.replaceIdentifiers(sql, names);
        try (Connection c = ds.serverConnection(group == null ? firstGroup() : group);
             PreparedStatement ps = c.prepareStatement(physical)) {
            ResultSetMetaData md = ps.getMetaData();
            return md == null ? new Columns.Column[0] : Columns.of(md, config.database());
        }
    }

    private TableRule tableRule(String upperWord) {
        for (TableRule t : config.tables().values()) {
            if (t.name().equalsIgnoreCase(upperWord)) {
                return t;
            }
        }
        return null;
    }

    private void longData(Command.LongData l) {
        ByteBuf p = l.data();
        Prepared s = state.prepared(l.statementId());
        int param = l.parameter();
        if (s == null || param >= s.params) {
            return; // no response to SEND_LONG_DATA; the error shows at execute
        }
        if (s.longDataTooLarge) {
            return;
        }
        ByteArrayOutputStream out = s.longData.computeIfAbsent(param, k -> new ByteArrayOutputStream());
        long total = p.readableBytes();
        for (ByteArrayOutputStream b : s.longData.values()) {
            total += b.size();
        }
        if (total > config.proxy().maxPacketBytes()) {
            // as max_allowed_packet: the data is dropped, and the next execute of this statement fails (1153)
            s.longData.clear();
            s.longDataTooLarge = true;
            return;
        }
        byte[] chunk = new byte[p.readableBytes()];
        p.readBytes(chunk);
        out.writeBytes(chunk);
    }

    private void execute(Command.Execute x) throws SQLException {
        ByteBuf p = x.payload().duplicate();
        p.skipBytes(1 + 4);
        int id = x.statementId();
        if ((p.readUnsignedByte() & CURSOR_TYPE_READ_ONLY) != 0) {
            // No cursor is opened: the whole result follows now, and without SERVER_STATUS_CURSOR_EXISTS in its status
            // the client reads it as a plain result (the protocol lets a server decline a cursor; MySQL does so for
            // statements that return no rows).
            server.cursorRequested();
        }
        p.readIntLE(); // iteration count, always 1
        Prepared s = state.prepared(id);
        if (s == null) {
            error(1243, "HY000", "Unknown prepared statement handler (" + id + ") given to mysqld_stmt_execute");
            return;
        }
        if (s.longDataTooLarge) {
            s.longDataTooLarge = false;
            error(1153, "08S01", "Parameter of prepared statement which is set through mysql_send_long_data() is longer than "
                    + "proxy.maxPacketBytes (" + config.proxy().maxPacketBytes() + " bytes)");
            return;
        }
        Object[] values = new Object[s.params];
        if (s.params > 0) {
            int bitmapLength = (s.params + 7) / 8;
            Wire.need(p, bitmapLength + 1);
            byte[] nulls = new byte[bitmapLength];
            p.readBytes(nulls);
            boolean bound = p.readUnsignedByte() == 1;
            if (bound) {
                Wire.need(p, 2 * s.params);
                s.types = new int[s.params];
                for (int i = 0; i < s.params; i++) {
                    s.types[i] = p.readUnsignedShortLE();
                }
            }
            if (s.types == null) {
                error(1210, "HY000", "Incorrect arguments to mysqld_stmt_execute: parameter types were never sent");
                return;
            }
            for (int i = 0; i < s.params; i++) {
                ByteArrayOutputStream longData = s.longData.get(i);
                if (longData != null) {
                    values[i] = longData.toByteArray();
                } else if ((nulls[i / 8] & (1 << (i % 8))) != 0) {
                    values[i] = null;
                } else {
                    values[i] = BinaryValues.read(p, s.types[i]);
                }
            }
        }
        s.longData.clear();
        String first = Sql.firstKeyword(s.sql);
        if (s.params == 0 && SESSION_STATEMENTS.contains(first)) {
            // sysbench and others prepare BEGIN and COMMIT too: they change this client's session, not a server's
            query(s.sql);
            return;
        }
        boolean insert = first.equals("INSERT") || first.equals("REPLACE");
        Connection c = connection();
        boolean reused = c == shardedJdbc;
        PreparedStatement ps = reused ? shardedStatements.get(id) : null;
        if (ps == null) {
            ps = insert ? c.prepareStatement(s.sql, Statement.RETURN_GENERATED_KEYS) : c.prepareStatement(s.sql);
            if (reused) {
                shardedStatements.put(id, ps);
            }
        } else {
            ps.clearParameters();
        }
        boolean failed = true;
        try {
            for (int i = 0; i < s.params; i++) {
                BinaryValues.bind(ps, i + 1, values[i], s.types == null ? Columns.T_NULL : s.types[i]);
            }
            respond(ps, ps.execute(), insert, true);
            failed = false;
        } finally {
            if (!reused || failed) {
                if (reused) {
                    shardedStatements.remove(id);
                }
                closeQuietly(ps);
            }
            release(c);
        }
    }

    private void fieldList(String table) throws SQLException {
        TableRule t = tableRule(table.toUpperCase(Locale.ROOT));
        if (t == null) {
            error(1146, "42S02", "Table '" + config.database() + "." + table + "' doesn't exist in the cluster config");
            return;
        }
        Columns.Column[] columns = describe("SELECT * FROM " + t.name());
        for (Columns.Column c : columns) {
            ByteBuf b = ctx.alloc().buffer(64);
            Columns.write(b, new Columns.Column(c.schema(), t.name(), t.name(), c.name(), c.orgName(), c.type(), c.flags(),
                    c.decimals(), c.length(), c.charset()));
            Wire.lenencInt(b, 0xfb); // no default value shown
            send(b);
        }
        endOfResult();
    }

    // ---- responses ------------------------------------------------------------------------------------

    private void respond(Statement s, boolean hasRows, boolean insert) throws SQLException {
        respond(s, hasRows, insert, false);
    }

    private void respond(Statement s, boolean hasRows, boolean insert, boolean binary) throws SQLException {
        if (!hasRows) {
            long count = Math.max(0, s.getUpdateCount());
            long id = 0;
            if (insert) {
                try (ResultSet keys = s.getGeneratedKeys()) {
                    if (keys != null && keys.next()) {
                        id = keys.getLong(1);
                    }
                } catch (SQLException ignored) {
                    // no generated key
                }
                if (id != 0) {
                    state.lastInsertId(id);
                }
            }
            ok(count, id);
            return;
        }
        try (ResultSet rs = s.getResultSet()) {
            if (rs == null) { // ShardingSphere says SAVEPOINT has a result, then has none
                ok(Math.max(0, s.getUpdateCount()), 0);
                return;
            }
            Columns.Column[] columns = Columns.of(rs.getMetaData(), config.database());
            ByteBuf count = ctx.alloc().buffer(9);
            Wire.lenencInt(count, columns.length);
            send(count);
            for (Columns.Column c : columns) {
                columnDefinition(c);
            }
            endOfColumns();
            while (rs.next()) {
                ByteBuf row = ctx.alloc().buffer(64);
                if (binary) {
                    BinaryValues.writeRow(row, rs, columns);
                } else {
                    for (int i = 0; i < columns.length; i++) {
                        if (columns[i].binaryValue()) {
                            byte[] v = rs.getBytes(i + 1);
                            if (v == null) {
                                row.writeByte(0xfb);
                            } else {
                                Wire.lenencBytes(row, v);
                            }
                        } else {
                            String v = rs.getString(i + 1);
                            if (v == null) {
                                row.writeByte(0xfb);
                            } else {
                                Wire.lenencString(row, v);
                            }
                        }
                    }
                }
                send(row);
                if (out != null && out.readableBytes() >= 64 * 1024) {
                    flushOut();
                    awaitWritable();
                }
            }
            endOfResult();
        }
    }

    /** A slow client must not make the proxy buffer a whole result in memory: wait while its socket is full. */
    private void awaitWritable() {
        try {
            gate.await(ctx.channel(), config.proxy().idleTimeoutMs() * 1_000_000L);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void columnDefinition(Columns.Column c) {
        ByteBuf b = ctx.alloc().buffer(64);
        Columns.write(b, c);
        send(b);
    }

    private int status() {
        return state.status() | moreResults;
    }

    private void ok(long affected, long insertId) {
        reply(Reply.Ok.of(affected, insertId, status()));
    }

    /** Whether the client asked for OK packets in place of EOF packets (CLIENT_DEPRECATE_EOF). */
    private boolean eofDeprecated() {
        return (clientCapabilities & CLIENT_DEPRECATE_EOF) != 0;
    }

    /** The EOF after column (or parameter) definitions; with CLIENT_DEPRECATE_EOF there is none. */
    private void endOfColumns() {
        if (!eofDeprecated()) {
            eof();
        }
    }

    /**
     * The end of a result set (or of a field list, or the reply to COM_SET_OPTION): an EOF packet, or with
     * CLIENT_DEPRECATE_EOF an OK packet with the EOF header 0xfe, as the server sends it.
     */
    private void endOfResult() {
        if (!eofDeprecated()) {
            eof();
            return;
        }
        reply(new Reply.Ok(true, 0, 0, status(), 0));
    }

    private void eof() {
        reply(new Reply.Eof(status(), 0));
    }

    private void error(SQLException e) {
        SQLException shown = e;
        while ((shown.getMessage() == null || shown.getMessage().isEmpty()) && shown.getNextException() != null) {
            shown = shown.getNextException();
        }
        int code = shown.getErrorCode() > 0 ? shown.getErrorCode() : e.getErrorCode() > 0 ? e.getErrorCode() : 1105;
        String state = shown.getSQLState() != null && shown.getSQLState().length() == 5 ? shown.getSQLState() : "HY000";
        error(code, state, shown.getMessage() == null ? shown.toString() : shown.getMessage());
    }

    private void error(int code, String state, String message) {
        reply(new Reply.Err(code, state, message));
    }

    /** Appends one of the proxy's own replies to this command's response, with the next sequence id. */
    private void reply(Reply r) {
        if (r instanceof Reply.Err) {
            errorSent = true;
        }
        if (out == null) {
            out = ctx.alloc().buffer(256);
        }
        sequence = Codec.encode(out, sequence, r);
    }

    /**
     * Appends one logical packet (split at 16 MiB) with the next sequence ids to this command's response, which
     * {@link #flushOut()} hands to Netty in one write: a worker thread then crosses to the event loop once per
     * response, not once per packet.
     */
    private void send(ByteBuf payload) {
        try {
            if (out == null) {
                out = ctx.alloc().buffer(Math.max(256, payload.readableBytes() + 64));
            }
            sequence = Codec.frame(out, sequence, payload);
        } finally {
            payload.release();
        }
    }

    /** Writes and flushes what this command has produced so far. */
    private void flushOut() {
        ByteBuf b = out;
        out = null;
        if (b != null) {
            ctx.writeAndFlush(b, ctx.voidPromise());
        }
    }

    int connectionId() {
        return connectionId;
    }
}
