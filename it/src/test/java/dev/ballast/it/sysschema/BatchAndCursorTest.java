package dev.ballast.it.sysschema;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.ballast.it.sysschema.SystemSchemaTest.bed;
import static dev.ballast.it.sysschema.SystemSchemaTest.ds;
import static dev.ballast.it.sysschema.SystemSchemaTest.proxy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 15 item 2: several statements in one COM_QUERY (CLIENT_MULTI_STATEMENTS) through the proxy, with MySQL
 * Connector/J's {@code allowMultiQueries=true} and with the {@code mariadb} CLI, over the sharded and the placed table;
 * what such a text does through {@code jdbc:ballast:}; and Connector/J's server-side cursor fetch
 * ({@code useCursorFetch=true}) through the proxy, which opens no cursor and sends the whole result.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class BatchAndCursorTest {

    @BeforeAll
    static void start() throws Exception {
        SystemSchemaTest.start();
    }

    @AfterAll
    static void stop() {
        SystemSchemaTest.stop();
    }

    static Connection viaProxy(String options) throws SQLException {
        return DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + proxy.port() + "/" + bed.database()
                + "?sslMode=DISABLED&allowPublicKeyRetrieval=true&" + options, SystemSchemaTest.USER, SystemSchemaTest.PASSWORD);
    }

    /** Every result of a multi-statement execute, in order: "update N" or the first column's values joined by ','. */
    static List<String> results(Statement s, boolean isResultSet) throws SQLException {
        List<String> out = new ArrayList<>();
        while (true) {
            if (isResultSet) {
                out.add(String.join(",", SystemSchemaTest.column(s.getResultSet())));
            } else if (s.getUpdateCount() >= 0) {
                out.add("update " + s.getUpdateCount());
            } else {
                return out;
            }
            isResultSet = s.getMoreResults();
        }
    }

    @Test
    void connectorJRunsEachStatementOfABatchAndReadsEveryResult() throws Exception {
        try (Connection c = viaProxy("allowMultiQueries=true"); Statement s = c.createStatement()) {
            boolean rs = s.execute("INSERT INTO t_kv (k, v, n) VALUES (3001, 'm;1', 1), (3002, 'm2', 2); "
                    + "INSERT INTO t_placed (id, name) VALUES (3001, 'semi;colon') ;\n"
                    + "-- a comment; with a semicolon\n"
                    + "SELECT v FROM t_kv WHERE k IN (3001, 3002) ORDER BY k; /* and; another */ SELECT name FROM t_placed WHERE id = 3001;"
                    + "SELECT COUNT(*) FROM t_kv WHERE k BETWEEN 1 AND 3002");
            assertEquals(List.of("update 2", "update 1", "m;1,m2", "semi;colon", "42"), results(s, rs));
            // the connection is in step afterwards: the next statement gets its own answer
            assertEquals(List.of("2"), SystemSchemaTest.text(c, "SELECT COUNT(*) FROM t_kv WHERE k IN (3001, 3002)"));
        }
        // the rows are on the groups the rules say: k=3001 in t_kv_1 on g0, k=3002 in t_kv_2 on g1, t_placed on g1
        try (Connection g0 = bed.group(0).master().connect(bed.database());
             Connection g1 = bed.group(1).master().connect(bed.database())) {
            assertEquals(List.of("m;1"), SystemSchemaTest.text(g0, "SELECT v FROM t_kv_1 WHERE k = 3001"));
            assertEquals(List.of("m2"), SystemSchemaTest.text(g1, "SELECT v FROM t_kv_2 WHERE k = 3002"));
            assertEquals(List.of("semi;colon"), SystemSchemaTest.text(g1, "SELECT name FROM t_placed WHERE id = 3001"));
        }
    }

    @Test
    void anErrorEndsTheBatchAndTheStatementsAfterItDoNotRun() throws Exception {
        try (Connection c = viaProxy("allowMultiQueries=true"); Statement s = c.createStatement()) {
            // Connector/J reads the whole response at execute and reports the error there
            SQLException e = assertThrows(SQLException.class, () -> s.execute("INSERT INTO t_kv (k, v) VALUES (3101, 'before'); "
                    + "INSERT INTO no_such_table VALUES (1); INSERT INTO t_kv (k, v) VALUES (3102, 'after')"));
            assertTrue(e.getMessage().contains("no_such_table"), e.getMessage());
            assertEquals(List.of("before"), SystemSchemaTest.text(c, "SELECT v FROM t_kv WHERE k IN (3101, 3102)"));
            // a batch inside a transaction: each statement joins it, the rollback takes them all
            s.execute("BEGIN; INSERT INTO t_kv (k, v) VALUES (3103, 'tx'); INSERT INTO t_placed (id, name) VALUES (3103, 'tx')");
            while (s.getMoreResults() || s.getUpdateCount() >= 0) {
                // read every result
            }
            assertEquals(List.of("tx"), SystemSchemaTest.text(c, "SELECT v FROM t_kv WHERE k = 3103"));
            s.execute("ROLLBACK");
            assertEquals(List.of(), SystemSchemaTest.text(c, "SELECT v FROM t_kv WHERE k = 3103"));
            assertEquals(List.of(), SystemSchemaTest.text(c, "SELECT name FROM t_placed WHERE id = 3103"));
        }
    }

    @Test
    void withoutTheCapabilityASecondStatementIsAnError() throws Exception {
        try (Connection c = viaProxy("allowMultiQueries=false"); Statement s = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> s.execute("INSERT INTO t_kv (k, v) VALUES (3201, 'x'); SELECT 1"));
            assertTrue(e.getMessage().toLowerCase().contains("syntax"), e.getMessage());
            assertEquals(List.of(), SystemSchemaTest.text(c, "SELECT v FROM t_kv WHERE k = 3201"));
        }
    }

    @Test
    void theMariadbCliRunsAMultiStatementLine() throws Exception {
        Process p = new ProcessBuilder("mariadb", "--no-defaults", "--protocol=tcp", "-h127.0.0.1", "-P" + proxy.port(),
                "-u" + SystemSchemaTest.USER, "-p" + SystemSchemaTest.PASSWORD, "--skip-ssl", "--batch", "--skip-column-names",
                bed.database(), "-e", "INSERT INTO t_kv (k, v, n) VALUES (3301, 'cli', 5); UPDATE t_placed SET name = 'cli;ed' "
                + "WHERE id = 2; SELECT k, v FROM t_kv WHERE k = 3301; SELECT name FROM t_placed WHERE id = 2")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertEquals("3301\tcli\ncli;ed\n", out);
        // a failing statement: the CLI reports it with the server's error and exits non-zero; the one after it did not run
        p = new ProcessBuilder("mariadb", "--no-defaults", "--protocol=tcp", "-h127.0.0.1", "-P" + proxy.port(),
                "-u" + SystemSchemaTest.USER, "-p" + SystemSchemaTest.PASSWORD, "--skip-ssl", "--batch", bed.database(), "-e",
                "SELECT 1 FROM no_such_table; INSERT INTO t_kv (k, v) VALUES (3302, 'not run')")
                .redirectErrorStream(true).start();
        out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue(), out);
        assertTrue(out.contains("no_such_table"), out);
        try (Connection c = ds.getConnection()) {
            assertEquals(List.of(), SystemSchemaTest.text(c, "SELECT v FROM t_kv WHERE k = 3302"));
        }
    }

    @Test
    void throughTheDriverAMultiStatementTextIsRefused() throws Exception {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class,
                    () -> s.execute("INSERT INTO t_kv (k, v) VALUES (3401, 'x'); INSERT INTO t_kv (k, v) VALUES (3402, 'y')"));
            // ShardingSphere parses the first statement and hands the whole text to one server, which has no
            // CLIENT_MULTI_STATEMENTS from the data plane's pool: its syntax error names the second statement
            assertEquals(1064, e.getErrorCode(), e.getMessage());
            assertTrue(e.getMessage().contains("near 'INSERT INTO t_kv (k, v) VALUES (3402"), e.getMessage());
            assertEquals(List.of(), SystemSchemaTest.text(c, "SELECT v FROM t_kv WHERE k IN (3401, 3402)"));
        }
    }

    @Test
    void connectorJCursorFetchReadsEveryRowOfAScatterGatherResult() throws Exception {
        List<Long> expected = new ArrayList<>();
        for (long k = 1; k <= 40; k++) {
            expected.add(k);
        }
        long cursorRequests = proxy.cursorRequests();
        try (Connection c = viaProxy("useCursorFetch=true&defaultFetchSize=5")) {
            for (int fetchSize : new int[]{5, 7, 100}) {
                try (PreparedStatement ps = c.prepareStatement("SELECT k, v, n FROM t_kv WHERE k BETWEEN ? AND ? ORDER BY k")) {
                    ps.setFetchSize(fetchSize);
                    ps.setLong(1, 1);
                    ps.setLong(2, 40);
                    List<Long> seen = new ArrayList<>();
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            seen.add(rs.getLong(1));
                            assertEquals("v'" + rs.getLong(1), rs.getString(2));
                            assertEquals(rs.getLong(1) * 10, rs.getInt(3));
                        }
                    }
                    assertEquals(expected, seen, "fetch size " + fetchSize);
                }
            }
            assertTrue(proxy.cursorRequests() >= cursorRequests + 3, "Connector/J asked for a cursor: " + proxy.cursorRequests());
            // unordered, over every physical table: the same 40 rows
            try (PreparedStatement ps = c.prepareStatement("SELECT k FROM t_kv WHERE k <= ?")) {
                ps.setLong(1, 40);
                List<Long> seen = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        seen.add(rs.getLong(1));
                    }
                }
                seen.sort(null);
                assertEquals(expected, seen);
            }
            // the statement can run again, and the connection serves other statements after a cursor request
            try (PreparedStatement ps = c.prepareStatement("SELECT name FROM t_placed WHERE id = ?")) {
                ps.setInt(1, 1);
                assertEquals(List.of("one"), SystemSchemaTest.column(ps.executeQuery()));
            }
            assertEquals(List.of("40"), SystemSchemaTest.text(c, "SELECT COUNT(*) FROM t_kv WHERE k <= 40"));
        }
    }
}
