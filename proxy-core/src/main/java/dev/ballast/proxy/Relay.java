package dev.ballast.proxy;

import dev.ballast.jdbc.fastpath.RouteTemplate;
import dev.ballast.jdbc.fastpath.ScatterTemplate;
import dev.ballast.jdbc.internal.NodeDataSource;
import dev.ballast.jdbc.internal.ReadRouter;
import dev.ballast.rules.DataNode;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntFunction;

import dev.ballast.proxy.Outcomes.Mode;
import dev.ballast.proxy.Outcomes.Outcome;

/**
 * Relays one client's single-node prepared statements in autocommit mode straight to their server, on the client's
 * event loop: the COM_STMT_EXECUTE packet goes out with the server's statement id (and the parameter types, which a
 * client sends only once), and the reply comes back as it is, except for OK packets (re-encoded without the session
 * state the proxy asked the server for, after reading the GTID of a write from it) and, for a sharded table whose
 * physical name differs, the table names in column definitions. The route is the one the JDBC fast path takes: the
 * same {@link RouteTemplate}, the same lag- and read-your-writes-aware choice of replica.
 *
 * <p>Whatever the relay cannot do, or cannot do without waiting, goes the JDBC path on a worker thread as before: no idle
 * server connection on this event loop yet, a switchover under way, a read-your-writes check that needs a round trip,
 * long data, cursors, a write refused as read-only (the JDBC path waits for the new master and sends it again), a read
 * whose server failed before any byte reached the client (the replica is ejected first). A write whose connection breaks
 * after it was sent is reported as outcome unknown (SQLSTATE 08007), never sent twice.
 */
final class Relay implements Backend.Listener {

    private static final int FLUSH_BYTES = 64 * 1024;

    private final ClientSession session;
    private final SessionState state;
    private final Backends backends;
    private final ReadRouter router;
    private final String cluster;
    private final ChannelHandlerContext ctx;

    // the statement in flight
    private Command command;
    private CompletableFuture<Void> done;
    private Backend backend;
    private NodeDataSource target;
    private boolean read;
    private String group;
    private Mode mode = Mode.SINGLE;
    private String logicalTable;
    private String physicalTable;
    private boolean forwarded;
    private boolean fallback;
    private boolean aborted;
    private int lastSequence;
    private ByteBuf out;

    Relay(ClientSession session, SessionState state, Backends backends, ReadRouter router, String cluster,
          ChannelHandlerContext ctx) {
        this.session = session;
        this.state = state;
        this.backends = backends;
        this.router = router;
        this.cluster = cluster;
        this.ctx = ctx;
    }

    /** A COM_STMT_EXECUTE taken apart: where its NULL bitmap and values are, and the parameter types to send. */
    private record Execute(int nullsAt, int bitmap, int[] types, int valuesAt, int valuesLength, int payloadLength) {
    }

    /** Parses a COM_STMT_EXECUTE of {@code s} for relaying; null when the relay cannot send it. */
    private static Execute parse(ByteBuf p, SessionState.Prepared s) {
        int at = p.readerIndex();
        if (p.readableBytes() < 10 || p.getUnsignedByte(at + 5) != 0 || !s.longData.isEmpty() || s.longDataTooLarge) {
            return null;
        }
        int pos = at + 10;
        int nullsAt = pos;
        int bitmap = (s.params + 7) / 8;
        int[] types = s.types;
        int valuesAt = pos;
        if (s.params > 0) {
            if (p.writerIndex() < pos + bitmap + 1) {
                return null;
            }
            pos += bitmap;
            if (p.getUnsignedByte(pos++) == 1) {
                if (p.writerIndex() < pos + 2 * s.params) {
                    return null;
                }
                types = new int[s.params];
                for (int i = 0; i < s.params; i++) {
                    types[i] = p.getUnsignedShortLE(pos + 2 * i);
                }
                pos += 2 * s.params;
                s.types = types;
            } else if (types == null) {
                return null;
            }
            valuesAt = pos;
        }
        int valuesLength = p.writerIndex() - valuesAt;
        int payloadLength = 10 + (s.params > 0 ? bitmap + 1 + 2 * s.params + valuesLength : 0);
        return payloadLength >= 0xFFFFFF ? null : new Execute(nullsAt, bitmap, types, valuesAt, valuesLength, payloadLength);
    }

    /** Builds the COM_STMT_EXECUTE for the server's statement id: the types always, as this server may not have them. */
    private IntFunction<ByteBuf> packet(ByteBuf p, Execute e, int params) {
        return packet(p, e, params, 1);
    }

    /**
     * COM_STMT_EXECUTE with the client's {@code params} bound {@code repeat} times over (a UNION ALL of that many copies
     * of its statement): the NULL bitmap, the types and the values each repeated.
     */
    private IntFunction<ByteBuf> packet(ByteBuf p, Execute e, int params, int repeat) {
        return statementId -> {
            ByteBuf b = ctx.alloc().buffer(4 + (repeat == 1 ? e.payloadLength() : 10 + repeat * (e.bitmap() + 2 * params
                    + e.valuesLength())));
            int at = Codec.beginPacket(b, 0);
            b.writeByte(Command.COM_STMT_EXECUTE);
            b.writeIntLE(statementId);
            b.writeByte(0); // no cursor
            b.writeIntLE(1);
            if (params == 0) {
                Codec.endPacket(b, at);
                return b;
            }
            if (repeat == 1) {
                b.writeBytes(p, e.nullsAt(), e.bitmap());
            } else {
                b.writeBytes(repeatedNulls(p, e, params, repeat));
            }
            b.writeByte(1);
            for (int r = 0; r < repeat; r++) {
                for (int type : e.types()) {
                    b.writeShortLE(type);
                }
            }
            for (int r = 0; r < repeat; r++) {
                b.writeBytes(p, e.valuesAt(), e.valuesLength());
            }
            Codec.endPacket(b, at);
            return b;
        };
    }

