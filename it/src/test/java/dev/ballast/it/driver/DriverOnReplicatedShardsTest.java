package dev.ballast.it.driver;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.ReplicaGroupBed;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.it.testbed.TestBedUsers;
import dev.ballast.jdbc.Ballast;
import dev.ballast.jdbc.BallastDataSource;
import dev.ballast.jdbc.BallastDriver;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import dev.ballast.rules.DataNode;
import dev.ballast.rules.TableRule;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The foundation's acceptance, on real servers: 2 groups x (master + 2 replicas) in GTID semi-sync
 * replication, plus one standalone MariaDB that holds the same rows unsharded as the reference.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class DriverOnReplicatedShardsTest {

    static final String TABLES = """
            tables:
              t_order:
                shardingColumn: user_id
                tablesPerGroup: 2
                algorithm: {type: hash-mod}
                keyGenerator: {column: order_id}
              t_order_item:
                shardingColumn: user_id
                tablesPerGroup: 2
                algorithm: {type: hash-mod}
              t_account:
                shardingColumn: id
                tablesPerGroup: 2
                algorithm: {type: range, bounds: [1000, 2000, 3000]}
              t_ring:
                shardingColumn: k
                tablesPerGroup: 2
                algorithm: {type: consistent-hash}
              t_event:
                shardingColumn: at
                tablesPerGroup: 2
                algorithm: {type: interval, start: 2026-01-01, unit: month, amount: 3}
              t_moment:
                shardingColumn: id
                tablesPerGroup: 2
                algorithm: {type: hash-mod}
              t_user:
                group: g1
              t_region:
                broadcast: true
            bindingTables:
              - [t_order, t_order_item]
            """;

    TestBed bed;
    MariaDbNode reference;
    ClusterConfig config;
    BallastDataSource ds;
    String url;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        bed = TestBed.start(2, 2);
        reference = bed.startStandalone();
        Path file = ClusterYaml.forBed("acceptance", bed).with(TABLES).writeTo(dir.resolve("cluster.yaml"));
        url = "jdbc:ballast:" + file;
        config = ClusterConfigLoader.load(file);
        ds = new BallastDataSource(config);
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             Connection r = reference.connect(TestBed.DATABASE); Statement rs = r.createStatement()) {
            for (String ddl : List.of(
                    "CREATE TABLE t_order (order_id BIGINT PRIMARY KEY, user_id INT NOT NULL, status VARCHAR(10) NOT NULL, amount DECIMAL(10,2) NOT NULL)",
                    "CREATE TABLE t_order_item (item_id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL, user_id INT NOT NULL, qty INT NOT NULL)",
                    "CREATE TABLE t_account (id BIGINT PRIMARY KEY, balance INT NOT NULL)",
                    "CREATE TABLE t_ring (k VARCHAR(40) PRIMARY KEY, v INT NOT NULL)",
                    "CREATE TABLE t_event (id INT PRIMARY KEY, at DATETIME NOT NULL)",
                    "CREATE TABLE t_moment (id INT PRIMARY KEY, at DATETIME(6) NOT NULL, ts TIMESTAMP(3) NULL, t TIME(6) NULL)",
                    "CREATE TABLE t_user (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL)",
                    "CREATE TABLE t_region (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL)")) {
                s.execute(ddl);
                rs.execute(ddl);
            }
            s.executeUpdate("INSERT INTO t_user (id, name) VALUES (1, 'first')");
        }
        bed.awaitReplication();
    }

    @AfterAll
    void stop() {
        BallastDriver.close(url);
        if (ds != null) {
            ds.close();
        }
        if (bed != null) {
            bed.close();
        }
    }

    // ---- read/write split -------------------------------------------------------------------

    @Test
    void writesLandOnTheMasterAndAutocommitReadsComeFromEveryReplica() throws Exception {
        ReplicaGroupBed g1 = bed.groups().get(1);
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO t_user (id, name) VALUES (100, 'split')");
            bed.awaitReplication();
            Set<Long> seen = new HashSet<>();
            for (int i = 0; i < 6; i++) {
                try (ResultSet rs = s.executeQuery("SELECT @@server_id, name FROM t_user WHERE id = 100")) {
                    assertTrue(rs.next());
                    assertEquals("split", rs.getString(2));
                    seen.add(rs.getLong(1));
                }
            }
            assertEquals(serverIds(g1.replicas()), seen, "round robin over g1's replicas");
        }
        assertEquals(1, count(g1.master(), "SELECT COUNT(*) FROM t_user WHERE id = 100"));
        assertEquals(0, count(bed.groups().get(0).master(), "SELECT COUNT(*) FROM information_schema.tables "
                + "WHERE table_schema = '" + TestBed.DATABASE + "' AND table_name = 't_user'"), "vertical: t_user is only on g1");
    }

    @Test
    void readsInsideATransactionSeeTheirOwnWriteOnTheMaster() throws Exception {
        long master = bed.groups().get(1).master().serverId();
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO t_user (id, name) VALUES (101, 'tx')");
                try (ResultSet rs = s.executeQuery("SELECT @@server_id, name FROM t_user WHERE id = 101")) {
                    assertTrue(rs.next(), "own uncommitted row is visible");
                    assertEquals(master, rs.getLong(1));
                }
            } finally {
                c.rollback();
            }
        }
    }

    @Test
    void aTransactionMixingFastPathAndShardingSphereStatementsIsOneTransactionPerMaster() throws Exception {
        // ids 900000.. of t_account (range-sharded: >= 3000 is the last data node, in g1)
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO t_account (id, balance) VALUES (?, ?)");
                 PreparedStatement one = c.prepareStatement("SELECT balance FROM t_account WHERE id = ?");
                 Statement s = c.createStatement()) {
                for (int i = 0; i < 3; i++) { // fast path: one data node each
                    insert.setLong(1, 900000 + i);
                    insert.setInt(2, 10);
                    assertEquals(1, insert.executeUpdate());
                }
                // ShardingSphere (several nodes): sees the uncommitted rows of the same transaction
                try (ResultSet rs = s.executeQuery("SELECT COUNT(*), SUM(balance) FROM t_account WHERE id BETWEEN 900000 AND 900099")) {
                    assertTrue(rs.next());
                    assertEquals(3, rs.getInt(1));
                    assertEquals(30, rs.getInt(2));
                }
                // a ShardingSphere write, then a fast-path read of it
                assertEquals(3, s.executeUpdate("UPDATE t_account SET balance = balance + 1 WHERE id BETWEEN 900000 AND 900099"));
                one.setLong(1, 900001);
                try (ResultSet rs = one.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals(11, rs.getInt(1));
                }
                // one open transaction on g1's master, not one per path
                try (Connection admin = bed.groups().get(1).master().connect(TestBed.DATABASE, TestBedUsers.ADMIN_USER,
                        TestBedUsers.ADMIN_PASSWORD); ResultSet rs = admin.createStatement().executeQuery(
                        "SELECT COUNT(*) FROM information_schema.INNODB_TRX")) {
                    assertTrue(rs.next());
                    assertEquals(1, rs.getInt(1), "transactions open on g1's master");
                }
                c.rollback();
                try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM t_account WHERE id BETWEEN 900000 AND 900099")) {
                    assertTrue(rs.next());
                    assertEquals(0, rs.getInt(1), "the rollback undid both paths' writes");
                }
                insert.setLong(1, 900010);
                insert.setInt(2, 7);
                insert.executeUpdate();
                s.executeUpdate("UPDATE t_account SET balance = 8 WHERE id BETWEEN 900000 AND 900099");
                c.commit();
            } finally {
                c.setAutoCommit(true);
            }
        }
        try (Connection m = bed.groups().get(1).master().connect(TestBed.DATABASE); ResultSet rs = m.createStatement()
                .executeQuery("SELECT balance FROM t_account_3 WHERE id = 900010")) {
            assertTrue(rs.next(), "committed on the master");
            assertEquals(8, rs.getInt(1));
        }
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("DELETE FROM t_account WHERE id BETWEEN 900000 AND 900099");
        }
    }

    @Test
    void hintsAndLockingReadsGoToTheMaster() throws Exception {
        long master = bed.groups().get(1).master().serverId();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            assertEquals(master, serverIdOf(s, "/* ballast:master */ SELECT @@server_id FROM t_user WHERE id = 1"));
            assertEquals(master, serverIdOf(s, "SELECT @@server_id FROM t_user WHERE id = 1 /* ballast:master */"));
            assertEquals(master, serverIdOf(s, "SELECT @@server_id FROM t_user WHERE id = 1 FOR UPDATE"));
            assertEquals(master, serverIdOf(s, "SELECT @@server_id FROM t_user WHERE id = 1 LOCK IN SHARE MODE"));
            try (Ballast.Hint hint = Ballast.forceMaster()) {
                assertEquals(master, serverIdOf(s, "SELECT @@server_id FROM t_user WHERE id = 1"));
                try (PreparedStatement ps = c.prepareStatement("SELECT @@server_id FROM t_user WHERE id = ?")) {
                    ps.setInt(1, 1);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertEquals(master, rs.getLong(1));
                    }
                }
            }
            assertTrue(serverIds(bed.groups().get(1).replicas()).contains(
                    serverIdOf(s, "SELECT @@server_id FROM t_user WHERE id = 1")), "hint cleared after close");
        }
    }

    /** Issue 11: the hint is matched by its words, whatever the spacing and case; other comments and literals are not hints. */
    @Test
    void masterHintInAnySpellingGoesToTheMasterAndLookalikesDoNot() throws Exception {
        long master = bed.groups().get(1).master().serverId();
        Set<Long> replicas = serverIds(bed.groups().get(1).replicas());
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            for (String hint : List.of("/*ballast:master*/", "/* BALLAST:MASTER */", "/*  ballast : master */", "/*Ballast:\nMaster*/")) {
                assertEquals(master, serverIdOf(s, hint + " SELECT @@server_id FROM t_user WHERE id = 1"), hint);
                assertEquals(master, serverIdOf(s, "SELECT @@server_id FROM t_user WHERE id = 1 " + hint), hint);
                try (PreparedStatement ps = c.prepareStatement("SELECT @@server_id FROM t_user " + hint + " WHERE id = ?")) {
                    ps.setInt(1, 1);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertTrue(rs.next());
                        assertEquals(master, rs.getLong(1), "prepared, " + hint);
                    }
                }
            }
            for (String lookalike : List.of(
                    "SELECT @@server_id FROM t_user WHERE id = 1 /* ballast:masters */",
                    "SELECT @@server_id, '/* ballast:master */' FROM t_user WHERE id = 1",
                    "SELECT @@server_id FROM t_user WHERE id = 1 -- /* ballast:master */")) {
                assertTrue(replicas.contains(serverIdOf(s, lookalike)), "to a replica: " + lookalike);
            }
        }
    }

    // ---- sharding ----------------------------------------------------------------------------

    @Test
    void shardedRowsLandOnTheDataNodeTheAlgorithmNames() throws Exception {
        try (Connection c = ds.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO t_account (id, balance) VALUES (?, ?)")) {
                for (long id : new long[]{-5, 0, 999, 1000, 1999, 2000, 2999, 3000, 100_000}) {
                    ps.setLong(1, id);
                    ps.setInt(2, 1);
                    ps.executeUpdate();
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO t_ring (k, v) VALUES (?, ?)")) {
                for (int i = 0; i < 40; i++) {
                    ps.setString(1, "key-" + i);
                    ps.setInt(2, i);
                    ps.executeUpdate();
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO t_event (id, at) VALUES (?, ?)")) {
                for (int month = 1; month <= 12; month++) {
                    ps.setInt(1, month);
                    ps.setObject(2, LocalDateTime.of(2026, month, 15, 12, 0));
                    ps.executeUpdate();
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO t_order (user_id, status, amount) VALUES (?, 'new', 1)")) {
                for (int user = 500; user < 540; user++) {
                    ps.setInt(1, user);
                    ps.executeUpdate();
                }
            }
        }
        assertPlacement("t_account", "id", List.of(-5L, 0L, 999L, 1000L, 1999L, 2000L, 2999L, 3000L, 100_000L));
        List<Object> ringKeys = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            ringKeys.add("key-" + i);
        }
        assertPlacement("t_ring", "k", ringKeys);
        List<Object> months = new ArrayList<>();
        for (int month = 1; month <= 12; month++) {
            months.add(LocalDateTime.of(2026, month, 15, 12, 0));
        }
        assertPlacement("t_event", "id", months, "at");
        List<Object> users = new ArrayList<>();
        for (int user = 500; user < 540; user++) {
            users.add(user);
        }
        assertPlacement("t_order", "user_id", users);
    }

    /**
     * MariaDB 10.x greets with "5.5.5-10.11…", which Connector/J reads as MySQL 5.5 (no fractional seconds) and would
     * truncate every temporal parameter to whole seconds. Every way a value goes out keeps its fraction: the fast path,
     * ShardingSphere (a batch, a multi-row insert), text statements, and jdbc:ballast: URLs. Read back from the masters.
     */
    @Test
    void fractionsOfASecondReachTheServer() throws Exception {
        LocalDateTime at = LocalDateTime.of(2026, 12, 5, 9, 30, 1, 123_456_000);
        java.sql.Timestamp ts = java.sql.Timestamp.valueOf(LocalDateTime.of(2026, 12, 5, 9, 30, 2, 250_000_000));
        java.sql.Time t = new java.sql.Time(java.sql.Timestamp.valueOf("1970-01-01 10:11:12.345").getTime());
        try (Connection c = ds.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO t_moment (id, at, ts, t) VALUES (?, ?, ?, ?)")) {
                ps.setInt(1, 1); // one row: the fast path
                ps.setObject(2, at);
                ps.setTimestamp(3, ts);
                ps.setTime(4, t);
                ps.executeUpdate();
                for (int id = 2; id <= 3; id++) { // a batch: ShardingSphere
                    ps.setInt(1, id);
                    ps.setObject(2, at);
                    ps.setTimestamp(3, ts);
                    ps.setTime(4, t);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO t_moment (id, at, ts) VALUES (?, ?, ?), (?, ?, ?)")) {
                for (int i = 0; i < 2; i++) { // two rows, two shards
                    ps.setInt(3 * i + 1, 4 + i);
                    ps.setObject(3 * i + 2, at);
                    ps.setTimestamp(3 * i + 3, ts);
                }
                ps.executeUpdate();
            }
        }
        try (Connection c = DriverManager.getConnection(url); PreparedStatement ps =
                c.prepareStatement("INSERT INTO t_moment (id, at, ts) VALUES (?, ?, ?)")) {
            ps.setInt(1, 6);
            ps.setObject(2, at);
            ps.setTimestamp(3, ts);
            ps.executeUpdate();
        }
        TableRule.Sharded rule = (TableRule.Sharded) config.tables().get("t_moment");
        var function = rule.algorithm().newFunction(rule.dataNodes());
        for (int id = 1; id <= 6; id++) {
            DataNode node = rule.dataNodes().get(function.shardOf(id));
            MariaDbNode master = bed.groups().get(Integer.parseInt(node.group().substring(1))).master();
            try (Connection c = master.connect(TestBed.DATABASE); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT CAST(at AS CHAR), CAST(ts AS CHAR), CAST(t AS CHAR) FROM "
                         + node.table() + " WHERE id = " + id)) {
                assertTrue(rs.next(), "row " + id + " on " + node);
                assertEquals("2026-12-05 09:30:01.123456", rs.getString(1), "row " + id);
                assertEquals("2026-12-05 09:30:02.250", rs.getString(2), "row " + id);
                if (id <= 3) {
                    assertEquals("10:11:12.345000", rs.getString(3), "row " + id);
                }
            }
        }
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, at FROM t_moment ORDER BY id")) { // every shard, merged
            int n = 0;
            while (rs.next()) {
                n++;
                assertEquals(at, rs.getObject(2, LocalDateTime.class), "row " + rs.getInt(1));
            }
            assertEquals(6, n);
        }
    }

    /** Each value is found on exactly the data node that the table's algorithm names, by asking every master directly. */
    private void assertPlacement(String table, String column, List<Object> values) throws SQLException {
        assertPlacement(table, column, values, column);
    }

    private void assertPlacement(String table, String unused, List<Object> values, String column) throws SQLException {
        TableRule.Sharded rule = (TableRule.Sharded) config.tables().get(table);
        List<DataNode> nodes = rule.dataNodes();
        var function = rule.algorithm().newFunction(nodes);
        for (Object value : values) {
            DataNode expected = nodes.get(function.shardOf((Comparable<?>) value));
            for (DataNode node : nodes) {
                MariaDbNode master = bed.groups().get(Integer.parseInt(node.group().substring(1))).master();
                try (Connection c = master.connect(TestBed.DATABASE);
                     PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + node.table() + " WHERE " + column + " = ?")) {
                    ps.setObject(1, value);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertEquals(node.equals(expected) ? 1 : 0, rs.getInt(1), table + " value " + value + " on " + node
                                + " (expected only on " + expected + ")");
                    }
                }
            }
        }
    }

    @Test
    void scatterGatherReturnsWhatOneUnshardedServerReturns() throws Exception {
        String insertOrder = "INSERT INTO t_order (order_id, user_id, status, amount) VALUES (?, ?, ?, ?)";
        String insertItem = "INSERT INTO t_order_item (item_id, order_id, user_id, qty) VALUES (?, ?, ?, ?)";
        try (Connection c = ds.getConnection(); Connection r = reference.connect(TestBed.DATABASE)) {
            for (Connection target : List.of(c, r)) {
                try (PreparedStatement o = target.prepareStatement(insertOrder); PreparedStatement i = target.prepareStatement(insertItem)) {
                    for (int n = 1; n <= 120; n++) {
                        o.setLong(1, n);
                        o.setInt(2, n % 17);
                        o.setString(3, new String[]{"new", "paid", "shipped"}[n % 3]);
                        o.setBigDecimal(4, BigDecimal.valueOf((n * 37L) % 1000, 1));
                        o.executeUpdate();
                        i.setLong(1, n * 10L);
                        i.setLong(2, n);
                        i.setInt(3, n % 17);
                        i.setInt(4, n % 5 + 1);
                        i.executeUpdate();
                    }
                }
            }
            bed.awaitReplication();
            List<String> queries = List.of(
                    "SELECT order_id, user_id, amount FROM t_order WHERE order_id <= 120 ORDER BY amount DESC, order_id LIMIT 7",
                    "SELECT order_id FROM t_order WHERE order_id <= 120 ORDER BY order_id LIMIT 5, 3",
                    "SELECT COUNT(*), SUM(amount), MIN(amount), MAX(amount) FROM t_order WHERE order_id <= 120",
                    "SELECT AVG(amount) FROM t_order WHERE order_id <= 120",
                    "SELECT status, COUNT(*), SUM(amount), AVG(amount), MIN(order_id), MAX(order_id) FROM t_order WHERE order_id <= 120 GROUP BY status ORDER BY status",
                    "SELECT user_id, COUNT(*) AS n FROM t_order WHERE order_id <= 120 GROUP BY user_id ORDER BY n DESC, user_id LIMIT 4",
                    "SELECT COUNT(DISTINCT user_id) FROM t_order WHERE order_id <= 120",
                    "SELECT o.order_id, i.qty FROM t_order o JOIN t_order_item i ON o.order_id = i.order_id AND o.user_id = i.user_id "
                            + "WHERE o.user_id = 5 ORDER BY o.order_id",
                    "SELECT order_id, amount FROM t_order WHERE user_id IN (1, 2, 3) AND order_id <= 120 ORDER BY order_id",
                    "SELECT order_id FROM t_order WHERE order_id BETWEEN 10 AND 20 ORDER BY order_id DESC");
            for (String q : queries) {
                assertEquals(rows(r, q), rows(c, q), q);
            }
        }
    }

    @Test
    void broadcastWritesReachEveryGroup() throws Exception {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO t_region (id, name) VALUES (7, 'eu-west')");
        }
        bed.awaitReplication();
        for (ReplicaGroupBed group : bed.groups()) {
            for (MariaDbNode node : group.nodes()) {
                assertEquals(1, count(node, "SELECT COUNT(*) FROM t_region WHERE id = 7"), "t_region on " + node.address());
            }
        }
    }

    @Test
    void snowflakeKeysAreUniqueAcrossFourWriterThreads() throws Exception {
        int threads = 4;
        int perThread = 10_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    try (Connection c = ds.getConnection();
                         PreparedStatement ps = c.prepareStatement("INSERT INTO t_order (user_id, status, amount) VALUES (?, 'key', 0)")) {
                        for (int n = 0; n < perThread; n++) {
                            ps.setInt(1, 10_000 + thread * perThread + n);
                            ps.addBatch();
                            if (n % 500 == 499) {
                                ps.executeBatch();
                            }
                        }
                        ps.executeBatch();
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(180, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            assertEquals(threads * perThread, longOf(s, "/* ballast:master */ SELECT COUNT(*) FROM t_order WHERE status = 'key'"),
                    "rows written");
            assertEquals(threads * perThread, longOf(s,
                    "/* ballast:master */ SELECT COUNT(DISTINCT order_id) FROM t_order WHERE status = 'key'"), "distinct generated keys");
        }
    }

    // ---- driver entry points and errors -----------------------------------------------------

    @Test
    void driverUrlWorksAsHikariJdbcUrlAndBallastDataSourceAsHikariDataSource() throws Exception {
        HikariConfig viaUrl = new HikariConfig();
        viaUrl.setJdbcUrl(url);
        viaUrl.setMaximumPoolSize(2);
        HikariConfig viaDataSource = new HikariConfig();
        viaDataSource.setDataSource(ds);
        viaDataSource.setMaximumPoolSize(2);
        for (HikariConfig hc : List.of(viaUrl, viaDataSource)) {
            try (HikariDataSource hikari = new HikariDataSource(hc); Connection c = hikari.getConnection();
                 Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM t_region")) {
                assertTrue(rs.next());
            }
        }
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT name FROM t_user WHERE id = 1 /* ballast:master */")) {
            assertFalse(rs.next() && rs.getString(1) == null);
        }
    }

    @Test
    void unknownTableIsAnErrorNamingTheTable() throws Exception {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> s.executeQuery("SELECT * FROM t_missing"));
            assertEquals("42S02", e.getSQLState());
            assertTrue(e.getMessage().contains("t_missing") && e.getMessage().contains("cluster=acceptance"), e.getMessage());
        }
    }

    @Test
    void insertWithoutShardingValueIsAnErrorNamingTableAndColumn() throws Exception {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class,
                    () -> s.executeUpdate("INSERT INTO t_order (status, amount) VALUES ('x', 1)"));
            assertEquals("23000", e.getSQLState());
            assertTrue(e.getMessage().contains("t_order") && e.getMessage().contains("user_id"), e.getMessage());
            SQLException outOfRange = assertThrows(SQLException.class,
                    () -> s.executeUpdate("INSERT INTO t_event (id, at) VALUES (99, '2031-01-01 00:00:00')"));
            assertEquals("22023", outOfRange.getSQLState());
            assertTrue(outOfRange.getMessage().contains("t_event"), outOfRange.getMessage());
        }
    }

    @Test
    void distinctAggregateMixedWithOthersIsRefusedNotMergedWrongly() throws Exception {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class,
                    () -> s.executeQuery("SELECT COUNT(*), COUNT(DISTINCT user_id) FROM t_order"));
            assertEquals("0A000", e.getSQLState());
            assertThrows(SQLException.class, () -> c.prepareStatement("SELECT SUM(amount), COUNT(DISTINCT user_id) FROM t_order"));
        }
    }

    // ---- helpers -----------------------------------------------------------------------------

    private static Set<Long> serverIds(List<MariaDbNode> nodes) {
        Set<Long> ids = new HashSet<>();
        nodes.forEach(n -> ids.add((long) n.serverId()));
        return ids;
    }

    private static long longOf(Statement s, String sql) throws SQLException {
        return serverIdOf(s, sql);
    }

    private static long serverIdOf(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            assertTrue(rs.next(), sql);
            return rs.getLong(1);
        }
    }

    private static long count(MariaDbNode node, String sql) throws SQLException {
        try (Connection c = node.connect(TestBed.DATABASE); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static List<List<String>> rows(Connection c, String sql) throws SQLException {
        List<List<String>> rows = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    Object v = rs.getObject(i);
                    row.add(v instanceof BigDecimal d ? d.stripTrailingZeros().toPlainString() : String.valueOf(v));
                }
                rows.add(row);
            }
        }
        return rows;
    }
}
