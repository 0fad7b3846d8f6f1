package dev.ballast.replication;

import java.sql.Connection;
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

    static String nz(String s) {
        return s == null ? "" : s;
    }
}