    /** The client's NULL bitmap for {@code params} parameters, repeated {@code repeat} times bit after bit. */
    private static byte[] repeatedNulls(ByteBuf p, Execute e, int params, int repeat) {
        byte[] nulls = new byte[(params * repeat + 7) / 8];
        for (int i = 0; i < params; i++) {
            if ((p.getUnsignedByte(e.nullsAt() + i / 8) & (1 << (i % 8))) != 0) {
                for (int r = 0; r < repeat; r++) {
                    int bit = r * params + i;
                    nulls[bit / 8] |= (byte) (1 << (bit % 8));
                }
            }
        }
        return nulls;
    }

    /**
     * Starts relaying {@code packet} when it is a statement the relay handles; then the relay completes {@code done}
     * (or hands the packet to the JDBC path). False: nothing was done, the caller takes the JDBC path.
     */
    boolean tryStart(Command command, CompletableFuture<Void> done) {
        if (!(command instanceof Command.Execute x) || x.sequence() != 0 || !state.autocommitStatement() && ctx.channel().isActive()) {
            return false;
        }
        ByteBuf p = x.payload();
        SessionState.Prepared s = state.prepared(x.statementId());
        if (s == null) {
            return false;
        }
        RouteTemplate t = session.template(s);
        if (t == null || t.parameterCount() != s.params) {
            return false;
        }
        Execute e = parse(p, s);
        if (e == null) {
            return false;
        }
        int node = nodeOf(t, p, e);
        if (node < 0) {
            return false;
        }
        DataNode dataNode = t.node(node);
        NodeDataSource server = t.isRead() ? router.chooseWithoutWaiting(dataNode.group(), state.readYourWrites())
                : router.masterIfServing(dataNode.group());
        if (server == null) {
            return false;
        }
        Backend b = backends.acquire(ctx.channel().eventLoop(), server, session.relayVariant());
        if (b == null) {
            backends.passedOn.increment();
            return false;
        }
        begin(command, done, b, server, t.isRead(), dataNode.group(), Mode.SINGLE);
        boolean renamed = !dataNode.table().equalsIgnoreCase(t.table().name());
        this.logicalTable = renamed ? t.table().name() : null;
        this.physicalTable = renamed ? dataNode.table() : null;
        b.execute(t.sql(node), packet(p, e, s.params), this);
        return true;
    }

    /** The data node the execute's sharding key names; -1 when the relay cannot tell (the JDBC path decides, or reports). */
    private static int nodeOf(RouteTemplate t, ByteBuf p, Execute e) {
        Object key = null;
        if (t.keyParameter() > 0) {
            int k = t.keyParameter() - 1;
            if (isNull(p, e, k)) {
                return -1;
            }
            ByteBuf values = p.duplicate().readerIndex(e.valuesAt());
            try {
                for (int i = 0; i <= k; i++) {
                    if (isNull(p, e, i)) {
                        continue;
                    }
                    Object v = BinaryValues.read(values, e.types()[i]);
                    if (i == k) {
                        key = v;
                    }
                }
            } catch (RuntimeException ex) {
                return -1;
            }
        }
        try {
            return t.nodeIndex(key);
        } catch (IllegalArgumentException ex) {
            return -1;
        }
    }

    private static boolean isNull(ByteBuf p, Execute e, int i) {
        return (p.getUnsignedByte(e.nullsAt() + i / 8) & (1 << (i % 8))) != 0;
    }

    private void begin(Command command, CompletableFuture<Void> done, Backend b, NodeDataSource server, boolean read,
                       String group, Mode mode) {
        this.command = command;
        this.done = done;
        this.backend = b;
        this.target = server;
        server.statements().relay();
        this.read = read;
        this.group = group;
        this.mode = mode;
        this.logicalTable = null;
        this.physicalTable = null;
        this.forwarded = false;
        this.fallback = false;
        this.aborted = false;
        this.shardedStatement = false;
        this.deadlock = null;
    }

    /**
     * BEGIN while no transaction has started, where transactions are relayed: they start with their first statement (on a
     * relay connection, or on the JDBC path), so BEGIN only marks the session, as the JDBC path would, and is answered
     * here rather than on a worker thread.
     */
    boolean begin(Command command, CompletableFuture<Void> done) {
        this.command = command;
        this.done = done;
        lastSequence = 0;
        state.begun();
        okPacket();
        finish();
        return true;
    }

