package dev.ballast.it.sysschema;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.ballast.it.sysschema.SystemSchemaTest.bed;
import static dev.ballast.it.sysschema.SystemSchemaTest.everyWay;
import static dev.ballast.it.sysschema.SystemSchemaTest.names;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 15 item 2: the statements DBeaver sends to a MySQL/MariaDB database when it connects and when a table is opened
 * in its navigator, and the JDBC-metadata introspection DataGrip/IntelliJ falls back to, replayed through
 * {@code jdbc:ballast:} and through the proxy (client- and server-prepared). The sharded table appears once under its
 * logical name with its columns, indexes and keys; a view that cannot be answered for logical tables is refused by name.
 *
 * <p>Where the statements come from: DBeaver's MySQL plugin source ({@code plugins/org.jkiss.dbeaver.ext.mysql},
 * {@code MySQLDataSource.initialize} and {@code CatalogCache}, {@code MySQLCatalog}'s table, column, index, constraint and
 * check-constraint caches, {@code MySQLTable} / {@code MySQLTableBase} for status, partitions, DDL and foreign keys,
 * {@code MySQLUtils.determineCurrentDatabase}), as of October 2024. DataGrip's own introspector is not public: what is
 * established is its JDBC-metadata mode, which reaches the server as Connector/J's {@code SHOW FULL COLUMNS ... LIKE '%'}
 * with an {@code ApplicationName} comment in front (seen in a server's query log, gitbase issue 961), and the
 * {@code DatabaseMetaData} calls that Connector/J turns into {@code SHOW} statements.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class IdeMetadataTest {

    @BeforeAll
    static void start() throws Exception {
        SystemSchemaTest.start();
    }

    @AfterAll
    static void stop() {
        SystemSchemaTest.stop();
    }

    /** The rows of a statement (parameters bound as DBeaver binds them), each as "c1|c2|..." of the named columns. */
    static List<String> rows(Connection c, String sql, List<String> columns, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            List<String> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    StringBuilder b = new StringBuilder();
                    for (String column : columns) {
                        b.append(b.length() == 0 ? "" : "|").append(rs.getString(column));
                    }
                    out.add(b.toString());
                }
            }
            return out;
        }
    }

    static int count(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            int n = 0;
            while (rs.next()) {
                n++;
            }
            return n;
        }
    }

    @Test
    void dbeaverConnectStatementsAnswerWithoutError() throws Exception {
        String db = bed.database();
        everyWay((c, how) -> {
            // MySQLDataSource.initialize: engines, character sets, collations, server defaults, plugins, name case
            assertTrue(SystemSchemaTest.text(c, "SHOW ENGINES").contains("InnoDB"), how);
            assertTrue(SystemSchemaTest.text(c, "SHOW CHARSET").contains("utf8mb4"), how);
            assertTrue(count(c, "SHOW COLLATION") > 100, how);
            assertEquals(1, count(c, "SELECT @@GLOBAL.character_set_server,@@GLOBAL.collation_server"), how);
            assertTrue(SystemSchemaTest.text(c, "SHOW PLUGINS").contains("InnoDB"), how);
            assertEquals(List.of("lower_case_table_names|0"), rows(c, "SHOW VARIABLES LIKE 'lower_case_table_names'",
                    List.of("Variable_name", "Value")), how);
            // CatalogCache: the databases; the served one is there
            assertTrue(SystemSchemaTest.text(c, "show databases").contains(db), how);
            // whether information_schema has CHECK_CONSTRAINTS: rows of other schemas are not listed, so DBeaver reads "no"
            // and does not ask for check constraints
            assertEquals(0, count(c, "SELECT * FROM information_schema.TABLES t\nWHERE\n\tt.TABLE_SCHEMA = 'information_schema'\n"
                    + "\tAND t.TABLE_NAME = 'CHECK_CONSTRAINTS'"), how);
            // MySQLUtils.determineCurrentDatabase, then the active catalog
            assertEquals(List.of(db), SystemSchemaTest.text(c, "SELECT DATABASE()"), how);
            try (Statement s = c.createStatement()) {
                s.execute("use `" + db + "`");
                assertEquals(List.of(db), SystemSchemaTest.text(c, "SELECT DATABASE()"), how);
                SQLException e = assertThrows(SQLException.class, () -> s.execute("use `not_served`"), how);
                assertTrue(e.getMessage().contains("not_served"), how + ": " + e.getMessage());
            }
        });
    }

    @Test
    void dbeaverNavigatorSeesTheShardedTableOnceWithItsColumnsIndexesAndKeys() throws Exception {
        String db = bed.database();
        everyWay((c, how) -> {
            // MySQLCatalog.TableCache: MariaDB has sequences, so DBeaver leaves them out
            List<String> tables = rows(c, "SHOW FULL TABLES FROM `" + db + "` WHERE Table_type <> 'SEQUENCE'",
                    List.of("Tables_in_" + db, "Table_type"));
            assertEquals(1, tables.stream().filter(t -> t.equals("t_kv|BASE TABLE")).count(), how + ": " + tables);
            assertTrue(tables.contains("t_placed|BASE TABLE") && tables.contains("t_ref|BASE TABLE"), how + ": " + tables);
            assertTrue(tables.stream().noneMatch(t -> t.startsWith("t_kv_")), how + ": " + tables);
            assertEquals(List.of("t_kv|BASE TABLE"), rows(c, "SHOW FULL TABLES FROM `" + db + "` WHERE `Tables_in_" + db
                    + "` = 't_kv' AND Table_type <> 'SEQUENCE'", List.of("Tables_in_" + db, "Table_type")), how);
            // MySQLCatalog: the status of every table; MySQLTable: of one (row counts summed over the physical tables)
            List<String> status = rows(c, "SHOW TABLE STATUS FROM `" + db + "`", List.of("Name", "Engine"));
            assertEquals(1, status.stream().filter(t -> t.equals("t_kv|InnoDB")).count(), how + ": " + status);
            assertTrue(status.stream().noneMatch(t -> t.startsWith("t_kv_")), how + ": " + status);
            assertEquals(List.of("t_kv|InnoDB"), rows(c, "SHOW TABLE STATUS FROM `" + db + "` LIKE 't_kv'", List.of("Name", "Engine")), how);
            // MySQLCatalog.TableCache children: the columns of one table, and of every table at once
            assertEquals(List.of("t_kv|k|bigint(20)|PRI", "t_kv|v|varchar(64)|MUL", "t_kv|n|int(11)|"),
                    rows(c, "SELECT * FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=? AND TABLE_NAME=? ORDER BY ORDINAL_POSITION",
                            List.of("TABLE_NAME", "COLUMN_NAME", "COLUMN_TYPE", "COLUMN_KEY"), db, "t_kv"), how);
            List<String> allColumns = rows(c, "SELECT * FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=? ORDER BY ORDINAL_POSITION",
                    List.of("TABLE_NAME", "COLUMN_NAME"), db);
            assertEquals(3, allColumns.stream().filter(t -> t.startsWith("t_kv|")).count(), how + ": " + allColumns);
            assertTrue(allColumns.stream().noneMatch(t -> t.startsWith("t_kv_")), how + ": " + allColumns);
            // MySQLCatalog.IndexCache
            // (INDEX_NAME sorts case-insensitively: ix_v before PRIMARY)
            assertEquals(List.of("t_kv|ix_v|1|v|1", "t_kv|PRIMARY|1|k|0"), rows(c, "SELECT * FROM information_schema.STATISTICS "
                    + "WHERE TABLE_SCHEMA=? AND TABLE_NAME=? ORDER BY TABLE_NAME,INDEX_NAME,SEQ_IN_INDEX",
                    List.of("TABLE_NAME", "INDEX_NAME", "SEQ_IN_INDEX", "COLUMN_NAME", "NON_UNIQUE"), db, "t_kv"), how);
            // MySQLCatalog.ConstraintCache (primary and unique keys)
            assertEquals(List.of("PRIMARY|t_kv|k|1"), rows(c, "SELECT kc.CONSTRAINT_NAME,kc.TABLE_NAME,kc.COLUMN_NAME,kc.ORDINAL_POSITION\n"
                    + "FROM INFORMATION_SCHEMA.KEY_COLUMN_USAGE kc WHERE kc.TABLE_SCHEMA=? AND kc.REFERENCED_TABLE_NAME IS NULL "
                    + "AND kc.TABLE_NAME=?\nORDER BY kc.CONSTRAINT_NAME,kc.ORDINAL_POSITION",
                    List.of("CONSTRAINT_NAME", "TABLE_NAME", "COLUMN_NAME", "ORDINAL_POSITION"), db, "t_kv"), how);
            // MySQLTable.PartitionCache: not partitioned (MariaDB lists one row with no partition name)
            List<String> partitions = rows(c, "SELECT * FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA=? AND TABLE_NAME=? "
                    + " ORDER BY PARTITION_ORDINAL_POSITION,SUBPARTITION_ORDINAL_POSITION", List.of("TABLE_NAME", "PARTITION_NAME"), db, "t_kv");
            assertEquals(List.of("t_kv|null"), partitions, how);
            // MySQLTableBase.getObjectDefinitionText: the DDL under the logical name
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW CREATE TABLE `" + db + "`.`t_kv`")) {
                assertTrue(rs.next(), how);
                assertEquals("t_kv", rs.getString(1), how);
                assertTrue(rs.getString(2).startsWith("CREATE TABLE `t_kv` ("), how + ": " + rs.getString(2));
            }
            // MySQLTable.loadForeignKeys: Connector/J's metadata; t_kv has none, in either direction
            assertEquals(List.of(), names(c.getMetaData().getImportedKeys(db, null, "t_kv"), "FK_NAME"), how);
            assertEquals(List.of(), names(c.getMetaData().getExportedKeys(db, null, "t_kv"), "FK_NAME"), how);
            // MySQLCatalog procedures and triggers: none in the logical database
            assertEquals(List.of(), rows(c, "SELECT * FROM information_schema.ROUTINES\nWHERE ROUTINE_SCHEMA=?\nORDER BY ROUTINE_NAME",
                    List.of("ROUTINE_NAME"), db), how);
            assertEquals(List.of(), rows(c, "SELECT * FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA=? ORDER BY TRIGGER_NAME",
                    List.of("TRIGGER_NAME"), db), how);
        });
    }

    /** DBeaver asks for check constraints when it found CHECK_CONSTRAINTS (above it does not); asked anyway: refused by name. */
    @Test
    void dbeaverCheckConstraintQueryIsRefusedNamingTheView() throws Exception {
        String db = bed.database();
        everyWay((c, how) -> {
            SQLException e = assertThrows(SQLException.class, () -> rows(c, "SELECT cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE, tc.TABLE_NAME\n"
                    + "FROM (SELECT CONSTRAINT_NAME, CHECK_CLAUSE\nFROM INFORMATION_SCHEMA.CHECK_CONSTRAINTS\nWHERE CONSTRAINT_SCHEMA = ?\n"
                    + "ORDER BY CONSTRAINT_NAME) cc,\n(SELECT TABLE_NAME, CONSTRAINT_NAME\nFROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS\n"
                    + "WHERE TABLE_SCHEMA = ? AND TABLE_NAME=?) tc\nWHERE cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME\nORDER BY cc.CONSTRAINT_NAME",
                    List.of("CONSTRAINT_NAME"), db, db, "t_kv"), how);
            assertTrue(e.getMessage().toUpperCase().contains("CHECK_CONSTRAINTS"), how + ": " + e.getMessage());
            assertEquals("0A000", e.getSQLState(), how + ": " + e.getMessage());
        });
    }

    @Test
    void dataGripJdbcIntrospectionSeesLogicalTables() throws Exception {
        String db = bed.database();
        everyWay((c, how) -> {
            assertEquals(SystemSchemaTest.KV_COLUMNS, SystemSchemaTest.text(c, "/* ApplicationName=DataGrip 2024.3 */ SHOW FULL COLUMNS "
                    + "FROM `t_kv` FROM `" + db + "` LIKE '%'"), how);
            java.sql.DatabaseMetaData md = c.getMetaData();
            List<String> tables = names(md.getTables(db, null, "%", new String[]{"TABLE", "VIEW"}), "TABLE_NAME");
            assertEquals(1, tables.stream().filter("t_kv"::equals).count(), how + ": " + tables);
            assertFalse(tables.stream().anyMatch(t -> t.startsWith("t_kv_")), how + ": " + tables);
            assertEquals(SystemSchemaTest.KV_COLUMNS, names(md.getColumns(db, null, "t_kv", "%"), "COLUMN_NAME"), how);
            assertEquals(List.of("k"), names(md.getPrimaryKeys(db, null, "t_kv"), "COLUMN_NAME"), how);
        });
    }
}
