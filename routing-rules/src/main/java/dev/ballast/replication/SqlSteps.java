package dev.ballast.replication;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** What both dialects do the same way: statements that may meet a server that is no replica, quoting, NULL text. */
final class SqlSteps {

    /**
     * "The server is not configured as replica" (ER_SLAVE_MUST_STOP / ER_BAD_REPLICA): MariaDB and MySQL 8.4 both answer
     * 1200 to START/STOP SLAVE (REPLICA) on a server with no master; MySQL's STOP REPLICA there only notes 3084.
     */
    static final int NOT_A_REPLICA = 1200;

    private SqlSteps() {
    }

    /** Runs {@code sql}; a server that is not a replica (error 1200) is fine, as the step then has nothing to do. */
    static void ignoringNotReplica(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            if (e.getErrorCode() != NOT_A_REPLICA) {
                throw e;
            }
        }
    }

    /** A string literal. */
    static String quote(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    /** A heartbeat period in ms as the seconds CHANGE MASTER takes ({@code 0.5}), to the millisecond. */
    static String seconds(long ms) {
        return java.math.BigDecimal.valueOf(ms, 3).stripTrailingZeros().toPlainString();
    }

    /** Seconds with a fraction as text ({@code "2.500"}) to whole ms; -1 when absent or not a number. */
    static long millis(String seconds) {
        if (seconds == null || seconds.isBlank()) {
            return -1;
        }
        try {
            return new java.math.BigDecimal(seconds.trim()).movePointRight(3).setScale(0, java.math.RoundingMode.HALF_UP)
                    .longValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
            return -1;
        }
    }

    /**
     * Runs a GTID wait function ({@code SELECT MASTER_GTID_WAIT(?, ?)}, {@code SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?)}:
     * position, seconds) that answers 0 once applied. The connection's socket timeout (the probe timeout, shorter than a
     * wait may last) is raised for the call and put back.
     *
     * @return true when applied, false on timeout
     */
    static boolean awaitGtid(Connection c, String waitSql, String position, long waitMs) throws SQLException {
        int old = c.getNetworkTimeout();
        try (PreparedStatement ps = c.prepareStatement(waitSql)) {
            c.setNetworkTimeout(Runnable::run, (int) Math.min(Integer.MAX_VALUE, waitMs + 5_000));
            ps.setString(1, position);
            ps.setDouble(2, waitMs / 1000.0);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1) == 0 && !rs.wasNull();
            }
        } finally {
            c.setNetworkTimeout(Runnable::run, old);
        }
    }

    /** ER_LOCK_WAIT_TIMEOUT: {@code SET GLOBAL read_only} met a commit in progress within {@code lock_wait_timeout}. */
    static final int LOCK_WAIT_TIMEOUT = 1205;

    /**
     * Kills every client connection of the server but {@code c}'s own: replication threads (receiver, applier, a
     * replica's dump thread) and the server's own threads stay. A connection gone meanwhile (1094) is fine.
     *
     * @return how many connections were killed
     */
    static int killClients(Connection c) throws SQLException {
        java.util.List<Long> ids = new java.util.ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT ID FROM information_schema.PROCESSLIST"
                + " WHERE ID <> CONNECTION_ID() AND USER NOT IN ('system user', 'event_scheduler')"
                + " AND COMMAND NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon', 'Slave_IO', 'Slave_SQL', 'Slave_worker',"
                + " 'Killed')")) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        }
        int killed = 0;
        for (long id : ids) {
            try (Statement s = c.createStatement()) {
                s.execute("KILL CONNECTION " + id);
                killed++;
            } catch (SQLException e) {
                if (e.getErrorCode() == 1095) {   // ER_KILL_DENIED_ERROR
                    throw new SQLException("killing client connection " + id + ": " + e.getMessage() + " (the admin user "
                            + "needs CONNECTION ADMIN on MariaDB, CONNECTION_ADMIN on MySQL, to fence a master it replaces)",
                            e.getSQLState(), e.getErrorCode(), e);
                }
                if (e.getErrorCode() != 1094) {   // ER_NO_SUCH_THREAD: it ended by itself
                    throw e;
                }
            }
        }
        return killed;
    }

    /**
     * Deposes a master: kills its client connections, then runs {@code readOnlySql} with {@code lock_wait_timeout}
     * {@code lockWaitSeconds}, again and again while a commit holds it off, until {@code timeoutMs} has passed.
     *
     * <p>Why in this order (measured on MariaDB 10.11, a commit waiting for a semi-sync ack that will never come):
     * {@code SET GLOBAL read_only = ON} waits for that commit until {@code rpl_semi_sync_master_timeout}, after which the
     * server acknowledges it without any replica holding it; {@code rpl_semi_sync_master_enabled = OFF} and
     * {@code KILL QUERY} acknowledge it at once. Only killing its connection leaves the client without an OK (it sees the
     * connection break: outcome unknown), which is the truth, as the new master does not hold that transaction.
     *
     * @return how many client connections were killed
     * @throws SQLException naming the server's answer when it is still not read-only after {@code timeoutMs}
     */
    static int deposeKillingClients(Connection c, String readOnlySql, int lockWaitSeconds, long timeoutMs)
            throws SQLException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        int killed = 0;
        try (Statement s = c.createStatement()) {
            s.execute("SET SESSION lock_wait_timeout = " + lockWaitSeconds);
            while (true) {
                killed += killClients(c);
                try {
                    s.execute(readOnlySql);
                    break;
                } catch (SQLException e) {
                    if (e.getErrorCode() != LOCK_WAIT_TIMEOUT || System.nanoTime() > deadline) {
                        throw new SQLException("'" + readOnlySql + "' after killing " + killed + " client connection(s): "
                                + e.getMessage(), e.getSQLState(), e.getErrorCode(), e);
                    }
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("interrupted while deposing the master", "70100", ie);
                }
            }
            s.execute("SET SESSION lock_wait_timeout = DEFAULT");
        }
        return killed;
    }

    static String nz(String s) {
        return s == null ? "" : s;
    }
}