    /**
     * Transactions of a cluster with one group whose tables keep their names: every statement of a transaction goes,
     * unchanged, to one server connection (BEGIN first), held until COMMIT or ROLLBACK. A transaction that started on
     * the JDBC path (no relay connection was free) stays there. Returns false when the command is not for this path.
     */
    boolean tryTransaction(Command command, CompletableFuture<Void> done) {
        if (command.sequence() != 0) {
            return false;
        }
        Backend pinned = state.relayedTransaction();
        if (command instanceof Command.ResetConnection || command instanceof Command.Quit) {
            if (pinned != null) {
                state.relayedTransactionEnded(null); // closing the connection rolls back
                pinned.close();
            }
            return false;
        }
        if (pinned == null && state.relayedTransactionLost() == null && !(state.transactionWanted() && ctx.channel().isActive())) {
            return false; // autocommit traffic: nothing for this path, and no need to read the statement
        }
        TxCommand tc = TxCommand.read(command, state);
        if (tc == null) {
            return false;
        }
        String text = tc.text();
        SessionState.Prepared s = tc.prepared();
        ByteBuf p = tc.payload();
        String first = tc.first();
        Boolean autocommit = tc.autocommit();
        if (command instanceof Command.Query && Sql.severalStatements(text)) {
            return severalStatements(command, done, "proxy.relay: false");
        }
        if (state.relayedTransactionLost() != null) {
            if (first.equals("USE") || first.equals("SET") && autocommit == null) {
                return false; // answered by the session as always
            }
            return lost(command, done, Boolean.TRUE.equals(autocommit) ? "COMMIT" : first);
        }
        if (pinned == null) {
            // start one: only for a statement that does work, in a transaction not begun on the JDBC path
            if (first.equals("COMMIT") || first.equals("ROLLBACK") || first.equals("BEGIN")
                    || first.equals("START") || first.equals("SET") || first.equals("USE")) {
                return false;
            }
            Execute e = s != null && text == null ? parse(p, s) : null;
            if (s != null && text == null && e == null) {
                return false;
            }
            String group = session.onlyGroup();
            NodeDataSource master = router.masterIfServing(group);
            Backend b = master == null ? null : backends.acquire(ctx.channel().eventLoop(), master, session.relayVariant());
            if (b == null) {
                backends.passedOn.increment();
                return false;
            }
            state.relayedTransactionStarted(b);
            begin(command, done, b, master, false, group, Mode.IN_TRANSACTION);
            startedHere = true;
            send(p, s, e, text, true);
            return true;
        }
        Mode mode = Mode.IN_TRANSACTION;
        switch (first) {
            case "COMMIT", "ROLLBACK" -> mode = Mode.END;
            case "USE" -> {
                return false;
            }
            case "SET" -> {
                if (!Boolean.TRUE.equals(autocommit)) {
                    return false; // answered by the session (autocommit=0 changes nothing here; others are not applied)
                }
                mode = Mode.END_AUTOCOMMIT;
                text = "COMMIT";
            }
            default -> {
            }
        }
        Execute e = s != null && text == null ? parse(p, s) : null;
        if (s != null && text == null && e == null) {
            // long data or a cursor inside a relayed transaction
            error(1235, "42000", "[cluster=" + cluster + "] this statement (long data or a cursor) is not supported inside "
                    + "a transaction the proxy relays; roll back, or set proxy.relay: false");
            lastSequence = 0;
            this.command = command;
            this.done = done;
            finish();
            return true;
        }
        if (!pinned.idle()) {
            state.relayedTransactionLost("the server closed the connection between statements");
            return lost(command, done, mode == Mode.END_AUTOCOMMIT ? "COMMIT" : first);
        }
        begin(command, done, pinned, pinned.node, false, session.onlyGroup(), mode);
        ending = first;
        startedHere = false;
        send(p, s, e, text, false);
        return true;
    }

    /**
     * A statement of a transaction over several groups ({@link ShardedTransaction}): single-node prepared statements go
     * to the group's pinned connection here (BEGIN first on a new pin); COMMIT, ROLLBACK and SET autocommit=1 go to every
     * pin in turn; everything else returns false and runs on the JDBC path, on the same pins. Returns false when the
     * command is not for this path.
     */
    boolean tryShardedTransaction(Command command, CompletableFuture<Void> done) {
        if (command.sequence() != 0) {
            return false;
        }
        ShardedTransaction tx = state.sharded();
        if (command instanceof Command.ResetConnection || command instanceof Command.Quit) {
            if (tx != null) {
                abandon(tx); // closing the connections rolls back
            }
            return false;
        }
        if (!ctx.channel().isActive()) {
            return false;
        }
        TxCommand tc = TxCommand.read(command, state);
        if (tc == null) {
            return false;
        }
        String text = tc.text();
        SessionState.Prepared s = tc.prepared();
        ByteBuf p = tc.payload();
        String first = tc.first();
        Boolean autocommit = tc.autocommit();
        if (command instanceof Command.Query && Sql.severalStatements(text)) {
            return severalStatements(command, done, "proxy.relayShardedTransactions: false");
        }
        if (tx != null && tx.lost() != null) {
            if (first.equals("USE") || first.equals("SET") && autocommit == null) {
                return false; // answered by the session as always
            }
            return lostSharded(tx, command, done, Boolean.TRUE.equals(autocommit) ? "COMMIT" : first);
        }
        switch (first) {
            case "BEGIN", "START" -> {
                if (tx == null) {
                    return false; // the session notes it; the transaction starts with its first statement
                }
                endSharded(tx, "COMMIT", null, true, command, done); // as the server does: BEGIN commits an open transaction
                return true;
            }
            case "COMMIT", "ROLLBACK" -> {
                if (tx == null) {
                    return false;
                }
                endSharded(tx, first, null, false, command, done);
                return true;
            }
            case "SET" -> {
                if (tx == null || !Boolean.TRUE.equals(autocommit)) {
                    return false;
                }
                endSharded(tx, "COMMIT", Boolean.TRUE, false, command, done);
                return true;
            }
            case "USE" -> {
                return false;
            }
            default -> {
            }
        }
        if (tx == null) {
            tx = new ShardedTransaction(ctx.channel().eventLoop(), backends, router, session.relayVariant(), cluster,
                    session.database(), session.pinWaitMs());
            state.shardedStarted(tx);
        }
        if (s == null || text != null) {
            return false; // a text statement: ShardingSphere on the pinned connections
        }
        RouteTemplate t = session.template(s);
        if (t == null) {
            return gather(command, done, tx, s, p);
        }
        Execute e = t.parameterCount() != s.params ? null : parse(p, s);
        if (e == null) {
            return false;
        }
        int node = nodeOf(t, p, e);
        if (node < 0) {
            return false;
        }
        DataNode dataNode = t.node(node);
        ShardedTransaction.Pin pin = tx.pinOnLoop(dataNode.group());
        if (pin == null || !pin.backend.idle()) {
            backends.passedOn.increment();
            return false; // the JDBC path waits for a pin
        }
        begin(command, done, pin.backend, pin.backend.node, false, dataNode.group(), Mode.IN_TRANSACTION);
        shardedStatement = true;
        startedHere = false;
        boolean renamed = !dataNode.table().equalsIgnoreCase(t.table().name());
        this.logicalTable = renamed ? t.table().name() : null;
        this.physicalTable = renamed ? dataNode.table() : null;
        boolean beginFirst = !pin.begun;
        pin.begun = true;
        pin.backend.execute(t.sql(node), packet(p, e, s.params), this, beginFirst);
        return true;
    }

