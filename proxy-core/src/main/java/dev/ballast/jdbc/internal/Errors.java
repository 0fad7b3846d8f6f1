package dev.ballast.jdbc.internal;

import dev.ballast.rules.shardingsphere.BallastShardingAlgorithm;

import org.apache.shardingsphere.infra.exception.core.external.sql.ShardingSphereSQLException;
import org.apache.shardingsphere.infra.exception.kernel.metadata.TableNotFoundException;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

/**
 * The one place where Ballast classifies and rewords failures, so that each names the cluster, group,
 * node or table involved and says what to do. The original exception is always kept as the cause.
 */
public final class Errors {

    /** SQLSTATE class 08: connection exception (connection could not be established). */
    public static final String CANNOT_CONNECT = "08001";
    /** SQLSTATE 08007: transaction resolution unknown (the connection died while a commit was in flight). */
    public static final String OUTCOME_UNKNOWN = "08007";
    /** MySQL/MariaDB error 1290 (ER_OPTION_PREVENTS_STATEMENT): the server runs with read_only. */
    public static final int READ_ONLY_SERVER = 1290;
    /** SQLSTATE 08S01: communication link failure. */
    public static final String LINK_FAILURE = "08S01";
    /** SQLSTATE 42S02: base table or view not found. */
    public static final String UNKNOWN_TABLE = "42S02";
    /** SQLSTATE 22023: invalid parameter value (a sharding value no data node holds). */
    public static final String BAD_SHARDING_VALUE = "22023";
    /** SQLSTATE 23000 (as MySQL's 1048 "Column cannot be null"): a row without its sharding value. */
    public static final String MISSING_SHARDING_VALUE = "23000";
    /** SQLSTATE HY000 (general error) for a generated key that could not be made: no worker id lease, or clock behind. */
    public static final String NO_KEY = "HY000";
    /** SQLSTATE 42000: syntax error or access rule violation (a statement Ballast cannot route). */
    public static final String CANNOT_ROUTE = "42000";

    private Errors() {
    }

    static SQLException unreachable(NodeDataSource node, SQLException cause) {
        String what = NodeDataSource.MASTER.equals(node.role()) ? "no reachable master" : "replica unreachable";
        return new SQLTransientConnectionException("[" + node.describe() + "] " + what + ": " + cause.getMessage()
                + "; check that the server is up and accepts connections from Ballast", CANNOT_CONNECT, cause);
    }

    /**
     * The connection died while a COMMIT (or an autocommit write) was in flight: the server may have committed it or
     * not, and nothing tells which. Reported as SQLSTATE 08007 and never retried by Ballast; a failure to connect
     * (nothing was sent) and other errors pass unchanged.
     */
    static SQLException inDoubt(SQLException e, String cluster, String what) {
        if (!Wrappers.isConnectionFailure(e) || CANNOT_CONNECT.equals(e.getSQLState()) || OUTCOME_UNKNOWN.equals(e.getSQLState())) {
            return e;
        }
        SQLException shown = e;
        while ((shown.getMessage() == null || shown.getMessage().isEmpty()) && shown.getNextException() != null
                && shown.getNextException() != shown) {
            shown = shown.getNextException();
        }
        String message = shown.getMessage() == null ? "" : shown.getMessage();
        String prefix = message.startsWith("[cluster=") ? "" : "[cluster=" + cluster + "] ";
        return new SQLTransientConnectionException(prefix + "outcome unknown: the connection was lost while " + what
                + " was in flight, so it may or may not have been committed (" + message + "); check before retrying a "
                + "write that is not idempotent", OUTCOME_UNKNOWN, e);
    }

    /** A failure on a connection Ballast holds to a known server: the same error, with the server named. */
    static SQLException onNode(NodeDataSource node, SQLException e) {
        if (e.getMessage() != null && e.getMessage().startsWith("[cluster=")) {
            return e;
        }
        String message = "[" + node.describe() + "] " + e.getMessage();
        if (e instanceof java.sql.SQLRecoverableException) {
            return new java.sql.SQLRecoverableException(message, e.getSQLState(), e.getErrorCode(), e);
        }
        if (e instanceof SQLTransientConnectionException) {
            return new SQLTransientConnectionException(message, e.getSQLState(), e.getErrorCode(), e);
        }
        return new SQLException(message, e.getSQLState(), e.getErrorCode(), e);
    }

    /** Rewords what ShardingSphere or the server threw; returns {@code e} itself when there is nothing to add. */
    public static SQLException translate(SQLException e, String cluster) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLTransientConnectionException c && c.getMessage() != null && c.getMessage().startsWith("[cluster=")) {
                return c == e ? e : withCause(new SQLTransientConnectionException(c.getMessage(), c.getSQLState(), c), e);
            }
            if (t instanceof ReadRouter.NoReplicaException n) {
                return new SQLTransientConnectionException(n.getMessage(), CANNOT_CONNECT, e);
            }
            if (t instanceof dev.ballast.keys.KeyGenerationException k) {
                // nothing was sent to a server; the same statement may succeed once a lease is held or the clock caught up
                return new java.sql.SQLTransientException(k.getMessage(), NO_KEY, e);
            }
            if (t instanceof BallastShardingAlgorithm.MissingShardingValueException m) {
                return new SQLException("[cluster=" + cluster + "] " + m.getMessage(), MISSING_SHARDING_VALUE, 1048, e);
            }
            if (t instanceof BallastShardingAlgorithm.ShardingValueException v) {
                return new SQLException("[cluster=" + cluster + "] " + v.getMessage(), BAD_SHARDING_VALUE, e);
            }
            if (t.getCause() == t) {
                break;
            }
        }
        String message = e.getMessage() == null ? "" : e.getMessage();
        if (message.contains("Insert statement does not support sharding table routing to multiple data nodes")) {
            return new SQLException("[cluster=" + cluster + "] INSERT into a sharded table must give a value for its "
                    + "sharding column (ShardingSphere: " + message + ")", CANNOT_ROUTE, e);
        }
        return e;
    }

    /**
     * ShardingSphere throws some failures as unchecked exceptions out of JDBC methods (unknown table,
     * routing errors); JDBC callers expect SQLException, so turn them into one.
     */
    public static SQLException translate(RuntimeException e, String cluster) {
        if (e instanceof ReadRouter.NoReplicaException) {
            return new SQLTransientConnectionException(e.getMessage(), CANNOT_CONNECT, e);
        }
        if (e instanceof dev.ballast.keys.KeyGenerationException) {
            return new java.sql.SQLTransientException(e.getMessage(), NO_KEY, e);
        }
        if (e instanceof TableNotFoundException) {
            return new SQLException("[cluster=" + cluster + "] " + e.getMessage() + " It is not in the cluster config's "
                    + "'tables' section: add it there (sharded, placed on a group, or broadcast) and create it through Ballast",
                    UNKNOWN_TABLE, 1146, e);
        }
        if (e instanceof ShardingSphereSQLException s) {
            SQLException sql = s.toSQLException();
            return translate(new SQLException("[cluster=" + cluster + "] " + sql.getMessage(), sql.getSQLState(),
                    sql.getErrorCode(), e), cluster);
        }
        return translate(new SQLException("[cluster=" + cluster + "] " + e, "HY000", e), cluster);
    }

    private static SQLException withCause(SQLException head, SQLException original) {
        head.setNextException(original);
        return head;
    }
}
