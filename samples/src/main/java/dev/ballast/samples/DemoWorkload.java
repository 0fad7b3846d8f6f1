package dev.ballast.samples;

import dev.ballast.jdbc.Ballast;

import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.TreeMap;

/**
 * A short workload over the demo schema. Every read selects {@code @@server_id} next to its columns, so
 * the server that answered is visible; writes are followed to the server that holds the row.
 */
public final class DemoWorkload {

    /** The tables part of the demo cluster config. */
    public static final String TABLES_YAML = """
            tables:
              t_order:
                shardingColumn: user_id
                tablesPerGroup: 2
                algorithm: {type: hash-mod}
                keyGenerator: {column: order_id, type: snowflake}
              t_user:
                group: g1
              t_region:
                broadcast: true
            """;

    private final PrintStream out;
    private final Map<Long, String> serverNames;
    private final Map<String, Map<String, Integer>> where = new TreeMap<>();

    private final Runnable awaitReplicas;

    /**
     * @param serverNames   {@code @@server_id} to a readable name such as {@code g0 replica 127.0.0.1:3312}
     * @param awaitReplicas returns once every replica has applied what its master has
     */
    public DemoWorkload(PrintStream out, Map<Long, String> serverNames, Runnable awaitReplicas) {
        this.out = out;
        this.serverNames = serverNames;
        this.awaitReplicas = awaitReplicas;
    }

    public void run(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS t_order (order_id BIGINT PRIMARY KEY, user_id INT NOT NULL, "
                    + "amount DECIMAL(10,2) NOT NULL)");
            s.execute("CREATE TABLE IF NOT EXISTS t_user (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL)");
            s.execute("CREATE TABLE IF NOT EXISTS t_region (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL)");
            out.println("created t_order (sharded: 2 groups x 2 tables), t_user (on g1), t_region (broadcast)");
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO t_order (user_id, amount) VALUES (?, ?)")) {
            for (int user = 0; user < 20; user++) {
                ps.setInt(1, user);
                ps.setBigDecimal(2, java.math.BigDecimal.valueOf(10 + user, 0));
                ps.executeUpdate();
            }
        }
        try (Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO t_user (id, name) VALUES (1, 'ada'), (2, 'grace')");
            s.executeUpdate("INSERT INTO t_region (id, name) VALUES (1, 'eu'), (2, 'us')");
        }
        out.println("inserted 20 orders (ids by snowflake), 2 users, 2 regions");
        awaitReplicas.run();
        for (int user = 0; user < 4; user++) {
            record("point read t_order (autocommit)", c, "SELECT @@server_id FROM t_order WHERE user_id = " + user);
        }
        for (int i = 0; i < 4; i++) {
            record("read t_user (autocommit)", c, "SELECT @@server_id FROM t_user WHERE id = 1");
        }
        record("locking read (FOR UPDATE)", c, "SELECT @@server_id FROM t_user WHERE id = 1 FOR UPDATE");
        record("read with /* ballast:master */", c, "/* ballast:master */ SELECT @@server_id FROM t_user WHERE id = 1");
        try (Ballast.Hint hint = Ballast.forceMaster()) {
            record("read with Ballast.forceMaster()", c, "SELECT @@server_id FROM t_user WHERE id = 1");
        }
        c.setAutoCommit(false);
        try {
            try (Statement s = c.createStatement()) {
                s.executeUpdate("UPDATE t_user SET name = 'ada lovelace' WHERE id = 1");
            }
            record("read inside a transaction", c, "SELECT @@server_id FROM t_user WHERE id = 1");
            c.commit();
        } finally {
            c.setAutoCommit(true);
        }
        for (Map.Entry<String, Map<String, Integer>> e : where.entrySet()) {
            out.printf("%-34s -> %s%n", e.getKey(), e.getValue());
        }
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT user_id, amount FROM t_order ORDER BY amount DESC LIMIT 3")) {
            StringBuilder top = new StringBuilder();
            while (rs.next()) {
                top.append(" (user ").append(rs.getInt(1)).append(", ").append(rs.getBigDecimal(2)).append(')');
            }
            out.println("scatter-gather ORDER BY amount DESC LIMIT 3 over 4 shards:" + top);
        }
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*), SUM(amount), AVG(amount) FROM t_order")) {
            rs.next();
            out.println("scatter-gather COUNT/SUM/AVG over 4 shards: " + rs.getLong(1) + " / " + rs.getBigDecimal(2)
                    + " / " + rs.getBigDecimal(3));
        }
    }

    private void record(String kind, Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                String server = serverNames.getOrDefault(rs.getLong(1), "server_id " + rs.getLong(1));
                where.computeIfAbsent(kind, k -> new TreeMap<>()).merge(server, 1, Integer::sum);
            }
        }
    }
}
