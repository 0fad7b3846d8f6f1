package dev.ballast.it.fastpath;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.ReplicaGroupBed;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.jdbc.BallastDataSource;
import dev.ballast.jdbc.fastpath.RouteTemplate;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same statements through the fast path and through ShardingSphere alone (fastPath: false) give the
 * same rows, update counts and target servers (group and role of the server that answered, and the
 * physical table that holds a written row).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class FastPathEquivalenceTest {

    static final String TABLES = """
            readPolicy:
              readYourWrites: off
            tables:
              t_order:
                shardingColumn: user_id
                tablesPerGroup: 2
                algorithm: {type: hash-mod}
              t_order_item:
                shardingColumn: user_id
                tablesPerGroup: 2
                algorithm: {type: hash-mod}
              t_user:
                group: g1
            bindingTables:
              - [t_order, t_order_item]
            """;

    TestBed bed;
    BallastDataSource fast;
    BallastDataSource plain;
    ClusterConfig config;
    final Map<Long, String> serverRole = new HashMap<>();

    @BeforeAll
    void start() throws Exception {
        bed = TestBed.start(2, 1);
        ClusterYaml yaml = ClusterYaml.forBed("equiv", bed);
        for (int g = 0; g < 2; g++) {
            ReplicaGroupBed group = bed.groups().get(g);
            serverRole.put((long) group.master().serverId(), "g" + g + "/master");
            for (MariaDbNode r : group.replicas()) {
                serverRole.put((long) r.serverId(), "g" + g + "/replica");
            }
        }
        yaml.with(TABLES);
        config = ClusterConfigLoader.parse(yaml.text(), System::getenv);
        plain = new BallastDataSource(ClusterConfigLoader.parse(yaml.text() + "fastPath: false\n", System::getenv));
        try (Connection c = plain.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t_order (id BIGINT PRIMARY KEY, user_id INT NOT NULL, status VARCHAR(10), amount DECIMAL(10,2))");
            s.execute("CREATE TABLE t_order_item (item_id BIGINT PRIMARY KEY, order_id BIGINT, user_id INT NOT NULL, qty INT)");
            s.execute("CREATE TABLE t_user (id INT PRIMARY KEY, name VARCHAR(20))");
            for (int i = 1; i <= 40; i++) {
                s.executeUpdate("INSERT INTO t_order VALUES (" + i + ", " + (i % 8) + ", '" + (i % 2 == 0 ? "paid" : "new") + "', " + i + ".5)");
                s.executeUpdate("INSERT INTO t_order_item VALUES (" + (i * 10) + ", " + i + ", " + (i % 8) + ", " + (i % 3) + ")");
            }
            s.executeUpdate("INSERT INTO t_user VALUES (1, 'ada'), (2, 'bob')");
        }
        bed.awaitReplication();
        // ShardingSphere learns tables at start (or from DDL run through itself): start after the DDL above.
        fast = new BallastDataSource(config);
    }

    @AfterAll
    void stop() {
        if (fast != null) {
            fast.close();
        }
        if (plain != null) {
            plain.close();
        }
        if (bed != null) {
            bed.close();
        }
    }

    record Query(String sql, Object... params) {
    }

    @Test
    void readsGiveTheSameRowsFromTheSameKindOfServer() throws Exception {
        List<Query> corpus = List.of(
                new Query("SELECT @@server_id AS sid, id, status, amount FROM t_order WHERE user_id = ? ORDER BY id", 3),
                new Query("SELECT @@server_id AS sid, o.id FROM t_order o WHERE o.status = ? AND o.user_id = ? ORDER BY o.id LIMIT ?", "paid", 2, 3),
                new Query("SELECT @@server_id AS sid, COUNT(*), SUM(amount) FROM t_order WHERE user_id = 5"),
                new Query("SELECT @@server_id AS sid, t_order.id FROM t_order WHERE t_order.user_id = ? AND (id < 10 OR id > 30) ORDER BY id", 1),
                new Query("SELECT @@server_id AS sid, name FROM t_user WHERE id = ?", 1),
                new Query("SELECT @@server_id AS sid, id FROM t_order WHERE user_id = ? FOR UPDATE", 6),
                new Query("SELECT id FROM t_order WHERE user_id IN (?, ?) ORDER BY id", 1, 2),
                new Query("SELECT id FROM t_order WHERE user_id BETWEEN ? AND ? ORDER BY id", 2, 5),
                new Query("SELECT o.id, i.qty FROM t_order o JOIN t_order_item i ON o.id = i.order_id AND o.user_id = i.user_id WHERE o.user_id = ? ORDER BY o.id", 4),
                new Query("SELECT status, COUNT(*), SUM(amount) FROM t_order GROUP BY status ORDER BY status"),
                new Query("SELECT id FROM t_order ORDER BY amount DESC LIMIT 5"));
        int fastRouted = 0;
        for (Query q : corpus) {
            if (RouteTemplate.analyze(q.sql(), config).isPresent()) {
                fastRouted++;
            }
            for (int round = 0; round < 3; round++) { // round robin must not matter
                assertEquals(run(plain, q), run(fast, q), q.sql());
            }
        }
        assertEquals(6, fastRouted, "statements the fast path takes in this corpus");
    }

    @Test
    void writesGiveTheSameCountsAndLandOnTheSameDataNode() throws Exception {
        for (BallastDataSource ds : List.of(plain, fast)) {
            String where = null;
            for (int user = 0; user < 8; user++) {
                long id = 1000 + user;
                try (Connection c = ds.getConnection()) {
                    assertEquals(1, update(c, "INSERT INTO t_order (id, user_id, status, amount) VALUES (?, ?, 'w', 1)", id, user));
                    assertEquals(1, update(c, "UPDATE t_order SET amount = amount + ? WHERE user_id = ? AND id = ?", 2, user, id));
                    assertEquals(0, update(c, "UPDATE t_order SET amount = 0 WHERE user_id = ? AND id = ?", user + 1, id));
                    where = locate(id);
                    assertEquals(expectedNode(user), where, "row of user " + user);
                    assertEquals(1, update(c, "DELETE FROM t_order WHERE user_id = ? AND id = ?", user, id));
                    assertEquals("", locate(id));
                }
            }
            assertTrue(where != null);
        }
    }

    private String expectedNode(int user) {
        int node = user % 4; // hash-mod over 4 data nodes
        return "g" + (node / 2) + ".t_order_" + node;
    }

    private String locate(long id) throws SQLException {
        List<String> found = new ArrayList<>();
        for (int g = 0; g < 2; g++) {
            MariaDbNode master = bed.groups().get(g).master();
            for (int node = 2 * g; node < 2 * g + 2; node++) {
                if (!master.query("SELECT id FROM " + TestBed.DATABASE + ".t_order_" + node + " WHERE id = " + id).isEmpty()) {
                    found.add("g" + g + ".t_order_" + node);
                }
            }
        }
        return String.join(",", found);
    }

    private static int update(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            return ps.executeUpdate();
        }
    }

    private List<List<String>> run(BallastDataSource ds, Query q) throws SQLException {
        List<List<String>> rows = new ArrayList<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(q.sql())) {
            for (int i = 0; i < q.params().length; i++) {
                ps.setObject(i + 1, q.params()[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                int n = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    List<String> row = new ArrayList<>();
                    for (int i = 1; i <= n; i++) {
                        Object v = rs.getObject(i);
                        if ("sid".equalsIgnoreCase(rs.getMetaData().getColumnLabel(i))) {
                            row.add(serverRole.get(((Number) v).longValue()));
                        } else {
                            row.add(v instanceof BigDecimal d ? d.stripTrailingZeros().toPlainString() : String.valueOf(v));
                        }
                    }
                    rows.add(row);
                }
            }
        }
        return rows;
    }
}