    /** The statement in flight belongs to a transaction over several groups. */
    private boolean shardedStatement;
    /** the client's error when that statement met a deadlock ({@link ShardedTransaction#deadlocked}); else null */
    private String deadlock;
    /** the multi-node SELECT in flight, or null */
    private Gather gathering;

    /**
     * A SELECT of a transaction over several groups that needs every data node and a plain merge ({@link ScatterTemplate}):
     * sent to each node on its group's pin, merged here ({@link Merge}) and answered as one binary result. False (nothing
     * sent) when the statement does not qualify or a group has no idle pin: it runs through ShardingSphere on the pins.
     */
    private boolean gather(Command command, CompletableFuture<Void> done, ShardedTransaction tx, SessionState.Prepared s,
                           ByteBuf p) {
        ScatterTemplate t = session.scatter(s);
        Execute e = t == null || t.parameterCount() != s.params ? null : parse(p, s);
        if (e == null) {
            return false;
        }
        java.util.Map<String, ShardedTransaction.Pin> pins = new java.util.HashMap<>();
        for (ScatterTemplate.Part part : t.parts()) {
            ShardedTransaction.Pin pin = tx.pinOnLoop(part.group());
            if (pin == null || !pin.backend.idle()) {
                backends.passedOn.increment();
                return false; // the JDBC path waits for a pin
            }
            pins.put(part.group(), pin);
        }
        // one UNION ALL per group once a node's own column definitions are known (the first run learns them node by node)
        boolean perGroup = t.resultColumns() != null;
        List<Gather.Step> steps = new java.util.ArrayList<>();
        if (perGroup) {
            for (ScatterTemplate.Part part : t.parts()) {
                steps.add(new Gather.Step(pins.get(part.group()), part.sql(), packet(p, e, s.params, part.repeat()),
                        part.tables()));
            }
        } else {
            IntFunction<ByteBuf> once = packet(p, e, s.params);
            for (int n = 0; n < t.nodeCount(); n++) {
                steps.add(new Gather.Step(pins.get(t.node(n).group()), t.sql(n), once, t.node(n).table()));
            }
        }
        this.command = command;
        this.done = done;
        this.backend = null;
        this.target = null;
        this.shardedStatement = false;
        this.aborted = false;
        lastSequence = 0;
        gathering = new Gather(t, steps, perGroup, cluster, this::gathered);
        gathering.start();
        return true;
    }

    @SuppressWarnings("unchecked")
    private void gathered(Gather g, List<Merge.NodeResult> results, Reply.Err error, String broke, boolean executeSent) {
        if (gathering != g) {
            return; // the command ended already (the client went away)
        }
        gathering = null;
        if (broke != null) {
            ShardedTransaction tx = state.sharded();
            if (tx != null) {
                tx.lostBecause(broke);
            }
            error(1180, "40001", "[cluster=" + cluster + "] the transaction was lost when " + broke
                    + "; roll back and start again");
            finish();
            return;
        }
        ShardedTransaction tx = state.sharded();
        if (error != null && tx != null && tx.deadlocked(error.code())) {
            rollBackDeadlocked(tx.deadlockMessage(error.code(), error.message()));
            return;
        }
        if (error != null) {
            Codec.encode(out(), 1, error);
            finish();
            return;
        }
        List<byte[]> rows;
        try {
            rows = Merge.rows(g.template(), results);
        } catch (Merge.MergeException ex) {
            error(1105, "HY000", "[cluster=" + cluster + "] " + ex.getMessage());
            finish();
            return;
        }
        List<BinaryRows.ColumnDef> columns = results.get(0).columns();
        ScatterTemplate t = g.template();
        if (!g.perGroup()) {
            t.resultColumns(columns); // a node's own definitions: the next runs send one UNION ALL per group
        } else if (t.resultColumns() instanceof List<?> known && sameEncoding(known, columns)) {
            columns = (List<BinaryRows.ColumnDef>) known;
        } else {
            t.resultColumns(null); // the UNION's columns differ (the schema changed): learn them again node by node
        }
        writeResult(columns, t, rows);
        backends.merged.increment();
        finish();
    }

