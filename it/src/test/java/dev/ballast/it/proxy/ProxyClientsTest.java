package dev.ballast.it.proxy;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.proxy.ProxyServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.LocalDate;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real clients of the proxy on a real sharded test bed: the mariadb CLI, MySQL Connector/J, MariaDB Connector/J. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ProxyClientsTest {

    static TestBed bed;
    static ProxyServer proxy;
    static final String USER = "shop";
    static final String PASSWORD = "s3cret-pw";

    @BeforeAll
    static void start() throws Exception {
        bed = TestBed.start(2, 1);
        String yaml = ClusterYaml.forBed("proxied", bed).with("""
                tables:
                  t_kv:
                    shardingColumn: k
                    tablesPerGroup: 2
                    algorithm: {type: hash-mod}
                  t_types:
                    group: g0
                  t_auto:
                    group: g1
                """ + ClusterYaml.proxySection(USER, PASSWORD, true, "health: 127.0.0.1:0")).text();
        proxy = new ProxyServer(dev.ballast.rules.ClusterConfigLoader.parse(yaml, System::getenv)).start();
        try (Connection c = mysql(true); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t_kv (k BIGINT PRIMARY KEY, v VARCHAR(64))");
            s.execute("CREATE TABLE t_types (id INT PRIMARY KEY, i TINYINT, s SMALLINT, b BIGINT UNSIGNED, d DECIMAL(12,3), "
                    + "f DOUBLE, dt DATETIME(3), dd DATE, tm TIME, txt TEXT, bin VARBINARY(16), n INT NULL)");
            s.execute("CREATE TABLE t_auto (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)");
        }
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (bed != null) {
            bed.close();
        }
    }

    static Connection mysql(boolean serverPrepared) throws SQLException {
        return DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + proxy.port() + "/" + bed.database()
                + "?sslMode=DISABLED&allowPublicKeyRetrieval=true&useServerPrepStmts=" + serverPrepared, USER, PASSWORD);
    }

    static Connection mariadb(boolean serverPrepared) throws SQLException {
        return DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + proxy.port() + "/" + bed.database()
                + "?useServerPrepStmts=" + serverPrepared, USER, PASSWORD);
    }

    /** Runs the mariadb command-line client in batch mode; returns exit code and output. */
    static String[] cli(String password, String sql) throws Exception {
        Process p = new ProcessBuilder("mariadb", "--no-defaults", "--protocol=tcp", "-h127.0.0.1", "-P" + proxy.port(),
                "-u" + USER, "-p" + password, "--skip-ssl", "--batch", bed.database(), "-e", sql)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new String[]{Integer.toString(p.exitValue()), out};
    }

    @Test
    void mariadbCliCreatesInsertsAndSelectsAcrossShards() throws Exception {
        String[] r = cli(PASSWORD, "DELETE FROM t_kv WHERE k >= 1000; INSERT INTO t_kv VALUES (1001,'a'),(1002,'b'),(1003,'c'),"
                + "(1004,'d'); SELECT k, v FROM t_kv WHERE k >= 1000 ORDER BY k; SELECT COUNT(*) AS n FROM t_kv WHERE k >= 1000;"
                + " SELECT @@version_comment");
        assertEquals("0", r[0], r[1]);
        assertTrue(r[1].contains("k\tv\n1001\ta\n1002\tb\n1003\tc\n1004\td\n"), r[1]);
        assertTrue(r[1].contains("n\n4\n"), r[1]);
        assertTrue(r[1].contains("Ballast proxy"), r[1]);
        // the rows really are on both groups
        long g0 = count(bed.group(0).master(), "t_kv_0") + count(bed.group(0).master(), "t_kv_1");
        long g1 = count(bed.group(1).master(), "t_kv_2") + count(bed.group(1).master(), "t_kv_3");
        assertTrue(g0 > 0 && g1 > 0, "rows on both groups: " + g0 + " / " + g1);
    }

    /** Issue 11: through the proxy too, the master hint is matched by its words, in text and in server-prepared statements. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void masterHintInAnySpellingGoesToTheMasterThroughTheProxy(boolean serverPrepared) throws Exception {
        try (Connection c = mysql(true); Statement s = c.createStatement()) {
            s.execute("REPLACE INTO t_kv VALUES (77, 'hinted')");
        }
        bed.awaitReplication();
        java.util.Set<Long> masters = new java.util.HashSet<>();
        java.util.Set<Long> replicas = new java.util.HashSet<>();
        for (var g : bed.groups()) {
            masters.add((long) g.master().serverId());
            g.replicas().forEach(r -> replicas.add((long) r.serverId()));
        }
        try (Connection c = mysql(serverPrepared)) {
            String plain = "SELECT @@server_id FROM t_kv WHERE k = ?";
            assertTrue(replicas.contains(serverId(c, plain)), "without a hint: a replica");
            assertTrue(replicas.contains(serverId(c, plain + " /* ballast:masters */")), "not a hint: a replica");
            for (String hint : new String[]{"/* ballast:master */", "/*ballast:master*/", "/* BALLAST:MASTER */", "/*  ballast : master */"}) {
                assertTrue(masters.contains(serverId(c, hint + " " + plain)), hint);
                assertTrue(masters.contains(serverId(c, plain + " " + hint)), hint);
            }
        }
    }

    private static long serverId(Connection c, String sql) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, 77);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), sql);
                return rs.getLong(1);
            }
        }
    }

    @Test
    void mariadbCliSeesErrorsWithTheirNumbers() throws Exception {
        String[] r = cli(PASSWORD, "SELECT * FROM t_missing");
        assertEquals("1", r[0]);
        assertTrue(r[1].contains("ERROR 1146"), r[1]);
        r = cli("wrong", "SELECT 1");
        assertEquals("1", r[0]);
        assertTrue(r[1].contains("ERROR 1045") && r[1].contains("Access denied for user 'shop'"), r[1]);
        r = cli(PASSWORD, "INSERT INTO t_kv (v) VALUES ('no key')");
        assertEquals("1", r[0]);
        assertTrue(r[1].contains("ERROR"), r[1]);
    }

    @ParameterizedTest
    @ValueSource(strings = {"mysql-server-prepared", "mysql-client-prepared", "mariadb-server-prepared", "mariadb-client-prepared"})
    void connectorsRoundTripEveryCommonType(String client) throws Exception {
        boolean server = client.endsWith("server-prepared");
        int id = Math.abs(client.hashCode() % 100_000);
        try (Connection c = client.startsWith("mysql") ? mysql(server) : mariadb(server)) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO t_types VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")) {
                ps.setInt(1, id);
                ps.setByte(2, (byte) -7);
                ps.setShort(3, (short) 30_000);
                ps.setBigDecimal(4, new BigDecimal("18446744073709551615"));
                ps.setBigDecimal(5, new BigDecimal("123456789.125"));
                ps.setDouble(6, 2.5e-3);
                ps.setTimestamp(7, Timestamp.valueOf("2026-11-28 17:45:01.250"));
                ps.setObject(8, LocalDate.of(2024, 2, 29));
                // MySQL Connector/J 9.5 decodes a binary TIME below one day without its sign (directly against MariaDB
                // as well): its server-prepared case checks a positive time
                ps.setString(9, time(client));
                ps.setString(10, "héllo wörld ✓");
                ps.setBytes(11, new byte[]{0, 1, 2, (byte) 0xff});
                ps.setNull(12, java.sql.Types.INTEGER);
                assertEquals(1, ps.executeUpdate());
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT * FROM t_types WHERE id = ?")) {
                ps.setInt(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals(id, rs.getInt("id"));
                    assertEquals(-7, rs.getByte("i"));
                    assertEquals(30_000, rs.getShort("s"));
                    assertEquals(new BigDecimal("18446744073709551615"), rs.getBigDecimal("b"));
                    assertEquals(new BigDecimal("123456789.125"), rs.getBigDecimal("d"));
                    assertEquals(2.5e-3, rs.getDouble("f"));
                    assertEquals(Timestamp.valueOf("2026-11-28 17:45:01.25"), rs.getTimestamp("dt"));
                    assertEquals(LocalDate.of(2024, 2, 29), rs.getObject("dd", LocalDate.class));
                    assertEquals(time(client), rs.getString("tm"));
                    assertEquals("héllo wörld ✓", rs.getString("txt"));
                    assertArrayEquals(new byte[]{0, 1, 2, (byte) 0xff}, rs.getBytes("bin"));
                    assertEquals(0, rs.getInt("n"));
                    assertTrue(rs.wasNull());
                    assertFalse(rs.next());
                }
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT txt, n FROM t_types WHERE id = " + id)) {
                assertTrue(rs.next());
                assertEquals("héllo wörld ✓", rs.getString(1));
                assertNull(rs.getObject(2));
            }
            // a transaction through the proxy: rolled back, then committed
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO t_kv VALUES (?, ?)")) {
                ps.setLong(1, 5_000_000L + id);
                ps.setString(2, "rolled back");
                ps.executeUpdate();
                c.rollback();
                ps.setString(2, "kept");
                ps.executeUpdate();
                c.commit();
            }
            c.setAutoCommit(true);
            try (PreparedStatement ps = c.prepareStatement("SELECT v FROM t_kv WHERE k = ?")) {
                ps.setLong(1, 5_000_000L + id);
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals("kept", rs.getString(1));
                }
            }
            try (Statement s = c.createStatement()) {
                s.executeUpdate("DELETE FROM t_types WHERE id = " + id);
                s.executeUpdate("DELETE FROM t_kv WHERE k = " + (5_000_000L + id));
            }
        }
    }

    private static String time(String client) {
        return client.equals("mysql-server-prepared") ? "12:34:56" : "-12:34:56";
    }

    @Test
    void generatedKeysAndErrorsReachJdbcClients() throws Exception {
        try (Connection c = mysql(true); Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO t_auto (v) VALUES (7)", Statement.RETURN_GENERATED_KEYS);
            try (ResultSet keys = s.getGeneratedKeys()) {
                assertTrue(keys.next());
                assertTrue(keys.getLong(1) > 0);
            }
            SQLException e = assertThrows(SQLException.class, () -> s.executeQuery("SELECT * FROM t_missing"));
            assertEquals(1146, e.getErrorCode());
            assertEquals("42S02", e.getSQLState());
            SQLException dup = assertThrows(SQLException.class, () -> {
                s.executeUpdate("INSERT INTO t_kv VALUES (1, 'x')");
                s.executeUpdate("INSERT INTO t_kv VALUES (1, 'x')");
            });
            assertEquals(1062, dup.getErrorCode());
            assertEquals("23000", dup.getSQLState());
            s.executeUpdate("DELETE FROM t_kv WHERE k = 1");
        }
        SQLException denied = assertThrows(SQLException.class, () -> DriverManager.getConnection(
                "jdbc:mysql://127.0.0.1:" + proxy.port() + "/?sslMode=DISABLED&allowPublicKeyRetrieval=true", USER, "nope"));
        assertEquals(1045, denied.getErrorCode());
    }

    @Test
    void healthEndpointSaysOkWhileEveryMasterIsUp() throws Exception {
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + proxy.healthPort() + "/health")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().startsWith("OK"), r.body());
    }

    private static long count(dev.ballast.it.testbed.MariaDbNode node, String table) {
        return Long.parseLong(node.query("SELECT COUNT(*) AS n FROM " + bed.database() + "." + table).get(0).get("n"));
    }
}
