package dev.ballast.proxy;

import dev.ballast.jdbc.fastpath.RouteTemplate;
import dev.ballast.jdbc.internal.NodeDataSource;
import dev.ballast.jdbc.internal.ReadRouter;
import dev.ballast.rules.DataNode;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;

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
    private final Backends backends;
    private final ReadRouter router;
    private final String cluster;
    private final ChannelHandlerContext ctx;

    // the statement in flight
    private Packet packet;
    private CompletableFuture<Void> done;
    private Backend backend;
    private NodeDataSource target;
    private boolean read;
    private String group;
    private String logicalTable;
    private String physicalTable;
    private boolean forwarded;
    private boolean fallback;
    private boolean aborted;
    private int lastSequence;
    private ByteBuf out;

    Relay(ClientSession session, Backends backends, ReadRouter router, String cluster, ChannelHandlerContext ctx) {
        this.session = session;
        this.backends = backends;
        this.router = router;
        this.cluster = cluster;
        this.ctx = ctx;
    }

    /**
     * Starts relaying {@code packet} when it is a statement the relay handles; then the relay completes {@code done}
     * (or hands the packet to the JDBC path). False: nothing was done, the caller takes the JDBC path.
     */
    boolean tryStart(Packet packet, CompletableFuture<Void> done) {
        ByteBuf p = packet.payload();
        int at = p.readerIndex();
        if (packet.sequence() != 0 || p.readableBytes() < 10 || p.getUnsignedByte(at) != ClientSession.COM_STMT_EXECUTE
                || !session.relayable()) {
            return false;
        }
        ClientSession.Prepared s = session.prepared(p.getIntLE(at + 1));
        if (s == null || p.getUnsignedByte(at + 5) != 0 || !s.longData.isEmpty() || s.longDataTooLarge) {
            return false;
        }
        RouteTemplate t = session.template(s);
        if (t == null || t.parameterCount() != s.params) {
            return false;
        }
        int pos = at + 10;
        int nullsAt = pos;
        int bitmap = (s.params + 7) / 8;
        int[] types = s.types;
        int valuesAt = pos;
        if (s.params > 0) {
            if (p.writerIndex() < pos + bitmap + 1) {
                return false;
            }
            pos += bitmap;
            if (p.getUnsignedByte(pos++) == 1) {
                if (p.writerIndex() < pos + 2 * s.params) {
                    return false;
                }
                types = new int[s.params];
                for (int i = 0; i < s.params; i++) {
                    types[i] = p.getUnsignedShortLE(pos + 2 * i);
                }
                pos += 2 * s.params;
                s.types = types;
            } else if (types == null) {
                return false;
            }
            valuesAt = pos;
        }
        Object key = null;
        if (t.keyParameter() > 0) {
            int k = t.keyParameter() - 1;
            if ((p.getUnsignedByte(nullsAt + k / 8) & (1 << (k % 8))) != 0) {
                return false;
            }
            ByteBuf values = p.duplicate().readerIndex(valuesAt);
            try {
                for (int i = 0; i <= k; i++) {
                    if ((p.getUnsignedByte(nullsAt + i / 8) & (1 << (i % 8))) != 0) {
                        continue;
                    }
                    Object v = BinaryValues.read(values, types[i]);
                    if (i == k) {
                        key = v;
                    }
                }
            } catch (RuntimeException e) {
                return false; // the JDBC path reports it
            }
        }
        int node;
        try {
            node = t.nodeIndex(key);
        } catch (IllegalArgumentException e) {
            return false;
        }
        DataNode dataNode = t.node(node);
        NodeDataSource server = t.isRead() ? router.chooseWithoutWaiting(dataNode.group(), session.ballastSession())
                : router.masterIfServing(dataNode.group());
        if (server == null) {
            return false;
        }
        int valuesLength = p.writerIndex() - valuesAt;
        int payloadLength = 10 + (s.params > 0 ? bitmap + 1 + 2 * s.params + valuesLength : 0);
        if (payloadLength >= 0xFFFFFF) {
            return false;
        }
        Backend b = backends.acquire(ctx.channel().eventLoop(), server, session.relayVariant());
        if (b == null) {
            backends.passedOn.increment();
            return false;
        }
        this.packet = packet;
        this.done = done;
        this.backend = b;
        this.target = server;
        this.read = t.isRead();
        this.group = dataNode.group();
        boolean renamed = !dataNode.table().equalsIgnoreCase(t.table().name());
        this.logicalTable = renamed ? t.table().name() : null;
        this.physicalTable = renamed ? dataNode.table() : null;
        this.forwarded = false;
        this.fallback = false;
        this.aborted = false;
        int[] sentTypes = types;
        int params = s.params;
        int from = valuesAt;
        b.execute(t.sql(node), statementId -> {
            ByteBuf e = ctx.alloc().buffer(4 + payloadLength);
            e.writeMediumLE(payloadLength);
            e.writeByte(0);
            e.writeByte(ClientSession.COM_STMT_EXECUTE);
            e.writeIntLE(statementId);
            e.writeByte(0); // no cursor
            e.writeIntLE(1);
            if (params > 0) {
                e.writeBytes(p, nullsAt, bitmap);
                e.writeByte(1); // types always: this server connection may not have seen them
                for (int type : sentTypes) {
                    e.writeShortLE(type);
                }
                e.writeBytes(p, from, valuesLength);
            }
            return e;
        }, this);
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
        if (packet == null) {
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
        int at = o.writerIndex();
        o.writeMediumLE(0);
        o.writeByte(in.getUnsignedByte(index + 3));
        for (byte[] s : strings) {
            Wire.lenencBytes(o, s);
        }
        o.writeBytes(p);
        o.setMediumLE(at, o.writerIndex() - at - 4);
        sent(in.getUnsignedByte(index + 3));
    }

    @Override
    public void ok(boolean endOfRows, int sequence, long affected, long insertId, int status, int warnings, String gtid) {
        if (!endOfRows) {
            if (!read) {
                if (gtid != null) {
                    session.ballastSession().committed(group, gtid);
                } else {
                    session.ballastSession().wrote();
                }
            }
            if (insertId != 0) {
                session.lastInsertId(insertId);
            }
        }
        ByteBuf o = out();
        int at = o.writerIndex();
        o.writeMediumLE(0);
        o.writeByte(sequence);
        o.writeByte(endOfRows ? 0xfe : 0x00);
        Wire.lenencInt(o, affected);
        Wire.lenencInt(o, insertId);
        o.writeShortLE(status & ~Backend.SERVER_SESSION_STATE_CHANGED);
        o.writeShortLE(warnings);
        o.setMediumLE(at, o.writerIndex() - at - 4);
        sent(sequence);
    }

    @Override
    public boolean error(ByteBuf in, int index, int length, int code) {
        if (code == 1290 && !read && !forwarded) {
            // read-only: a switchover is moving the master; nothing was written, the JDBC path waits and sends it again
            fallback = true;
            return false;
        }
        return true;
    }

    @Override
    public void done(Backend b) {
        backend = null;
        backends.release(b);
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
        backends.release(b);
        if (aborted) {
            finish();
        } else {
            toJdbcPath(); // it reports the error with the node's name, or finds another way
        }
    }

    @Override
    public void failed(String why, boolean executeSent) {
        backend = null;
        if (aborted) {
            finish();
            return;
        }
        if (!forwarded) {
            if (read) {
                if (NodeDataSource.REPLICA.equals(target.role())) {
                    router.readFailedOn(target, new SQLException(why, "08S01"));
                }
                toJdbcPath();
                return;
            }
            if (!executeSent) {
                toJdbcPath();
                return;
            }
            error(1105, "08007", "[cluster=" + cluster + "] outcome unknown: the connection to " + target.describe()
                    + " was lost while a write was in flight, so it may or may not have been committed (" + why
                    + "); check before retrying");
        } else {
            error(2013, "HY000", "Lost connection to " + target.describe() + " during query: " + why);
        }
        finish();
    }

    private void error(int code, String state, String message) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        ByteBuf o = out();
        o.writeMediumLE(9 + text.length);
        o.writeByte(lastSequence + 1);
        o.writeByte(0xff);
        o.writeShortLE(code);
        o.writeByte('#');
        o.writeBytes(state.getBytes(StandardCharsets.US_ASCII), 0, 5);
        o.writeBytes(text);
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
        Packet p = packet;
        CompletableFuture<Void> d = done;
        clear();
        backends.passedOn.increment();
        session.runOnWorker(p, d);
    }

    private void finish() {
        if (out != null) {
            ctx.writeAndFlush(out, ctx.voidPromise());
            out = null;
        }
        Packet p = packet;
        CompletableFuture<Void> d = done;
        clear();
        session.relayFinished(p, d);
    }

    private void clear() {
        packet = null;
        done = null;
        backend = null;
        target = null;
    }
}