    /** The rows of {@code union} read as those of {@code known}: as many columns, each of the same type and sign. */
    private static boolean sameEncoding(List<?> known, List<BinaryRows.ColumnDef> union) {
        if (known.size() != union.size()) {
            return false;
        }
        for (int i = 0; i < union.size(); i++) {
            BinaryRows.ColumnDef k = (BinaryRows.ColumnDef) known.get(i);
            if (k.type() != union.get(i).type() || k.unsigned() != union.get(i).unsigned()) {
                return false;
            }
        }
        return true;
    }

    /** A binary result set: the first node's column definitions (its table named by the logical name), then the rows. */
    private void writeResult(List<BinaryRows.ColumnDef> columns, ScatterTemplate t, List<byte[]> rows) {
        boolean deprecateEof = (session.relayVariant() & 1) != 0;
        String physical = t.node(0).table();
        String logical = t.table().name();
        int status = state.status();
        ByteBuf o = out();
        long size = 64L + 128L * columns.size();
        for (byte[] row : rows) {
            size += 4 + row.length;
        }
        o.ensureWritable((int) Math.min(size, FLUSH_BYTES + 4096)); // once, not by doubling as the rows go in
        int seq = 1;
        int at = Codec.beginPacket(o, seq++);
        Wire.lenencInt(o, columns.size());
        Codec.endPacket(o, at);
        for (BinaryRows.ColumnDef c : columns) {
            at = Codec.beginPacket(o, seq++ & 0xff);
            Columns.write(o, new Columns.Column(c.schema(), c.table().equalsIgnoreCase(physical) ? logical : c.table(),
                    c.orgTable().equalsIgnoreCase(physical) ? logical : c.orgTable(), c.name(), c.orgName(), c.type(),
                    c.flags(), c.decimals(), c.length(), c.charset()));
            Codec.endPacket(o, at);
        }
        if (!deprecateEof) {
            Codec.encode(o, seq++ & 0xff, new Reply.Eof(status, 0));
        }
        for (byte[] row : rows) {
            at = Codec.beginPacket(o, seq++ & 0xff);
            o.writeBytes(row);
            Codec.endPacket(o, at);
            if (o.readableBytes() >= FLUSH_BYTES) {
                ctx.writeAndFlush(o, ctx.voidPromise());
                out = null;
                o = out();
            }
        }
        Codec.encode(o, seq & 0xff, deprecateEof ? new Reply.Ok(true, 0, 0, status, 0) : new Reply.Eof(status, 0));
    }

    /**
     * A statement of a transaction over several groups met a deadlock: the server rolled back its own part (1213), or the
     * deadlock check interrupted the statement of the victim it chose ({@link dev.ballast.jdbc.internal.Deadlocks}). As a server does for a deadlock, the
     * whole transaction ends: ROLLBACK on every pin (which releases the locks the others wait for), then error 1213.
     */
    private void rollBackDeadlocked(String message) {
        ShardedTransaction tx = state.sharded();
        deadlock = null;
        lastSequence = 0;
        tx.end();
        closeJdbc(tx);
        Ending ending = new Ending(tx, "ROLLBACK", null, false);
        ending.failureCode = 1213;
        ending.failureState = "40001";
        ending.failure = message;
        ending.next();
    }

    /** Drops a transaction over several groups: its connections are closed (the servers roll back). */
    private void abandon(ShardedTransaction tx) {
        tx.end();
        for (ShardedTransaction.Pin pin : tx.pins()) {
            if (pin.backend != backend) {
                pin.backend.close();
            }
        }
        closeJdbc(tx);
        state.shardedEnded(null);
    }

    /** The session's JDBC connection for such transactions forgets this one's server connections (kept for the next). */
    private void closeJdbc(ShardedTransaction tx) {
        if (tx.jdbc != null) {
            tx.jdbc = null;
            session.shardedTransactionEnded();
        }
    }

    /** A statement after a pinned connection of the transaction broke: fails until the client ends the transaction. */
    private boolean lostSharded(ShardedTransaction tx, Command command, CompletableFuture<Void> done, String first) {
        this.command = command;
        this.done = done;
        lastSequence = 0;
        String why = tx.lost();
        boolean ends = first.equals("ROLLBACK") || first.equals("COMMIT") || first.equals("BEGIN") || first.equals("START");
        if (ends) {
            abandon(tx);
        }
        if (Outcomes.afterLostTransaction(first) == Outcome.ROLLED_BACK) {
            okPacket();
        } else if (ends) {
            error(1180, "40001", "[cluster=" + cluster + "] the transaction was rolled back on every group: " + why);
        } else {
            error(1180, "40001", "[cluster=" + cluster + "] the transaction was lost: " + why + "; roll back and start again");
        }
        finish();
        return true;
    }

