package dev.ballast.proxy;

import dev.ballast.jdbc.internal.Session;

import java.io.ByteArrayOutputStream;
import java.sql.Connection;
import java.util.HashMap;
import java.util.Map;

/**
 * One client's session, owned in one place: autocommit, the transaction (begun, running on the JDBC path, or relayed on
 * a server connection, or lost with it), the prepared statements, the last insert id and the read-your-writes state.
 * The routing function reads it; the executors change it through the transitions below. It is touched by one command
 * at a time (commands run in order, each starting after the one before it completed), on the event loop or a worker.
 */
final class SessionState {

    static final int STATUS_IN_TRANS = 1, STATUS_AUTOCOMMIT = 2;

    /** A prepared statement of this client (ids are the proxy's, not a server's). */
    static final class Prepared {
        /** the fast-path route, looked up on first execute: a RouteTemplate, or {@link #NO_ROUTE} */
        Object route;
        /** the scatter-and-merge plan, looked up on first execute in a relayed sharded transaction: a ScatterTemplate, or {@link #NO_ROUTE} */
        Object scatter;
        final int id;
        final String sql;
        final int params;
        final Columns.Column[] columns;
        int[] types;
        final Map<Integer, ByteArrayOutputStream> longData = new HashMap<>();
        boolean longDataTooLarge;

        /** the statement is BEGIN or START TRANSACTION (without parameters) */
        final boolean begins;

        Prepared(int id, String sql, int params, Columns.Column[] columns) {
            this.id = id;
            this.sql = sql;
            this.params = params;
            this.columns = columns;
            this.begins = params == 0 && Sql.begins(sql);
        }
    }

    static final Object NO_ROUTE = new Object();

    private boolean autocommit = true;
    /** BEGIN / START TRANSACTION seen and not ended */
    private boolean explicit;
    /** the transaction's logical connection on the JDBC path, or null */
    private Connection jdbcTransaction;
    /** the server connection of the relayed transaction in progress, or null */
    private Backend relayedTransaction;
    /** why the relayed transaction's connection broke, until the client ends that transaction; else null */
    private String relayedTransactionLost;
    /** the relayed transaction over several groups in progress (or lost and not yet ended by the client), or null */
    private ShardedTransaction sharded;
    private final Map<Integer, Prepared> prepared = new HashMap<>();
    private int nextStatementId;
    private long lastInsertId;
    private final Session readYourWrites = new Session();

    // ---- what the routing function and the replies read ----------------------------------------------------

    boolean autocommit() {
        return autocommit;
    }

    /** The status flags of OK and EOF packets: SERVER_STATUS_AUTOCOMMIT, SERVER_STATUS_IN_TRANS. */
    int status() {
        int s = autocommit ? STATUS_AUTOCOMMIT : 0;
        if (explicit || !autocommit && (jdbcTransaction != null || relayedTransaction != null || sharded != null)) {
            s |= STATUS_IN_TRANS;
        }
        return s;
    }

    /** Whether a statement runs on its own: autocommit mode and no transaction begun, running or lost. */
    boolean autocommitStatement() {
        return autocommit && !explicit && jdbcTransaction == null && relayedTransaction == null && relayedTransactionLost == null
                && sharded == null;
    }

    /** Whether no transaction has started anywhere (none on the JDBC path, none relayed, none lost); BEGIN may be seen. */
    boolean nothingStarted() {
        return jdbcTransaction == null && relayedTransaction == null && relayedTransactionLost == null && sharded == null;
    }

    /** Whether the client is in a transaction that has not started anywhere yet (BEGIN seen, or autocommit off). */
    boolean transactionWanted() {
        return (explicit || !autocommit) && jdbcTransaction == null && relayedTransaction == null && sharded == null;
    }

    /** Whether a relayed transaction runs or was lost and not yet ended by the client. */
    boolean relayedTransactionOpen() {
        return relayedTransaction != null || relayedTransactionLost != null;
    }

    ShardedTransaction sharded() {
        return sharded;
    }

    void shardedStarted(ShardedTransaction tx) {
        sharded = tx;
    }

    /** The relayed transaction over several groups ended; {@code autocommitOn}: SET autocommit=1 ended it. */
    void shardedEnded(Boolean autocommitOn) {
        sharded = null;
        explicit = false;
        if (Boolean.TRUE.equals(autocommitOn)) {
            autocommit = true;
        }
    }

    boolean explicit() {
        return explicit;
    }

    Connection jdbcTransaction() {
        return jdbcTransaction;
    }

    Backend relayedTransaction() {
        return relayedTransaction;
    }

    String relayedTransactionLost() {
        return relayedTransactionLost;
    }

    long lastInsertId() {
        return lastInsertId;
    }

    Session readYourWrites() {
        return readYourWrites;
    }

    Prepared prepared(int id) {
        return prepared.get(id);
    }

    // ---- transitions -----------------------------------------------------------------------------------------

    void autocommit(boolean on) {
        autocommit = on;
    }

    void begun() {
        explicit = true;
    }

    /** COMMIT or ROLLBACK on the JDBC path, or a transaction closed: no transaction begun any more. */
    void ended() {
        explicit = false;
    }

    void jdbcTransaction(Connection c) {
        jdbcTransaction = c;
    }

    /** Takes the JDBC transaction's connection out of the session (to close it) and ends the transaction. */
    Connection takeJdbcTransaction() {
        Connection c = jdbcTransaction;
        jdbcTransaction = null;
        explicit = false;
        return c;
    }

    void relayedTransactionStarted(Backend b) {
        relayedTransaction = b;
        relayedTransactionLost = null;
    }

    void relayedTransactionLost(String why) {
        relayedTransaction = null;
        relayedTransactionLost = why;
    }

    /** The relayed transaction ended (committed, rolled back, or dropped); {@code autocommitOn}: SET autocommit=1 ended it. */
    void relayedTransactionEnded(Boolean autocommitOn) {
        relayedTransaction = null;
        relayedTransactionLost = null;
        explicit = false;
        if (Boolean.TRUE.equals(autocommitOn)) {
            autocommit = true;
        }
    }

    void lastInsertId(long id) {
        lastInsertId = id;
    }

    Prepared addPrepared(String sql, int params, Columns.Column[] columns) {
        int id = ++nextStatementId;
        Prepared p = new Prepared(id, sql, params, columns);
        prepared.put(id, p);
        return p;
    }

    void closePrepared(int id) {
        prepared.remove(id);
    }

    /** COM_RESET_CONNECTION or the end of the connection, once the executors let go of the transaction: a new session. */
    void reset() {
        autocommit = true;
        explicit = false;
        prepared.clear();
    }
}
