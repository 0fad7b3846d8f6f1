package dev.ballast.jdbc.health;

import dev.ballast.rules.NodeAddress;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The probe's one plain JDBC connection to one server, opened on first use and again after it broke. One user at a
 * time (a probe task or {@link HealthProbe#freshApplied}); every call is bounded by the connect and socket timeouts
 * in its properties.
 */
final class ServerConnection {

    /** Reads from the open connection. */
    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private final String context;
    private final String url;
    private final Properties properties;
    private final ReentrantLock lock = new ReentrantLock();
    private Connection connection; // guarded by lock
    private volatile boolean closed;

    ServerConnection(String context, NodeAddress node, String database, Properties properties) {
        this.context = context;
        this.url = "jdbc:mysql://" + node + "/" + database;
        this.properties = properties;
    }

    /** {@code [cluster=… group=… node=…]}, the start of every message about this server. */
    String context() {
        return context;
    }

    /**
     * Runs {@code work} on the connection, opening it first if needed; a failure that breaks the connection closes
     * it, so the next call reconnects.
     *
     * @param lockWaitMs how long to wait while another user holds the connection
     */
    <T> T use(Work<T> work, long lockWaitMs) throws SQLException {
        try {
            if (!lock.tryLock(lockWaitMs, TimeUnit.MILLISECONDS)) {
                throw new SQLTransientConnectionException(context + " busy: the health probe has been waiting on it for over "
                        + lockWaitMs + " ms", "08001");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLTransientConnectionException(context + " interrupted while waiting for the probe connection", "08001", e);
        }
        try {
            if (closed) {
                throw new SQLNonTransientConnectionException(context + " the health probe is closed", "08003");
            }
            if (connection == null) {
                connection = DriverManager.getConnection(url, properties);
            }
            return work.run(connection);
        } catch (SQLException e) {
            if (breaksConnection(e)) {
                discard();
            }
            throw e;
        } finally {
            if (closed) {
                discard();
            }
            lock.unlock();
        }
    }

    /** The one place that decides whether a failure leaves the connection unusable. */
    static boolean breaksConnection(SQLException e) {
        String state = e.getSQLState();
        return state == null || state.startsWith("08") || e instanceof SQLRecoverableException
                || e instanceof SQLNonTransientConnectionException || e instanceof SQLTransientConnectionException
                || e instanceof SQLTimeoutException;
    }

    /** Reads one string column of a one-row query ({@code null} as ""). */
    static String single(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            if (!rs.next()) {
                throw new SQLException("'" + sql + "' returned no row", "02000");
            }
            String value = rs.getString(1);
            return value == null ? "" : value;
        }
    }

    private void discard() {
        Connection c = connection;
        connection = null;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException | RuntimeException ignored) {
                // it is broken or closing anyway
            }
        }
    }

    /** Closes the connection now, or, when a probe is using it, as soon as that probe ends (within its timeouts). */
    void close() {
        closed = true;
        if (lock.tryLock()) {
            try {
                discard();
            } finally {
                lock.unlock();
            }
        }
    }
}