    /**
     * Ends a transaction over several groups: {@code verb} (COMMIT or ROLLBACK) on each pinned connection in turn, the
     * order they were pinned in (no XA: a group committed stays committed if a later one fails). Then the connections go
     * back to the relay's pool and the client gets OK, or the first failure. {@code thenBegin}: a BEGIN ended it, and a
     * new transaction is wanted.
     */
    private void endSharded(ShardedTransaction tx, String verb, Boolean autocommitOn, boolean thenBegin, Command command,
                            CompletableFuture<Void> done) {
        this.command = command;
        this.done = done;
        lastSequence = 0;
        tx.end();
        closeJdbc(tx);
        String broken = null;
        for (ShardedTransaction.Pin pin : tx.pins()) {
            if (pin.begun && !pin.backend.idle()) {
                broken = "its connection to " + pin.backend.node.describe() + " was lost before COMMIT";
            }
        }
        Ending ending = new Ending(tx, broken != null && verb.equals("COMMIT") ? "ROLLBACK" : verb, autocommitOn, thenBegin);
        if (broken != null && verb.equals("COMMIT")) {
            // a part is known lost before anything was committed: roll back every group, commit none
            ending.failureCode = 1180;
            ending.failureState = "40001";
            ending.failure = "[cluster=" + cluster + "] the transaction was rolled back on every group: " + broken;
        }
        ending.next();
    }

    /** Sends the ending verb to each pin in turn, on the event loop. */
    private final class Ending implements Backend.Listener {
        final java.util.Iterator<ShardedTransaction.Pin> pins;
        final ShardedTransaction tx;
        final String verb;
        final Boolean autocommitOn;
        final boolean thenBegin;
        ShardedTransaction.Pin current;
        int committed;
        String failure;
        int failureCode;
        String failureState;

        Ending(ShardedTransaction tx, String verb, Boolean autocommitOn, boolean thenBegin) {
            this.tx = tx;
            this.pins = tx.pins().iterator();
            this.verb = verb;
            this.autocommitOn = autocommitOn;
            this.thenBegin = thenBegin;
        }

        void next() {
            while (pins.hasNext()) {
                current = pins.next();
                if (!current.begun) {
                    backends.release(current.backend);
                    continue;
                }
                if (!current.backend.idle()) {
                    current.backend.close();
                    broke("its connection to " + current.backend.node.describe() + " was lost before " + verb);
                    continue;
                }
                current.backend.query(id -> Codec.command(ctx.alloc(), Command.COM_QUERY, verb), this, false);
                return;
            }
            state.shardedEnded(autocommitOn);
            if (thenBegin) {
                state.begun();
            }
            if (failure == null) {
                okPacket();
            } else {
                Relay.this.error(failureCode, failureState, failure);
            }
            finish();
        }

        private void broke(String why) {
            if (failure != null) {
                return;
            }
            boolean commit = verb.equals("COMMIT");
            failureCode = commit ? 1105 : 1180;
            failureState = commit ? (committed > 0 ? "08007" : "40001") : "40001";
            failure = "[cluster=" + cluster + "] " + (commit ? (committed > 0 ? "outcome unknown: " + committed + " group(s) "
                    + "committed, then " : "the transaction was rolled back: ") : "") + why
                    + (commit && committed > 0 ? "; check before retrying" : "");
        }

        @Override
        public void frame(ByteBuf in, int index, int length) {
        }

        @Override
        public void column(ByteBuf in, int index, int length) {
        }

        @Override
        public void ok(boolean endOfRows, int sequence, long affected, long insertId, int status, int warnings, String gtid) {
            if (gtid != null) {
                state.readYourWrites().committed(current.group, gtid);
            }
        }

        @Override
        public boolean error(ByteBuf in, int index, int length, int code) {
            if (failure == null) {
                boolean marked = length >= 4 + 9 && in.getUnsignedByte(index + 7) == '#';
                failureCode = code;
                failureState = marked ? in.toString(index + 8, 5, StandardCharsets.US_ASCII) : "HY000";
                int textAt = index + (marked ? 13 : 7);
                failure = "[cluster=" + cluster + " node=" + current.backend.node.address() + "] " + verb + ": "
                        + in.toString(textAt, index + length - textAt, StandardCharsets.UTF_8);
            }
            return false;
        }

        @Override
        public void done(Backend b) {
            committed++;
            backends.release(b);
            next();
        }

        @Override
        public void prepareFailed(Backend b, int code, String message) {
            backends.release(b);
            next();
        }

        @Override
        public void failed(String why, boolean executeSent) {
            broke("the connection to " + current.backend.node.describe() + " broke during " + verb + " (" + why + ")");
            next();
        }
    }

    /**
     * A command of a relayed transaction, read as far as the transaction paths need: its text (a query, or a prepared
     * session statement such as COMMIT), or the prepared statement and its execute payload; the first word (BEGIN, START
     * only as START TRANSACTION, ROLLBACK only without TO, else as written) and, for SET, the autocommit value it sets.
     */
    private record TxCommand(String text, SessionState.Prepared prepared, ByteBuf payload, String first, Boolean autocommit) {

        /** Null when the command is not for the transaction paths (not a query or execute, or an unknown statement). */
        static TxCommand read(Command command, SessionState state) {
            String text = null;
            SessionState.Prepared s = null;
            ByteBuf p = null;
            if (command instanceof Command.Query q) {
                text = q.sql();
            } else if (command instanceof Command.Execute x) {
                p = x.payload();
                s = state.prepared(x.statementId());
                if (s == null) {
                    return null;
                }
                if (s.params == 0 && ClientSession.isSessionStatement(s.sql)) {
                    text = s.sql;
                }
            } else {
                return null;
            }
            String first = "";
            Boolean autocommit = null;
            if (text != null) {
                List<String> w = Sql.words(text, 4);
                first = w.isEmpty() ? "" : w.get(0);
                if (first.equals("ROLLBACK") && w.contains("TO") || first.equals("START") && !(w.size() > 1 && w.get(1).equals("TRANSACTION"))) {
                    first = "";
                }
                if (first.equals("SET")) {
                    autocommit = ClientSession.autocommitSetting(text, w);
                }
            }
            return new TxCommand(text, s, p, first, autocommit);
        }
    }

