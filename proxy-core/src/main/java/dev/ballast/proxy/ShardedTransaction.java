package dev.ballast.proxy;

import dev.ballast.jdbc.internal.NodeDataSource;
import dev.ballast.jdbc.internal.ReadRouter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransactionRollbackException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A client's transaction over several groups, relayed: one server connection ({@link Backend}) per group's master it
 * touches, pinned for the transaction's length, with BEGIN sent before its first statement there. The relay sends
 * single-node statements to the pinned connection on the event loop; every other statement (several nodes, text the
 * relay cannot route) runs through ShardingSphere on a worker thread, whose master connections are {@link PinnedJdbc}
 * views of the same pinned connections, so each group's part is one transaction on one server session whichever path
 * ran its statements. COMMIT and ROLLBACK go to each pinned connection in turn (no XA, as on the JDBC path).
 *
 * <p>Pins are made and used on the client's event loop; a worker thread reaches them through {@link #pinFromWorker} and
 * {@link #run}, which hand the work to the event loop and wait. Commands of one client run one at a time, so the relay
 * and a worker never use a pin at once; ShardingSphere may use the pins of different groups from several threads,
 * which the event loop serialises.
 */
final class ShardedTransaction implements dev.ballast.jdbc.internal.Deadlocks.Transaction {

    /** One group's pinned server connection. */
    static final class Pin {
        final String group;
        final Backend backend;
        /** BEGIN went before a statement on it */
        boolean begun;

        Pin(String group, Backend backend) {
            this.group = group;
            this.backend = backend;
        }
    }

    private final EventLoop loop;
    private final Backends backends;
    private final ReadRouter router;
    private final int variant;
    private final String cluster;
    private final String database;
    private final long waitMs;
    private final Map<String, Pin> pins = new LinkedHashMap<>();
    /** the pins as another thread (the deadlock check) may read them */
    private volatile Pin[] pinned = new Pin[0];
    /** when the transaction was made (System.nanoTime): the younger of a deadlock's transactions is rolled back */
    final long startedNanos = System.nanoTime();
    /** why the deadlock check chose this transaction to roll back, once it did; else null */
    private volatile String victim;
    /** why the transaction is lost (a pinned connection broke, a deadlock), until the client ends it; null while it is not */
    private volatile String lost;
    /** set once the transaction ended: the JDBC views do nothing from then on */
    private volatile boolean ended;
    /** the JDBC path's logical connection for this transaction, made on its first statement there; else null */
    Connection jdbc;

    ShardedTransaction(EventLoop loop, Backends backends, ReadRouter router, int variant, String cluster, String database,
                       long waitMs) {
        this.loop = loop;
        this.backends = backends;
        this.router = router;
        this.variant = variant;
        this.cluster = cluster;
        this.database = database;
        this.waitMs = waitMs;
        if (backends != null && backends.deadlocks != null) { // backends: null in the routing's unit tests
            backends.deadlocks.register(this);
        }
    }

    @Override
    public long startedNanos() {
        return startedNanos;
    }

    /** The earliest start of a statement in flight on its pins (several at once for a multi-node SELECT), or 0. */
    @Override
    public long busySinceNanos() {
        long earliest = 0;
        for (Pin p : pinned) {
            long since = p.backend.busySinceNanos;
            if (since != 0 && (earliest == 0 || since - earliest < 0)) {
                earliest = since;
            }
        }
        return earliest;
    }

    @Override
    public List<dev.ballast.jdbc.internal.Deadlocks.Held> held() {
        List<dev.ballast.jdbc.internal.Deadlocks.Held> held = new ArrayList<>();
        for (Pin p : pinned) {
            long id = p.backend.serverThreadId;
            if (id != 0) {
                held.add(new dev.ballast.jdbc.internal.Deadlocks.Held(p.backend.node, id));
            }
        }
        return held;
    }

    /** Why it was chosen as a deadlock's victim, or null. */
    String victim() {
        return victim;
    }

    /** Marks it as the victim of a deadlock across groups: its waiting statement is about to be interrupted. */
    @Override
    public void victim(String why) {
        if (victim == null) {
            victim = why;
        }
    }

    /**
     * Whether a server error on one of its statements means that the transaction is to be rolled back on every group:
     * a deadlock the server found (it rolled back its own part already) or a statement interrupted because this
     * transaction is a deadlock's victim.
     */
    boolean deadlocked(int code) {
        return code == 1213 || code == 1317 && victim != null;
    }

    /**
     * The message for the client when {@link #deadlocked}: for the server's own deadlock its message (with the node
     * already named in it) and that the proxy rolled back the rest; for a victim, why the proxy chose it.
     */
    String deadlockMessage(int code, String serverMessage) {
        return code == 1213 ? serverMessage + " (Ballast rolled the transaction back on every group)" : victim;
    }

    String cluster() {
        return cluster;
    }

    String database() {
        return database;
    }

    boolean ended() {
        return ended;
    }

    String lost() {
        return lost;
    }

    /** A pinned connection broke ({@code why}): the transaction is lost. */
    void lost(String why) {
        lostBecause("a server connection broke (" + why + ")");
    }

    /** The transaction is lost, for the reason {@code clause} gives ("a server connection broke (...)"). */
    void lostBecause(String clause) {
        if (lost == null) {
            lost = clause;
        }
    }

    /** The pins, in the order they were made (the order COMMIT goes in). Event loop only. */
    List<Pin> pins() {
        return new ArrayList<>(pins.values());
    }

    /** The group's pin, made now from an idle relay connection to its master if there is one; else null. Event loop only. */
    Pin pinOnLoop(String group) {
        Pin p = pins.get(group);
        if (p != null) {
            return p;
        }
        NodeDataSource master = router.masterIfServing(group);
        Backend b = master == null ? null : backends.acquire(loop, master, variant);
        if (b == null) {
            return null;
        }
        p = new Pin(group, b);
        pins.put(group, p);
        pinned = pins.values().toArray(new Pin[0]);
        return p;
    }

    /** The group's pin, for a worker thread: waits (at most the pool's connect timeout) for a relay connection. */
    Pin pinFromWorker(String group) throws SQLException {
        long deadline = System.nanoTime() + waitMs * 1_000_000L;
        while (true) {
            checkUsable();
            Pin p = onLoop(() -> pinOnLoop(group));
            if (p != null) {
                return p;
            }
            if (System.nanoTime() > deadline) {
                NodeDataSource master = router.master(group);
                throw new SQLException("[cluster=" + cluster + " group=" + group + "] no relay connection to the master "
                        + (master == null ? "" : master.address() + " ") + "for this transaction within " + waitMs + " ms: "
                        + "the master is not serving (a failover under way? see 'ballast status'), or all "
                        + "proxy.relayConnections to it are in use", "08001");
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted", "08001", e);
            }
        }
    }

    private void checkUsable() throws SQLException {
        if (ended) {
            throw new SQLException("[cluster=" + cluster + "] the transaction has ended", "08003");
        }
        if (lost != null) {
            throw new SQLTransactionRollbackException("[cluster=" + cluster + "] the transaction was lost: " + lost
                    + "; roll back and start again", "40001");
        }
    }

    private <T> T onLoop(java.util.concurrent.Callable<T> work) throws SQLException {
        try {
            return loop.submit(work).get(waitMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted", "08001", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new SQLException("[cluster=" + cluster + "] " + e, "08001", e);
        }
    }

    /** What one statement sent on a pin gave: rows (with their columns) or an update count, or an error. */
    record Result(List<BinaryRows.ColumnDef> columns, List<Object[]> rows, long affected, long insertId, int warnings) {
    }

    /**
     * Runs {@code sql} on the pin from a worker thread: a prepared statement with {@code params}, BEGIN first when it is
     * the pin's first statement. Waits for the whole reply (at most {@code pool.socketTimeoutMs}, which the connection
     * enforces itself). A broken connection loses the transaction: every later statement fails with 40001.
     */
    Result run(Pin pin, String sql, Object[] params) throws SQLException {
        checkUsable();
        Collector c = new Collector(pin);
        loop.execute(() -> {
            if (!pin.backend.idle()) {
                c.failed(pin.backend.closed() ? "the connection is closed" : "the connection is busy", false);
                return;
            }
            boolean begin = !pin.begun;
            pin.begun = true;
            pin.backend.execute(sql, id -> BinaryRows.executePacket(id, params), c, begin);
        });
        try {
            return c.result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted", "08001", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof SQLException s) {
                throw new SQLException(s.getMessage(), s.getSQLState(), s.getErrorCode(), s);
            }
            throw new SQLException(e.getCause());
        }
    }

    /** Marks the transaction ended: the JDBC views do nothing from now on. */
    void end() {
        ended = true;
        if (backends != null && backends.deadlocks != null) {
            backends.deadlocks.unregister(this);
        }
    }

    /** Collects one reply on the event loop into a {@link Result}. */
    private final class Collector implements Backend.Listener {
        final CompletableFuture<Result> result = new CompletableFuture<>();
        final Pin pin;
        final List<BinaryRows.ColumnDef> columns = new ArrayList<>();
        final List<Object[]> rows = new ArrayList<>();
        boolean countSeen;
        long affected = -1;
        long insertId;
        int warnings;
        SQLException error;
        /** the error is a deadlock's: the transaction ends here */
        boolean deadlock;

        Collector(Pin pin) {
            this.pin = pin;
        }

        @Override
        public void frame(ByteBuf in, int index, int length) {
            int header = length > 4 ? in.getUnsignedByte(index + 4) : -1;
            if (!countSeen) {
                countSeen = true; // the column count
                return;
            }
            if (header == 0xfe && length - 4 < 9) {
                return; // EOF after the columns, or at the end of the rows
            }
            if (header == 0xff) {
                error = errorOf(in, index, length);
                return;
            }
            try {
                rows.add(BinaryRows.decodeRow(in.slice(index + 4, length - 4), columns));
            } catch (RuntimeException e) {
                error = new SQLException("[cluster=" + cluster + "] cannot read a row from " + pin.backend.node.describe() + ": " + e,
                        "HY000");
            }
        }

        @Override
        public void column(ByteBuf in, int index, int length) {
            countSeen = true;
            columns.add(BinaryRows.ColumnDef.parse(in.slice(index + 4, length - 4)));
        }

        @Override
        public void ok(boolean endOfRows, int sequence, long affected, long insertId, int status, int warnings, String gtid) {
            if (!endOfRows) {
                this.affected = affected;
                this.insertId = insertId;
            }
            this.warnings = warnings;
        }

        @Override
        public boolean error(ByteBuf in, int index, int length, int code) {
            error = errorOf(in, index, length);
            return false;
        }

        private SQLException errorOf(ByteBuf in, int index, int length) {
            Reply.Err e = Reply.Err.read(in, index, length);
            if (deadlocked(e.code())) {
                // done() closes the pins: the servers roll back the rest now, releasing the locks others wait for
                String why = deadlockMessage(e.code(), "[cluster=" + cluster + " node=" + pin.backend.node.address() + "] "
                        + e.message());
                lostBecause("it met a deadlock (" + why + ")");
                deadlock = true;
                return new SQLTransactionRollbackException(why, "40001", 1213);
            }
            return new SQLException(e.message(), e.state(), e.code());
        }

        @Override
        public void done(Backend b) {
            if (deadlock) {
                // the others wait for this transaction's locks: closing its connections rolls it back on every group
                // now, not when the client gets to send ROLLBACK
                for (Pin p : pins.values()) {
                    p.backend.close();
                }
            }
            if (error != null) {
                result.completeExceptionally(error);
            } else {
                result.complete(new Result(columns.isEmpty() && affected >= 0 ? null : columns, rows,
                        Math.max(affected, 0), insertId, warnings));
            }
        }

        @Override
        public void prepareFailed(Backend b, int code, String message) {
            result.completeExceptionally(new SQLException(message, code == 1295 || code == 1064 ? "42000" : "HY000", code));
        }

        @Override
        public void failed(String why, boolean executeSent) {
            lost(why);
            result.completeExceptionally(new SQLTransactionRollbackException("[cluster=" + cluster + "] the transaction was "
                    + "lost when its connection to " + pin.backend.node.describe() + " broke (" + why + ")"
                    + (executeSent ? "; the statement may have run before, and is rolled back with it" : "")
                    + "; roll back and start again", "40001"));
        }
    }
}
