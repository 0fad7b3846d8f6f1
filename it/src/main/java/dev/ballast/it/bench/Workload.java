package dev.ballast.it.bench;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The statements measured, each against {@code t_bench (id BIGINT PRIMARY KEY, user_id INT NOT NULL, pad VARCHAR(64))}
 * with an index on {@code user_id}: without it a point select is a full scan, four times longer on the unsharded
 * raw server than on a quarter-size shard, and the comparison would measure that.
 * A worker holds one connection for a whole phase; "prepare per call" prepares, runs and closes a statement for
 * every operation, "statement reused" prepares once per phase.
 */
enum Workload {

    SELECT_PREPARE_EACH("point select", "prepare per call", false),
    SELECT_REUSED("point select", "statement reused", true),
    INSERT_PREPARE_EACH("insert", "prepare per call", false),
    INSERT_REUSED("insert", "statement reused", true);

    static final String TABLE = "t_bench";
    static final String CREATE = "CREATE TABLE %s (id BIGINT PRIMARY KEY, user_id INT NOT NULL, pad VARCHAR(64), KEY (user_id))";
    static final String SELECT = "SELECT id, pad FROM t_bench WHERE user_id = ?";
    static final String INSERT = "INSERT INTO t_bench (id, user_id, pad) VALUES (?, ?, ?)";
    static final String PAD = "ballast-benchmark-row-padding-0123456789";

    private final String statement;
    private final String preparation;
    private final boolean reuse;

    Workload(String statement, String preparation, boolean reuse) {
        this.statement = statement;
        this.preparation = preparation;
        this.reuse = reuse;
    }

    String label() {
        return statement + ", " + preparation;
    }

    boolean reuse() {
        return reuse;
    }

    boolean isSelect() {
        return this == SELECT_PREPARE_EACH || this == SELECT_REUSED;
    }

    String sql() {
        return isSelect() ? SELECT : INSERT;
    }

    /** The next operation's number: a random preloaded user for a select, the contender's next sequence for an insert. */
    long draw(Contender contender, int rows, ThreadLocalRandom random) {
        return isSelect() ? 1 + random.nextInt(rows) : contender.nextSeq();
    }

    /** The user_id (the sharding value) of the operation numbered {@code drawn}. */
    int userId(long drawn, int rows) {
        return isSelect() ? (int) drawn : Math.toIntExact(rows + 1 + drawn);
    }

    /**
     * The operation numbered {@code drawn} (see {@link #draw}) on a prepared statement of {@link #sql()} (or of its
     * shard's copy). A select reads that preloaded user (ids 1..rows, one row each) and fails when the row is missing;
     * an insert takes the contender's id base + the number and a user_id above rows, so the preloaded users keep
     * exactly one row.
     *
     * @return a value derived from the result, so that the work cannot be optimised away
     */
    long execute(PreparedStatement ps, Contender contender, int rows, long drawn) throws SQLException {
        if (isSelect()) {
            int userId = userId(drawn, rows);
            ps.setInt(1, userId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("[" + contender.name() + "] no row for user_id " + userId
                            + " although users 1.." + rows + " were preloaded");
                }
                return rs.getLong(1) + rs.getString(2).length();
            }
        }
        ps.setLong(1, contender.idBase() + drawn);
        ps.setInt(2, userId(drawn, rows));
        ps.setString(3, PAD);
        return ps.executeUpdate();
    }
}