    /**
     * Several statements in one query inside a relayed transaction: refused (error 1235); the relay's server connections
     * do not ask for CLIENT_MULTI_STATEMENTS.
     */
    private boolean severalStatements(Command command, CompletableFuture<Void> done, String setting) {
        error(1235, "42000", "[cluster=" + cluster + "] several statements in one query are not supported inside a "
                + "transaction the proxy relays; send them one at a time, or set " + setting);
        lastSequence = 0;
        this.command = command;
        this.done = done;
        finish();
        return true;
    }

    private boolean startedHere;
    /** the first word of a COMMIT/ROLLBACK being relayed */
    private String ending = "";

    /** Sends the command on the transaction's connection: the client's query, a session statement as text, or the execute. */
    private void send(ByteBuf p, SessionState.Prepared s, Execute e, String text, boolean beginFirst) {
        if (text != null) {
            backend.query(id -> Codec.command(ctx.alloc(), Command.COM_QUERY, text), this, beginFirst);
        } else {
            backend.execute(s.sql, packet(p, e, s.params), this, beginFirst);
        }
    }

    /** The relayed transaction's connection broke: its statements fail until the client ends the transaction. */
    private boolean lost(Command command, CompletableFuture<Void> done, String first) {
        this.command = command;
        this.done = done;
        lastSequence = 0;
        String why = state.relayedTransactionLost();
        boolean ends = first.equals("ROLLBACK") || first.equals("COMMIT") || first.equals("BEGIN") || first.equals("START");
        if (ends) {
            state.relayedTransactionEnded(null);
        }
        if (Outcomes.afterLostTransaction(first) == Outcome.ROLLED_BACK) {
            okPacket();
        } else if (ends) {
            error(1180, "40001", "[cluster=" + cluster + "] the transaction was rolled back: its server connection broke ("
                    + why + ")");
        } else {
            error(1180, "40001", "[cluster=" + cluster + "] the transaction was lost when its server connection broke (" + why
                    + "); roll back and start again");
        }
        finish();
        return true;
    }

    /** The client's socket drained: read the server again. */
    void clientWritable() {
        if (backend != null) {
            backend.pauseReading(false);
        }
    }

    /** The client went away: drop the server connection (its reply is unread) and end the command. */
    void abort() {
        ShardedTransaction tx = state.sharded();
        if (tx != null) {
            abandon(tx);
        }
        Backend pinned = state.relayedTransaction();
        if (pinned != null) {
            state.relayedTransactionEnded(null);
            if (pinned != backend) {
                pinned.close(); // closing rolls the transaction back
            }
        }
        if (command == null) {
            return;
        }
        aborted = true;
        Backend b = backend;
        if (b != null) {
            b.close();
        } else {
            finish();
        }
    }

    // ---- replies -------------------------------------------------------------------------------------

    @Override
    public void frame(ByteBuf in, int index, int length) {
        ByteBuf o = out();
        o.writeBytes(in, index, length);
        sent(in.getUnsignedByte(index + 3));
    }

    @Override
    public void column(ByteBuf in, int index, int length) {
        if (physicalTable == null) {
            frame(in, index, length);
            return;
        }
        ByteBuf p = in.slice(index + 4, length - 4);
        byte[][] strings = new byte[6][];
        for (int i = 0; i < 6; i++) {
            strings[i] = Wire.readLenencBytes(p);
        }
        for (int i = 2; i <= 3; i++) { // table, org_table
            if (new String(strings[i], StandardCharsets.UTF_8).equalsIgnoreCase(physicalTable)) {
                strings[i] = logicalTable.getBytes(StandardCharsets.UTF_8);
            }
        }
        ByteBuf o = out();
        int at = Codec.beginPacket(o, in.getUnsignedByte(index + 3));
        for (byte[] s : strings) {
            Wire.lenencBytes(o, s);
        }
        o.writeBytes(p);
        Codec.endPacket(o, at);
        sent(in.getUnsignedByte(index + 3));
    }

    @Override
    public void ok(boolean endOfRows, int sequence, long affected, long insertId, int status, int warnings, String gtid) {
        if (!endOfRows) {
            if (!read) {
                if (gtid != null) {
                    state.readYourWrites().committed(group, gtid);
                } else {
                    state.readYourWrites().wrote();
                }
            }
            if (insertId != 0) {
                state.lastInsertId(insertId);
            }
        }
        Codec.encode(out(), sequence, new Reply.Ok(endOfRows, affected, insertId, status & ~Backend.SERVER_SESSION_STATE_CHANGED,
                warnings));
        sent(sequence);
    }

    /** A plain OK for the client, with its session's status. */
    private void okPacket() {
        Codec.encode(out(), 1, Reply.Ok.of(0, 0, state.status()));
    }

    @Override
    public boolean error(ByteBuf in, int index, int length, int code) {
        ShardedTransaction tx = shardedStatement ? state.sharded() : null;
        if (tx != null && tx.deadlocked(code)) {
            // a deadlock: the server rolled back its part, or the proxy chose this transaction to end one across groups
            deadlock = tx.deadlockMessage(code, "[cluster=" + cluster + " node=" + target.address() + "] "
                    + Reply.Err.read(in, index, length).message());
            return false;
        }
        if (Outcomes.serverError(mode, read, forwarded, code) == Outcome.FALL_BACK) {
            // read-only: a switchover is moving the master; nothing was written, the JDBC path waits and sends it again
            fallback = true;
            return false;
        }
        boolean marked = length >= 4 + 9 && in.getUnsignedByte(index + 7) == '#';
        router.metrics().error(dev.ballast.metrics.DataPlaneMetrics.RELAY,
                marked ? in.toString(index + 8, 2, StandardCharsets.US_ASCII) : "HY");
        return true;
    }

