package dev.ballast.it.proxy;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.proxy.ProxyServer;
import dev.ballast.rules.ClusterConfigLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Transactions over two groups through the proxy's relay (issue 15 item 4): single-node statements go to one pinned server
 * connection per group, multi-node statements run through ShardingSphere on those same connections. Each transaction is
 * run through the relaying proxy and through a proxy with {@code relayShardedTransactions: false} (the JDBC path), and
 * every result a client sees must be the same; what a transaction wrote must be visible to its own multi-node reads
 * before COMMIT (the same server sessions) and to nobody else's.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ShardedTransactionTest {

    static TestBed bed;
    static ProxyServer relay;
    static ProxyServer jdbc;
    /** relays transactions, but leaves every multi-node statement to ShardingSphere (proxy.relayMerge: false) */
    static ProxyServer ssMerge;
    static final String USER = "tx_user";
    static final String PASSWORD = "tx-pw";

    @BeforeAll
    static void start() throws Exception {
        bed = TestBed.start(2, 1);
        String cluster = ClusterYaml.forBed("shardtx", bed).with("""
                tables:
                  t_tx:
                    shardingColumn: id
                    tablesPerGroup: 2
                    algorithm: {type: hash-mod}
                """).text();
        jdbc = new ProxyServer(ClusterConfigLoader.parse(cluster + ClusterYaml.proxySection(USER, PASSWORD, false,
                "relayShardedTransactions: false"), System::getenv)).start();
        try (Connection c = connect(jdbc); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t_tx (id BIGINT PRIMARY KEY, v INT NOT NULL, name VARCHAR(40), amount DECIMAL(12,3), "
                    + "f DOUBLE, at DATETIME(3), d DATE, b BIGINT UNSIGNED, bin VARBINARY(8), note TEXT)");
        }
        relay = new ProxyServer(ClusterConfigLoader.parse(cluster + ClusterYaml.proxySection(USER, PASSWORD, false),
                System::getenv)).start();
        ssMerge = new ProxyServer(ClusterConfigLoader.parse(cluster + ClusterYaml.proxySection(USER, PASSWORD, false,
                "relayMerge: false"), System::getenv)).start();
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[]{ssMerge, relay, jdbc, bed}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    @BeforeEach
    void empty() throws Exception {
        try (Connection c = connect(jdbc); Statement s = c.createStatement()) {
            s.executeUpdate("DELETE FROM t_tx");
        }
    }

    static Connection connect(ProxyServer proxy) throws SQLException {
        return DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + proxy.port() + "/" + bed.database()
                + "?sslMode=DISABLED&useServerPrepStmts=true&cachePrepStmts=true", USER, PASSWORD);
    }

    /** One transaction's statements and what each answered, as text. */
    static List<String> transaction(ProxyServer proxy, boolean commit) throws SQLException {
        List<String> seen = new ArrayList<>();
        try (Connection c = connect(proxy); Connection other = connect(proxy)) {
            c.setAutoCommit(false);
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO t_tx (id, v, name, amount, f, at, d, b, bin, note) "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                for (int id = 1; id <= 8; id++) { // one node each: relayed
                    ins.setLong(1, id);
                    ins.setInt(2, id * 10);
                    ins.setString(3, id % 3 == 0 ? null : "n'" + id);
                    ins.setBigDecimal(4, new BigDecimal(id + ".125"));
                    ins.setDouble(5, id / 4.0);
                    ins.setObject(6, LocalDateTime.of(2026, 12, 5, 10, id, 1, 250_000_000));
                    ins.setObject(7, java.time.LocalDate.of(2026, 1, id));
                    ins.setBigDecimal(8, new BigDecimal("18446744073709551" + (600 + id)));
                    ins.setBytes(9, new byte[]{(byte) id, (byte) 0xff});
                    ins.setString(10, "é".repeat(id));
                    seen.add("insert " + ins.executeUpdate());
                }
            }
            try (PreparedStatement one = c.prepareStatement("SELECT id, v, name FROM t_tx WHERE id = ?")) {
                one.setLong(1, 3);
                seen.add(ProxyRelayTest.describe(one, false));
            }
            // multi-node statements, through ShardingSphere on the transaction's own connections: they see its writes
            for (String sql : List.of("SELECT COUNT(*), SUM(v), MAX(amount), MIN(at) FROM t_tx",
                    "SELECT * FROM t_tx ORDER BY id DESC",
                    "SELECT name, id FROM t_tx WHERE id BETWEEN 2 AND 7 ORDER BY name, id LIMIT 4",
                    "SELECT DISTINCT v % 20 AS m FROM t_tx ORDER BY m")) {
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    seen.add(ProxyRelayTest.describe(ps, false));
                }
            }
            try (PreparedStatement up = c.prepareStatement("UPDATE t_tx SET v = v + 1 WHERE v > ?")) {
                up.setInt(1, 35);
                seen.add("update " + up.executeUpdate());
            }
            try (Statement s = c.createStatement()) { // text statements: ShardingSphere on the pinned connections
                seen.add("text update " + s.executeUpdate("UPDATE t_tx SET note = CONCAT(note, '!') WHERE id IN (1, 2)"));
                try (ResultSet rs = s.executeQuery("SELECT id, v, note FROM t_tx ORDER BY id")) {
                    StringBuilder b = new StringBuilder("text select:");
                    while (rs.next()) {
                        b.append(' ').append(rs.getLong(1)).append('/').append(rs.getInt(2)).append('/').append(rs.getString(3));
                    }
                    seen.add(b.toString());
                }
            }
            // nobody else sees the transaction before it ends (read on the masters: a replica could lag)
            try (Statement s = other.createStatement(); ResultSet rs = s.executeQuery("SELECT /* ballast:master */ COUNT(*) FROM t_tx")) {
                rs.next();
                seen.add("others see " + rs.getLong(1));
            }
            if (commit) {
                c.commit();
            } else {
                c.rollback();
            }
            try (Statement s = other.createStatement(); ResultSet rs = s.executeQuery("SELECT /* ballast:master */ COUNT(*), SUM(v) FROM t_tx")) {
                rs.next();
                seen.add("after: " + rs.getLong(1) + " rows, sum " + rs.getLong(2));
            }
        }
        return seen;
    }

    /**
     * Results as text without column precision and scale and with temporal text cut at the second: the JDBC path derives
     * column definitions from Connector/J's metadata (DECIMAL(12,3) with precision 10, DATETIME(3) with scale 0), the
     * relay passes on the server's. Values are compared byte for byte all the same.
     */
    static String comparable(List<String> seen) {
        return String.join("\n", seen).replaceAll("(\\S+)//(-?\\d+)/[^/ ]+/\\d+ ", "$1//$2 ")
                .replaceAll("(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d)\\.\\d+=", "$1=");
    }

    @Test
    void aCommittedTransactionOverTwoGroupsAnswersAsTheJdbcPathAndSeesItsOwnWrites() throws Exception {
        List<String> viaJdbc = transaction(jdbc, true);
        empty();
        long[] before = relay.relayCounts();
        List<String> viaRelay = transaction(relay, true);
        long relayed = relay.relayCounts()[0] - before[0];
        assertEquals(comparable(viaJdbc), comparable(viaRelay));
        // the relay describes columns from the servers' own definitions: DATETIME(3) keeps its 3 digits in text
        assertTrue(viaRelay.get(10).contains("2026-12-05 10:08:01.250="), viaRelay.get(10));
        assertTrue(viaRelay.contains("others see 0"), viaRelay.toString());
        assertTrue(viaRelay.get(9).startsWith("COUNT(*)") && viaRelay.get(9).contains("\n8="), viaRelay.get(9));
        assertTrue(viaRelay.contains("after: 8 rows, sum " + (360 + 5)), viaRelay.toString());
        // the inserts and the point select were relayed on the pinned connections, except at most the first statement of
        // each group (no idle relay connection on the client's event loop yet: the JDBC path pinned one, waiting for it)
        assertTrue(relayed >= 7, "relayed " + relayed);
        // each group's rows are on its own master
        for (int g = 0; g < 2; g++) {
            MariaDbNode m = bed.group(g).master();
            long n = 0;
            for (String table : List.of("t_tx_" + (2 * g), "t_tx_" + (2 * g + 1))) {
                n += Long.parseLong(m.query("SELECT COUNT(*) AS n FROM " + bed.database() + "." + table).get(0).get("n"));
            }
            assertEquals(4, n, "rows on g" + g);
        }
    }

    @Test
    void aRolledBackTransactionLeavesNothingOnEitherGroup() throws Exception {
        List<String> viaJdbc = transaction(jdbc, false);
        List<String> viaRelay = transaction(relay, false);
        assertEquals(comparable(viaJdbc), comparable(viaRelay));
        assertTrue(viaRelay.contains("after: 0 rows, sum 0"), viaRelay.toString());
    }

    /**
     * One client, one set of prepared statements, several transactions: the multi-node statements (kept prepared in
     * ShardingSphere for the session) run each time on that transaction's pinned connections, and see its writes.
     */
    @Test
    void preparedStatementsServeOneTransactionAfterAnother() throws Exception {
        try (Connection c = connect(relay); PreparedStatement ins = c.prepareStatement("INSERT INTO t_tx (id, v) VALUES (?, ?)");
             PreparedStatement count = c.prepareStatement("SELECT COUNT(*), SUM(v) FROM t_tx WHERE v >= ?")) {
            c.setAutoCommit(false);
            long committed = 0;
            for (int t = 1; t <= 4; t++) {
                for (int k = 0; k < 3; k++) {
                    ins.setLong(1, t * 10 + k);
                    ins.setInt(2, t);
                    ins.executeUpdate();
                }
                count.setInt(1, 0);
                try (ResultSet rs = count.executeQuery()) {
                    rs.next();
                    assertEquals(committed + 3, rs.getLong(1), "transaction " + t + " sees its own rows");
                }
                if (t == 3) {
                    c.rollback();
                } else {
                    c.commit();
                    committed += 3;
                }
            }
            count.setInt(1, 2);
            try (ResultSet rs = count.executeQuery()) {
                rs.next();
                assertEquals(6, rs.getLong(1));
                assertEquals(2 * 3 + 4 * 3, rs.getLong(2));
            }
            c.commit();
        }
    }

    /**
     * A pinned connection killed on its server mid-transaction: the transaction is lost (40001) until the client rolls
     * back, the other group's part is rolled back with it, and the next transaction works.
     */
    @Test
    void aBrokenPinnedConnectionLosesTheWholeTransaction() throws Exception {
        try (Connection c = connect(relay)) {
            c.setAutoCommit(false);
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO t_tx (id, v) VALUES (?, ?)")) {
                for (int id = 1; id <= 4; id++) {
                    ins.setLong(1, id);
                    ins.setInt(2, id);
                    ins.executeUpdate();
                }
            }
            // the session holding g0's part of the transaction, killed on the server
            MariaDbNode g0 = bed.group(0).master();
            String thread = g0.query("SELECT trx_mysql_thread_id AS t FROM information_schema.INNODB_TRX").get(0).get("t");
            g0.execute("KILL " + thread);
            SQLException lost = assertThrows(SQLException.class, () -> {
                for (int i = 0; i < 5; i++) { // the statement that meets the dead connection, or a later one
                    try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM t_tx")) {
                        ps.executeQuery().close();
                    }
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO t_tx (id, v) VALUES (?, 0)")) {
                        ps.setLong(1, 100 + i);
                        ps.executeUpdate();
                    }
                }
            });
            assertEquals("40001", lost.getSQLState(), lost.getMessage());
            SQLException commit = assertThrows(SQLException.class, c::commit);
            assertEquals("40001", commit.getSQLState(), commit.getMessage());
            c.rollback();
            c.setAutoCommit(true);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT /* ballast:master */ COUNT(*) FROM t_tx")) {
                rs.next();
                assertEquals(0, rs.getLong(1), "nothing of the lost transaction stayed, on either group");
            }
            c.setAutoCommit(false);
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO t_tx (id, v) VALUES (?, ?)")) {
                ins.setLong(1, 50);
                ins.setInt(2, 5);
                ins.executeUpdate();
            }
            c.commit();
        }
        try (Connection c = connect(jdbc); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT /* ballast:master */ id FROM t_tx")) {
            assertTrue(rs.next());
            assertEquals(50, rs.getLong(1));
        }
    }

    /** SELECTs over every node, each with its parameters, in one transaction after its own inserts. */
    static final List<Object[]> MERGED = List.of(
            new Object[]{"SELECT id, name FROM t_tx WHERE id BETWEEN ? AND ?", 2, 11},
            new Object[]{"SELECT name, id FROM t_tx WHERE v > ? ORDER BY name DESC, id", 15},
            new Object[]{"SELECT DISTINCT name FROM t_tx WHERE id <> ? ORDER BY name", 7},
            new Object[]{"SELECT COUNT(*), SUM(v), MIN(name), MAX(at), SUM(f), COUNT(name), MAX(amount) FROM t_tx WHERE id > ?", 1},
            new Object[]{"SELECT COUNT(*), SUM(v), MAX(name) FROM t_tx WHERE id < ?", 0},
            new Object[]{"SELECT * FROM t_tx ORDER BY at DESC LIMIT 2, 3"},
            new Object[]{"SELECT t.id FROM t_tx t WHERE t.id > ? ORDER BY t.id LIMIT 3 OFFSET 1", 2},
            new Object[]{"SELECT id, bin FROM t_tx ORDER BY bin, id"},
            new Object[]{"SELECT id, amount AS a FROM t_tx ORDER BY a DESC, id"},
            new Object[]{"SELECT id, d FROM t_tx WHERE id > ? ORDER BY d DESC", 100},
            new Object[]{"SELECT id, nosuch FROM t_tx WHERE id > ?", 0});

    /** What a client sees of one statement: its result as text, or its error code; unordered results sorted by line. */
    static String seen(Connection c, Object[] statement) {
        String sql = (String) statement[0];
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 1; i < statement.length; i++) {
                ps.setObject(i, statement[i]);
            }
            String text = ProxyRelayTest.describe(ps, false);
            if (!sql.contains("ORDER BY")) {
                String[] lines = text.split("\n");
                java.util.Arrays.sort(lines, 1, lines.length);
                text = String.join("\n", lines);
            }
            return text;
        } catch (SQLException e) {
            return "error " + e.getErrorCode();
        }
    }

    static List<String> mergedSelects(ProxyServer proxy) throws SQLException {
        List<String> seen = new ArrayList<>();
        try (Connection c = connect(proxy)) {
            c.setAutoCommit(false);
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO t_tx (id, v, name, amount, f, at, d, bin) "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
                String[] names = {"Bob", "alice", "bob", null, "Carol", "carol", "Álvaro", "dave", "Alice", null, "eve", "Bob"};
                for (int id = 1; id <= names.length; id++) {
                    ins.setLong(1, id);
                    ins.setInt(2, (id * 7) % 30);
                    ins.setString(3, names[id - 1]);
                    ins.setBigDecimal(4, id % 4 == 0 ? null : new BigDecimal((id % 5) + "." + id));
                    ins.setDouble(5, id / 8.0);
                    ins.setObject(6, LocalDateTime.of(2026, 12, 5, id % 3, id, 1, id * 1_000_000));
                    ins.setObject(7, java.time.LocalDate.of(2026, 1 + id % 3, id));
                    ins.setBytes(8, id % 5 == 0 ? null : new byte[]{(byte) (id * 37), (byte) id});
                    ins.executeUpdate();
                }
            }
            for (Object[] statement : MERGED) {
                seen.add(seen(c, statement));
            }
            c.rollback();
        }
        return seen;
    }

    /**
     * Multi-node SELECTs of a relayed transaction, merged by the proxy (rows in node order, ORDER BY with ASC/DESC, NULL
     * and case-insensitive text, DISTINCT, LIMIT with an offset, COUNT/SUM/MIN/MAX, empty input, a server error) answer as
     * ShardingSphere's merge on the same pinned connections does (DISTINCT: as the server's collation does, where
     * ShardingSphere does not), and are counted as merged; with relayMerge off none is.
     */
    @Test
    void multiNodeSelectsMergedByTheProxyAnswerAsShardingSphereDoes() throws Exception {
        long mergedBefore = relay.relayCounts()[2];
        List<String> viaProxyMerge = mergedSelects(relay); // each statement's first run: node by node
        long merged = relay.relayCounts()[2] - mergedBefore;
        List<String> viaShardingSphere = mergedSelects(ssMerge);
        // later runs: one UNION ALL per group, answered with a node's own column definitions
        assertEquals(viaProxyMerge, mergedSelects(relay));
        for (int i = 0; i < MERGED.size(); i++) {
            if (i != 2 && i != 7) {
                assertEquals(viaShardingSphere.get(i), viaProxyMerge.get(i), (String) MERGED.get(i)[0]);
            }
        }
        // ORDER BY a VARBINARY column: ShardingSphere's merge refuses it (byte[] is not Comparable, error 20024); the
        // proxy orders by unsigned bytes, as the server does, NULL first
        assertEquals("error 20024", viaShardingSphere.get(7));
        assertEquals(List.of(5L, 10L, 7L, 1L, 8L, 2L, 9L, 3L, 4L, 11L, 12L, 6L), viaProxyMerge.get(7).lines().skip(1)
                .map(l -> Long.parseLong(l.substring(0, l.indexOf('=')))).toList(), viaProxyMerge.get(7));
        // DISTINCT: the proxy drops names equal but for case, as the server's _ci collation does (one row per name, in
        // order); ShardingSphere's merge keeps both spellings when they come from different nodes
        List<String> names = viaProxyMerge.get(2).lines().skip(1).map(l -> l.substring(0, l.indexOf('='))
                .toLowerCase(java.util.Locale.ROOT)).toList();
        assertEquals(List.of("null", "alice", "bob", "carol", "dave", "eve"), names, viaProxyMerge.get(2));
        assertEquals(MERGED.size() - 1, merged, "every statement but the failing one was merged by the proxy");
        assertEquals(0, ssMerge.relayCounts()[2], "relayMerge: false merges nothing in the proxy");
        try (Connection c = connect(relay)) {
            c.setAutoCommit(false);
            for (int run = 0; run < 2; run++) {
                try (PreparedStatement ps = c.prepareStatement("SELECT id, name FROM t_tx WHERE id > ? ORDER BY id")) {
                    ps.setLong(1, 0);
                    java.sql.ResultSetMetaData md = ps.executeQuery().getMetaData();
                    assertEquals("t_tx", md.getTableName(1), "run " + run + ": the logical table, not a UNION's nameless one");
                    assertEquals(java.sql.ResultSetMetaData.columnNoNulls, md.isNullable(1), "run " + run);
                }
            }
            c.rollback();
        }
        // an unknown column fails at PREPARE, which the proxy answers through ShardingSphere (its error 10003), both ways
        assertEquals("error 10003", viaProxyMerge.get(MERGED.size() - 1));
    }
}
