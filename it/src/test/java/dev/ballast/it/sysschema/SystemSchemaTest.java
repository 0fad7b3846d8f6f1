package dev.ballast.it.sysschema;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.jdbc.BallastDataSource;
import dev.ballast.proxy.ProxyServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 15 item 1: information_schema, SHOW and DATABASE() tell the truth about logical tables, through the driver
 * and through the proxy, on a real 2-group bed: a sharded table (4 physical tables over 2 groups), a placed table on the
 * second group, a broadcast table. Also mariadb-dump of the sharded database through the proxy restored into a plain
 * MariaDB node of the bed.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SystemSchemaTest {

    static TestBed bed;
    static BallastDataSource ds;
    static ProxyServer proxy;
    static final String USER = "shop";
    static final String PASSWORD = "s3cret-pw";

    static final List<String> KV_COLUMNS = List.of("k", "v", "n");
    static final List<String> PLACED_COLUMNS = List.of("id", "name", "created");

    @BeforeAll
    static void start() throws Exception {
        bed = TestBed.start(TestBed.Spec.of(2, 0).withStandalones(1));
        String yaml = ClusterYaml.forBed("sys", bed).with("""
                tables:
                  t_kv:
                    shardingColumn: k
                    tablesPerGroup: 2
                    algorithm: {type: hash-mod}
                  t_placed:
                    group: g1
                  t_ref:
                    broadcast: true
                  fly_order:
                    shardingColumn: id
                    algorithm: {type: hash-mod}
                  flyway_schema_history:
                    group: g0
                  px_order:
                    shardingColumn: id
                    algorithm: {type: hash-mod}
                  px_schema_history:
                    group: g1
                """ + ClusterYaml.proxySection(USER, PASSWORD, false)).text();
        var config = dev.ballast.rules.ClusterConfigLoader.parse(yaml, System::getenv);
        ds = new BallastDataSource(config);
        proxy = new ProxyServer(config, ds, false).start();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t_kv (k BIGINT PRIMARY KEY, v VARCHAR(64) NOT NULL, n INT NULL, KEY ix_v (v))");
            s.execute("CREATE TABLE t_placed (id INT PRIMARY KEY, name VARCHAR(20) DEFAULT 'x', created DATETIME(3))");
            s.execute("CREATE TABLE t_ref (code CHAR(2) PRIMARY KEY, label VARCHAR(40))");
        }
        try (Connection c = ds.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO t_kv (k, v, n) VALUES (?, ?, ?)")) {
                for (int k = 1; k <= 40; k++) {
                    ps.setLong(1, k);
                    ps.setString(2, "v'" + k);
                    ps.setInt(3, k * 10);
                    ps.executeUpdate();
                }
            }
            try (Statement s = c.createStatement()) {
                s.execute("INSERT INTO t_placed VALUES (1, 'one', '2026-12-04 10:00:00.123'), (2, NULL, NULL)");
                s.execute("INSERT INTO t_ref VALUES ('de', 'Germany'), ('fr', 'France')");
            }
        }
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (ds != null) {
            ds.close();
        }
        if (bed != null) {
            bed.close();
        }
    }

    static Connection viaProxy(boolean serverPrepared) throws SQLException {
        return DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + proxy.port() + "/" + bed.database()
                + "?sslMode=DISABLED&allowPublicKeyRetrieval=true&useServerPrepStmts=" + serverPrepared, USER, PASSWORD);
    }

    /** The three ways in: the driver, the proxy with client-side and with server-side prepared statements. */
    interface Check {
        void on(Connection c, String how) throws Exception;
    }

    static void everyWay(Check check) throws Exception {
        try (Connection c = ds.getConnection()) {
            check.on(c, "jdbc:ballast");
        }
        try (Connection c = viaProxy(false)) {
            check.on(c, "proxy");
        }
        try (Connection c = viaProxy(true)) {
            check.on(c, "proxy, server-prepared");
        }
    }

    static List<String> column(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            return column(ps.executeQuery());
        }
    }

    static List<String> text(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            return column(s.executeQuery(sql));
        }
    }

    static List<String> column(ResultSet rs) throws SQLException {
        List<String> out = new ArrayList<>();
        try (rs) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    @Test
    void columnsOfPlacedAndShardedTablesAreTheServersNotNone() throws Exception {
        everyWay((c, how) -> {
            String sql = "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=? AND TABLE_NAME=? ORDER BY ORDINAL_POSITION";
            assertEquals(PLACED_COLUMNS, column(c, sql, bed.database(), "t_placed"), how);
            assertEquals(KV_COLUMNS, column(c, sql, bed.database(), "t_kv"), how);
            assertEquals(List.of("code", "label"), column(c, sql, bed.database(), "t_ref"), how);
            assertEquals(List.of(), column(c, sql, bed.database(), "t_kv_0"), how + ": physical names are not logical tables");
            assertEquals(KV_COLUMNS, text(c, "select column_name from INFORMATION_SCHEMA.columns c where c.table_schema = database() "
                    + "and c.table_name = 't_kv' order by c.ordinal_position"), how);
            assertEquals(List.of("varchar(64)|NO", "int(11)|YES"), text(c, "SELECT CONCAT(COLUMN_TYPE, '|', IS_NULLABLE) FROM "
                    + "`information_schema`.`COLUMNS` WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 't_kv' AND COLUMN_NAME <> 'k' "
                    + "ORDER BY ORDINAL_POSITION"), how);
        });
    }

    @Test
    void everyLogicalTableIsListedOnceAndNoPhysicalOne() throws Exception {
        everyWay((c, how) -> {
            List<String> tables = text(c, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                    + "AND TABLE_NAME LIKE 't\\_%' ORDER BY 1");
            assertEquals(List.of("t_kv", "t_placed", "t_ref"), tables, how);
            tables = List.of("t_kv", "t_placed", "t_ref");
            assertEquals(tables, text(c, "SHOW TABLES LIKE 't\\_%'"), how);
            assertEquals(tables, text(c, "SHOW FULL TABLES FROM " + bed.database() + " WHERE Tables_in_" + bed.database() + " LIKE 't\\_%'"), how);
            assertEquals(List.of("t_kv"), text(c, "SHOW TABLES LIKE 't\\_k%'"), how);
            assertEquals(List.of("t_placed"), text(c, "SHOW FULL TABLES WHERE Tables_in_" + bed.database() + " = 't_placed'"), how);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW TABLE STATUS LIKE 't_kv'")) {
                assertTrue(rs.next(), how);
                assertEquals("t_kv", rs.getString("Name"), how);
                assertEquals("InnoDB", rs.getString("Engine"), how);
                assertTrue(!rs.next(), how);
            }
            assertEquals(List.of(bed.database()), text(c, "SELECT DATABASE()"), how);
        });
    }

    @Test
    void indexesAndKeysOfTheShardedTableUnderItsLogicalName() throws Exception {
        everyWay((c, how) -> {
            assertEquals(List.of("PRIMARY:k", "ix_v:v"), text(c, "SELECT CONCAT(INDEX_NAME, ':', COLUMN_NAME) FROM information_schema.STATISTICS "
                    + "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 't_kv' ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME"), how);
            assertEquals(List.of("t_kv.k"), text(c, "SELECT CONCAT(TABLE_NAME, '.', COLUMN_NAME) FROM information_schema.KEY_COLUMN_USAGE "
                    + "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 't\\_kv%' AND CONSTRAINT_NAME = 'PRIMARY'"), how);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW INDEX FROM t_kv")) {
                List<String> seen = new ArrayList<>();
                while (rs.next()) {
                    seen.add(rs.getString("Table") + "." + rs.getString("Key_name") + "." + rs.getString("Column_name"));
                }
                assertEquals(List.of("t_kv.PRIMARY.k", "t_kv.ix_v.v"), seen, how);
            }
            assertEquals(KV_COLUMNS, text(c, "SHOW COLUMNS FROM t_kv"), how);
            assertEquals(PLACED_COLUMNS, text(c, "SHOW FULL FIELDS FROM " + bed.database() + ".t_placed"), how);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW CREATE TABLE t_kv")) {
                assertTrue(rs.next(), how);
                assertEquals("t_kv", rs.getString(1), how);
                assertTrue(rs.getString(2).startsWith("CREATE TABLE `t_kv` ("), rs.getString(2));
                assertTrue(rs.getString(2).contains("KEY `ix_v` (`v`)"), rs.getString(2));
            }
        });
    }

    /** Hibernate's schema validation and other tools read these: JDBC DatabaseMetaData tells the same truth. */
    @Test
    void jdbcDatabaseMetaDataListsLogicalTablesColumnsAndIndexes() throws Exception {
        everyWay((c, how) -> {
            java.sql.DatabaseMetaData md = c.getMetaData();
            assertEquals(List.of("t_kv", "t_placed", "t_ref"), names(md.getTables(null, null, "t\\_%", new String[]{"TABLE"}), "TABLE_NAME"), how);
            assertEquals(List.of("t_kv"), names(md.getTables(bed.database(), null, "t_kv", null), "TABLE_NAME"), how);
            assertEquals(PLACED_COLUMNS, names(md.getColumns(bed.database(), null, "t_placed", "%"), "COLUMN_NAME"), how);
            try (ResultSet rs = md.getColumns(null, null, "t_kv", "v")) {
                assertTrue(rs.next(), how);
                assertEquals("t_kv", rs.getString("TABLE_NAME"), how);
                assertEquals(java.sql.Types.VARCHAR, rs.getInt("DATA_TYPE"), how);
                assertEquals(64, rs.getInt("COLUMN_SIZE"), how);
                assertEquals("NO", rs.getString("IS_NULLABLE"), how);
                assertTrue(!rs.next(), how);
            }
            List<String> all = names(md.getColumns(null, null, "t\\_%", "%"), "TABLE_NAME");
            assertEquals(KV_COLUMNS.size() + PLACED_COLUMNS.size() + 2, all.size(), how + ": " + all);
            assertTrue(all.stream().noneMatch(t -> t.startsWith("t_kv_")), how + ": " + all);
            assertEquals(List.of("PRIMARY", "ix_v"), names(md.getIndexInfo(bed.database(), null, "t_kv", false, false), "INDEX_NAME"), how);
            assertEquals(List.of("k"), names(md.getPrimaryKeys(bed.database(), null, "t_kv"), "COLUMN_NAME"), how);
            assertEquals(List.of(), names(md.getColumns(null, null, "t_kv_1", "%"), "COLUMN_NAME"), how);
        });
    }

    static List<String> names(ResultSet rs, String column) throws SQLException {
        List<String> out = new ArrayList<>();
        try (rs) {
            while (rs.next()) {
                out.add(rs.getString(column));
            }
        }
        return out;
    }

    @Test
    void physicalTablesThatDisagreeAreAnErrorNamingNodeAndTable() throws Exception {
        MariaDbNode g1 = bed.group(1).master();
        try (Connection direct = g1.connect(bed.database()); Statement s = direct.createStatement()) {
            s.execute("ALTER TABLE t_kv_3 ADD COLUMN extra INT");
            try {
                everyWay((c, how) -> {
                    SQLException e = assertThrows(SQLException.class, () -> column(c, "SELECT COLUMN_NAME FROM information_schema.COLUMNS "
                            + "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", "t_kv"), how);
                    assertTrue(e.getMessage().contains("t_kv_3") && e.getMessage().contains("g1 (" + g1.address() + ")")
                            && e.getMessage().contains("extra"), how + ": " + e.getMessage());
                    SQLException show = assertThrows(SQLException.class, () -> text(c, "SHOW COLUMNS FROM t_kv"), how);
                    assertTrue(show.getMessage().contains("t_kv_3"), how + ": " + show.getMessage());
                });
            } finally {
                s.execute("ALTER TABLE t_kv_3 DROP COLUMN extra");
            }
        }
    }

    @Test
    void viewsItCannotAnswerAreRefusedByName() throws Exception {
        everyWay((c, how) -> {
            SQLException e = assertThrows(SQLException.class,
                    () -> text(c, "SELECT ID FROM information_schema.PROCESSLIST"), how);
            assertTrue(e.getMessage().contains("information_schema.PROCESSLIST"), how + ": " + e.getMessage());
            assertEquals("0A000", e.getSQLState(), how + ": " + e.getMessage());
            // server-wide views are the server's
            assertTrue(text(c, "SELECT ENGINE FROM information_schema.ENGINES").contains("InnoDB"), how);
            assertEquals(List.of(), text(c, "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()"), how);
        });
        // a routine on one group only: not a routine of the logical database, and said so
        try (Connection g0 = bed.group(0).master().connect(bed.database(), dev.ballast.it.testbed.TestBedUsers.ADMIN_USER,
                dev.ballast.it.testbed.TestBedUsers.ADMIN_PASSWORD); Statement s = g0.createStatement()) {
            s.execute("CREATE FUNCTION only_here() RETURNS INT DETERMINISTIC RETURN 1");
            try {
                everyWay((c, how) -> {
                    SQLException e = assertThrows(SQLException.class,
                            () -> text(c, "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()"), how);
                    assertTrue(e.getMessage().contains("g1 (") && e.getMessage().contains("only_here"), how + ": " + e.getMessage());
                });
            } finally {
                s.execute("DROP FUNCTION only_here");
            }
        }
    }

    @Test
    void mariadbDumpThroughTheProxyRestoresIntoAPlainServerWithTheSameRows() throws Exception {
        Path dump = bed.directory().resolve("sys-dump.sql");
        Process p = new ProcessBuilder("mariadb-dump", "--no-defaults", "--protocol=tcp", "-h127.0.0.1", "-P" + proxy.port(),
                "-u" + USER, "-p" + PASSWORD, "--skip-ssl", "--single-transaction", bed.database())
                .redirectOutput(dump.toFile()).redirectError(ProcessBuilder.Redirect.PIPE).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), err);
        String sql = Files.readString(dump);
        assertTrue(sql.contains("CREATE TABLE `t_kv`") && !sql.contains("t_kv_0"), "logical tables only");
        MariaDbNode plain = bed.standalones().get(0);
        try (Connection c = plain.connect(""); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE IF NOT EXISTS restored");
        }
        Process restore = new ProcessBuilder("mariadb", "--no-defaults", "--protocol=tcp", "-h127.0.0.1", "-P" + plain.port(),
                "-u" + TestBed.APP_USER, "-p" + TestBed.APP_PASSWORD, "--skip-ssl", "restored")
                .redirectInput(dump.toFile()).redirectErrorStream(true).start();
        String out = new String(restore.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(restore.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, restore.exitValue(), out);
        for (String table : List.of("t_kv", "t_placed", "t_ref")) {
            String order = table.equals("t_ref") ? "code" : table.equals("t_kv") ? "k" : "id";
            List<String> original;
            try (Connection c = ds.getConnection()) {
                original = rows(c, "SELECT * FROM " + table + " ORDER BY " + order);
            }
            List<String> copy;
            try (Connection c = plain.connect("restored")) {
                copy = rows(c, "SELECT * FROM " + table + " ORDER BY " + order);
            }
            assertEquals(original, copy, table);
            assertTrue(!copy.isEmpty(), table);
        }
    }

    /** Flyway migrate (create a sharded table, alter it, add an index, insert) through jdbc:ballast: and through the proxy. */
    @Test
    void flywayMigratesThroughTheDriverAndThroughTheProxy() throws Exception {
        for (boolean viaProxy : new boolean[]{false, true}) {
            String prefix = viaProxy ? "px" : "fly";
            var configure = org.flywaydb.core.Flyway.configure()
                    .locations("classpath:db/flyway")
                    .placeholders(java.util.Map.of("prefix", prefix))
                    // the database already holds the other tests' tables: a true "not empty", so start from a baseline
                    .baselineOnMigrate(true).baselineVersion("0")
                    .table(prefix.equals("px") ? "px_schema_history" : "flyway_schema_history");
            configure = viaProxy
                    ? configure.dataSource("jdbc:mysql://127.0.0.1:" + proxy.port() + "/" + bed.database()
                    + "?sslMode=DISABLED&allowPublicKeyRetrieval=true", USER, PASSWORD)
                    : configure.dataSource(ds);
            var result = configure.load().migrate();
            assertTrue(result.success, prefix);
            assertEquals(3, result.migrationsExecuted, prefix);
            // a second run finds every migration applied: it read its history table back
            assertEquals(0, configure.load().migrate().migrationsExecuted, prefix);
            try (Connection c = ds.getConnection()) {
                assertEquals(List.of("id", "customer", "note"), column(c, "SELECT COLUMN_NAME FROM information_schema.COLUMNS "
                        + "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION", prefix + "_order"), prefix);
                assertEquals(List.of("1|ada|first|", "2|bob|null|", "3|cy|third|"), rows(c, "SELECT * FROM " + prefix + "_order ORDER BY id"));
            }
            // the rows really are on both groups
            assertEquals(1, rows(bed.group(0).master().connect(bed.database()), "SHOW TABLES LIKE '" + prefix + "_order'").size());
            assertEquals(1, rows(bed.group(1).master().connect(bed.database()), "SHOW TABLES LIKE '" + prefix + "_order'").size());
        }
    }

    static List<String> rows(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                StringBuilder b = new StringBuilder();
                for (int i = 1; i <= n; i++) {
                    b.append(rs.getString(i)).append('|');
                }
                out.add(b.toString());
            }
        }
        return out;
    }
}