    @Override
    public void done(Backend b) {
        backend = null;
        if (deadlock != null && !aborted) {
            rollBackDeadlocked(deadlock);
            return;
        }
        switch (mode) {
            case SINGLE -> backends.release(b);
            case IN_TRANSACTION -> {
                // the connection stays with the client's transaction
            }
            case END -> {
                state.relayedTransactionEnded(null);
                backends.release(b);
            }
            case END_AUTOCOMMIT -> {
                state.relayedTransactionEnded(Boolean.TRUE);
                backends.release(b);
            }
        }
        if (fallback && !aborted) {
            toJdbcPath();
        } else {
            backends.relayed.increment();
            finish();
        }
    }

    @Override
    public void prepareFailed(Backend b, int code, String message) {
        backend = null;
        if (mode == Mode.SINGLE) {
            backends.release(b);
        } // inside a relayed transaction the connection stays with it
        switch (Outcomes.prepareFailed(mode, aborted)) {
            case FALL_BACK -> toJdbcPath(); // it reports the error with the node's name, or finds another way
            case PASS_ON -> {
                error(code, "HY000", message);
                finish();
            }
            default -> finish();
        }
    }

    @Override
    public void failed(String why, boolean executeSent) {
        backend = null;
        if (shardedStatement) {
            ShardedTransaction tx = state.sharded();
            if (tx != null) {
                tx.lost(why);
            }
            if (aborted) {
                finish();
            } else {
                error(1180, "40001", "[cluster=" + cluster + "] the transaction was lost when its connection to "
                        + (target == null ? "its server" : target.describe()) + " broke (" + why + ")"
                        + (executeSent ? "; the statement may have run, and is rolled back with the rest" : "")
                        + "; roll back and start again");
                finish();
            }
            return;
        }
        boolean ends = mode == Mode.END || mode == Mode.END_AUTOCOMMIT;
        Outcome outcome = Outcomes.connectionBroke(new Outcomes.Failure(mode, read, executeSent, forwarded, startedHere,
                ends && ending.equals("ROLLBACK"), aborted));
        if (mode != Mode.SINGLE && outcome != Outcome.NOTHING) {
            if (outcome == Outcome.FALL_BACK || ends) {
                state.relayedTransactionEnded(mode == Mode.END_AUTOCOMMIT ? Boolean.TRUE : null);
            } else {
                state.relayedTransactionLost(why);
            }
        }
        String node = target == null ? "its server" : target.describe();
        switch (outcome) {
            case NOTHING -> finish();
            case FALL_BACK -> toJdbcPath();
            case EJECT_AND_FALL_BACK -> {
                if (NodeDataSource.REPLICA.equals(target.role())) {
                    router.readFailedOn(target, new SQLException(why, "08S01"));
                }
                toJdbcPath();
            }
            case ROLLED_BACK -> {
                okPacket(); // the server rolls back a transaction whose connection closed
                finish();
            }
            case OUTCOME_UNKNOWN -> {
                error(1105, "08007", "[cluster=" + cluster + "] outcome unknown: the connection to " + node + " was lost while "
                        + (ends ? "COMMIT was in flight, so the transaction" : "a write was in flight, so it")
                        + " may or may not have been committed (" + why + "); check before retrying");
                finish();
            }
            case TRANSACTION_LOST -> {
                error(1180, "40001", "[cluster=" + cluster + "] the transaction was lost when its connection to " + node
                        + " broke (" + why + "); roll back and start again");
                finish();
            }
            case CONNECTION_LOST -> {
                error(2013, "HY000", "Lost connection to " + node + " during query: " + why
                        + (mode == Mode.SINGLE ? "" : "; the transaction is rolled back"));
                finish();
            }
            case PASS_ON -> finish();
        }
    }

    private void error(int code, String state, String message) {
        Codec.encode(out(), lastSequence + 1, new Reply.Err(code, state, message));
    }

    private ByteBuf out() {
        if (out == null) {
            out = ctx.alloc().buffer(512);
        }
        return out;
    }

    private void sent(int sequence) {
        forwarded = true;
        lastSequence = sequence;
        if (out.readableBytes() >= FLUSH_BYTES) {
            ctx.writeAndFlush(out, ctx.voidPromise());
            out = null;
            if (!ctx.channel().isWritable() && backend != null) {
                backend.pauseReading(true); // a slow client: the server waits, the proxy does not buffer the result
            }
        }
    }

    private void toJdbcPath() {
        if (out != null) {
            out.release();
            out = null;
        }
        Command c = command;
        CompletableFuture<Void> d = done;
        clear();
        backends.passedOn.increment();
        session.runOnWorker(c, d);
    }

    private void finish() {
        if (out != null) {
            ctx.writeAndFlush(out, ctx.voidPromise());
            out = null;
        }
        Command c = command;
        CompletableFuture<Void> d = done;
        clear();
        session.relayFinished(c, d);
    }

    private void clear() {
        gathering = null;
        command = null;
        done = null;
        backend = null;
        target = null;
    }
}
