package dev.ballast.it.proxy;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.proxy.ProxyServer;
import dev.ballast.rules.ClusterConfigLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proxy's relay (single-node prepared statements sent to their server without decoding the reply) on real servers:
 * the same results, column metadata and update counts as the JDBC path of a second proxy with {@code relay: false} over
 * the same servers; read-your-writes with a replica held back; a replica killed under relayed reads; a client that
 * stops reading a large relayed result.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ProxyRelayTest {

    static TestBed bed;
    static ProxyServer relay;
    static ProxyServer jdbc;
    /** the cluster YAML without its proxy section, and with the relaying proxy's */
    static String cluster;
    static String base;
    static final String USER = "app_user";
    static final String PASSWORD = "relay-pw";

    @BeforeAll
    static void start() throws Exception {
        bed = TestBed.start(2, 1);
        cluster = ClusterYaml.forBed("relayed", bed).with("""
                tables:
                  t_kv:
                    shardingColumn: k
                    tablesPerGroup: 2
                    algorithm: {type: hash-mod}
                  t_types:
                    group: g0
                  t_bulk:
                    group: g1
                """).text();
        base = cluster + ClusterYaml.proxySection(USER, PASSWORD, false);
        jdbc = new ProxyServer(ClusterConfigLoader.parse(cluster + ClusterYaml.proxySection(USER, PASSWORD, false, "relay: false"),
                System::getenv)).start();
        try (Connection c = connect(jdbc); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t_kv (k BIGINT PRIMARY KEY, v VARCHAR(64), n INT)");
            s.execute("CREATE TABLE t_types (id INT PRIMARY KEY, i TINYINT, b BIGINT UNSIGNED, d DECIMAL(12,3), f DOUBLE, "
                    + "dt DATETIME(3), dd DATE, tm TIME, txt TEXT, bin VARBINARY(16), n INT NULL)");
            s.execute("CREATE TABLE t_bulk (id INT PRIMARY KEY, grp INT, pad VARCHAR(4000), KEY (grp))");
        }
        // started after the tables exist, so that its ShardingSphere metadata has them too
        relay = new ProxyServer(ClusterConfigLoader.parse(base, System::getenv)).start();
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[]{relay, jdbc, bed}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    static Connection connect(ProxyServer proxy) throws SQLException {
        return DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + proxy.port() + "/" + bed.database()
                + "?sslMode=DISABLED&useServerPrepStmts=true&cachePrepStmts=true", USER, PASSWORD);
    }

    static Connection connectMariadb(ProxyServer proxy) throws SQLException {
        return DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + proxy.port() + "/" + bed.database()
                + "?useServerPrepStmts=true", USER, PASSWORD);
    }

    /** A connection straight to {@code server} with the same driver and settings as the client's. */
    static Connection direct(String client, MariaDbNode server) throws SQLException {
        return client.equals("mysql")
                ? DriverManager.getConnection("jdbc:mysql://" + server.address() + "/" + bed.database()
                + "?sslMode=DISABLED&useServerPrepStmts=true&cachePrepStmts=true", TestBed.APP_USER, TestBed.APP_PASSWORD)
                : DriverManager.getConnection("jdbc:mariadb://" + server.address() + "/" + bed.database()
                + "?useServerPrepStmts=true", TestBed.APP_USER, TestBed.APP_PASSWORD);
    }

    /** Everything a client can see of a result: labels, tables, types, and every value as text and as bytes. */
    static String describe(PreparedStatement ps) throws SQLException {
        return describe(ps, true);
    }

    static String describe(PreparedStatement ps, boolean tables) throws SQLException {
        StringBuilder b = new StringBuilder();
        if (!ps.execute()) {
            return "update count " + ps.getUpdateCount();
        }
        try (ResultSet rs = ps.getResultSet()) {
            ResultSetMetaData md = rs.getMetaData();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                // TEXT's precision is left out: through the relay Connector/J reports 65535 where it reports 16383 directly
                // (a known difference, in the README)
                String precision = md.getColumnType(i) == java.sql.Types.LONGVARCHAR ? "-" : Integer.toString(md.getPrecision(i));
                b.append(md.getColumnLabel(i)).append('/').append(tables ? md.getTableName(i) : "").append('/').append(md.getColumnType(i))
                        .append('/').append(precision).append('/').append(md.getScale(i)).append(' ');
            }
            b.append('\n');
            while (rs.next()) {
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    byte[] bytes;
                    try {
                        bytes = rs.getBytes(i);
                    } catch (SQLException e) {
                        bytes = "(no bytes)".getBytes(StandardCharsets.UTF_8); // MariaDB Connector/J: numbers have none
                    }
                    b.append(rs.getString(i)).append('=').append(bytes == null ? "null" : java.util.HexFormat.of().formatHex(bytes))
                            .append(' ');
                }
                b.append('\n');
            }
        }
        return b.toString();
    }

    @Test
    @Order(1)
    void relayedStatementsAnswerAsTheJdbcPathDoes() throws Exception {
        try (Connection c = connect(jdbc); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO t_types VALUES (?,?,?,?,?,?,?,?,?,?,?)")) {
            ps.setInt(1, 1);
            ps.setByte(2, (byte) -7);
            ps.setBigDecimal(3, new BigDecimal("18446744073709551615"));
            ps.setBigDecimal(4, new BigDecimal("123456789.125"));
            ps.setDouble(5, 2.5e-3);
            ps.setTimestamp(6, Timestamp.valueOf("2026-11-28 17:45:01.250"));
            ps.setObject(7, java.time.LocalDate.of(2024, 2, 29));
            ps.setString(8, "-12:34:56");
            ps.setString(9, "héllo wörld ✓");
            ps.setBytes(10, new byte[]{0, 1, 2, (byte) 0xff});
            ps.setNull(11, java.sql.Types.INTEGER);
            ps.executeUpdate();
        }
        long relayedBefore = relay.relayCounts()[0];
        for (String client : new String[]{"mysql", "mariadb"}) {
            try (Connection r = client.equals("mysql") ? connect(relay) : connectMariadb(relay);
                 Connection j = client.equals("mysql") ? connect(jdbc) : connectMariadb(jdbc)) {
                // writes: the same update counts and generated rows whichever path ran them
                for (int k = 0; k < 40; k++) {
                    Connection on = k % 2 == 0 ? r : j;
                    try (PreparedStatement ps = on.prepareStatement("INSERT INTO t_kv (k, v, n) VALUES (?, ?, ?)")) {
                        ps.setLong(1, k + (client.equals("mysql") ? 0 : 1000));
                        ps.setString(2, "v" + k + " ✓");
                        ps.setInt(3, k);
                        assertEquals(1, ps.executeUpdate());
                    }
                }
                // the truth: the same statement on the server that holds the row, the physical table named
                Connection[] direct = {direct(client, bed.group(0).master()), direct(client, bed.group(1).master())};
                String[] corpus = {
                        "SELECT * FROM t_types WHERE id = ?",
                        "SELECT k, v, n FROM t_kv WHERE k = ?",
                        "SELECT v AS value, n + 1 AS next FROM t_kv WHERE k = ?",
                        "SELECT COUNT(*), MAX(v) FROM t_kv WHERE k = ?",
                        "UPDATE t_kv SET n = n WHERE k = ?",
                        "UPDATE t_kv SET n = n + 1 WHERE k = ?",
                        "UPDATE t_kv SET n = n - 1 WHERE k = ?",
                        "SELECT v FROM t_kv WHERE k = ? FOR UPDATE",
                };
                int base = client.equals("mysql") ? 0 : 1000;
                // a first round opens the relay's server connections (statements that find none take the JDBC path)
                for (String sql : corpus) {
                    try (PreparedStatement rp = r.prepareStatement(sql)) {
                        for (long k = base; k < base + 4; k++) {
                            rp.setLong(1, sql.contains("t_types") ? 1 : k);
                            describe(rp);
                        }
                    }
                }
                Thread.sleep(300);
                long passedOn = relay.relayCounts()[1];
                for (String sql : corpus) {
                    try (PreparedStatement rp = r.prepareStatement(sql); PreparedStatement jp = j.prepareStatement(sql)) {
                        for (int round = 0; round < 3; round++) {
                            for (long k : new long[]{base, base + 1, base + 2, base + 3, base + 17, base + 39, 999_999}) {
                                // t_types: the one row (an empty result's column lengths differ, see the README)
                                long key = sql.contains("t_types") ? 1 : k;
                                int node = (int) Math.floorMod(key, 4L);
                                String physical = sql.contains("t_types") ? sql : sql.replace("t_kv", "t_kv_" + node);
                                try (PreparedStatement dp = direct[sql.contains("t_types") ? 0 : node / 2].prepareStatement(physical)) {
                                    dp.setLong(1, key);
                                    rp.setLong(1, key);
                                    jp.setLong(1, key);
                                    String relayed = describe(rp, false);
                                    String truth = describe(dp, false);
                                    if (client.equals("mariadb")) {
                                        // MariaDB Connector/J takes precision and scale from the prepare reply, which the
                                        // proxy builds from JDBC metadata (TEXT and DOUBLE differ; README "not yet")
                                        relayed = relayed.replaceAll("/-?\\d+/\\d+ ", "/p/s ");
                                        truth = truth.replaceAll("/-?\\d+/\\d+ ", "/p/s ");
                                    }
                                    assertEquals(truth, relayed, client + ": " + sql + " with " + key + " relayed vs the server");
                                    if (!sql.contains("t_types")) {
                                        // t_types shows the JDBC path's metadata gaps (DECIMAL precision, TEXT length,
                                        // DATETIME decimals); on t_kv both paths must agree
                                        String viaJdbc = describe(jp, false);
                                        if (client.equals("mariadb")) {
                                            viaJdbc = viaJdbc.replaceAll("/-?\\d+/\\d+ ", "/p/s ");
                                        }
                                        assertEquals(viaJdbc, relayed, client + ": " + sql + " with " + key + " relayed vs JDBC path");
                                    }
                                }
                            }
                        }
                    }
                }
                for (Connection d : direct) {
                    d.close();
                }
                // reads right after this client's own updates may need a read-your-writes check, which the relay leaves
                // to the JDBC path; nearly everything else is relayed
                long tookJdbcPath = relay.relayCounts()[1] - passedOn;
                assertTrue(tookJdbcPath < 20, client + ": " + tookJdbcPath + " of 168 compared statements took the JDBC path");
            }
        }
        long relayed = relay.relayCounts()[0] - relayedBefore;
        assertTrue(relayed > 200, "statements relayed: " + relayed);
        assertEquals(0, jdbc.relayCounts()[0], "relay: false relays nothing");
        // the physical table names of the sharded table never show: column definitions name the logical table
        try (Connection r = connect(relay); PreparedStatement ps = r.prepareStatement("SELECT k FROM t_kv WHERE k = ?")) {
            for (int i = 0; i < 20; i++) {
                ps.setLong(1, i);
                try (ResultSet rs = ps.executeQuery()) {
                    assertEquals("t_kv", rs.getMetaData().getTableName(1));
                }
            }
        }
    }

    @Test
    @Order(2)
    void readYourWritesHoldsWhileTheReplicaIsHeldBack() throws Exception {
        MariaDbNode replica = bed.group(0).replicas().get(0);
        // hash-mod over 4 data nodes, t_kv_0 and t_kv_1 in g0: keys 0 and 1 mod 4 live in g0
        long key = 10_000;
        replica.execute("STOP SLAVE SQL_THREAD");
        try (Connection writer = connect(relay); Connection other = connect(relay)) {
            PreparedStatement warm = other.prepareStatement("SELECT v FROM t_kv WHERE k = ?");
            for (int i = 0; i < 20; i++) {
                warm.setLong(1, key);
                warm.executeQuery().close();
            }
            try (PreparedStatement insert = writer.prepareStatement("INSERT INTO t_kv (k, v, n) VALUES (?, 'mine', 0)");
                 PreparedStatement select = writer.prepareStatement("SELECT v FROM t_kv WHERE k = ?")) {
                for (int i = 0; i < 5; i++) {
                    insert.setLong(1, key + 4L * i);
                    assertEquals(1, insert.executeUpdate());
                    select.setLong(1, key + 4L * i);
                    try (ResultSet rs = select.executeQuery()) {
                        assertTrue(rs.next(), "the writer reads its own insert " + i);
                        assertEquals("mine", rs.getString(1));
                    }
                }
            }
            // another client, with no writes of its own, reads the held-back replica through the relay
            warm.setLong(1, key);
            try (ResultSet rs = warm.executeQuery()) {
                assertTrue(!rs.next(), "a client without writes reads the replica, which has not applied the insert yet");
            }
        } finally {
            replica.execute("START SLAVE SQL_THREAD");
        }
    }

    @Test
    @Order(4)
    void aClientThatStopsReadingALargeResultHoldsNobodyElseUp() throws Exception {
        try (Connection c = connect(jdbc); PreparedStatement ps = c.prepareStatement("INSERT INTO t_bulk VALUES (?, ?, ?)")) {
            String pad = "x".repeat(4000);
            for (int i = 0; i < 4000; i++) {
                ps.setInt(1, i);
                ps.setInt(2, 7);
                ps.setString(3, pad);
                ps.addBatch();
            }
            ps.executeBatch();
        }
        try (Socket slow = RawClient.login(relay.port(), USER, PASSWORD)) {
            slow.setSoTimeout(30_000);
            InputStream in = slow.getInputStream();
            OutputStream out = slow.getOutputStream();
            int id = prepare(in, out, "SELECT id, pad FROM t_bulk WHERE grp = ?");
            // warm up: small results until the relay has a server connection on this client's event loop
            long before = relay.relayCounts()[0];
            for (int i = 0; i < 50 && relay.relayCounts()[0] == before; i++) {
                RawClient.writePacket(out, 0, execute(id, -1));
                assertEquals(0, rows(in), "no rows for grp -1");
                Thread.sleep(10);
            }
            assertTrue(relay.relayCounts()[0] > before, "the small executes were relayed");
            RawClient.writePacket(out, 0, execute(id, 7)); // 16 MB of rows, not read for now
            Thread.sleep(300);
            AtomicInteger answered = new AtomicInteger();
            long started = System.nanoTime();
            try (Connection other = connect(relay); PreparedStatement ps = other.prepareStatement("SELECT v FROM t_kv WHERE k = ?")) {
                for (int i = 0; i < 300; i++) {
                    ps.setLong(1, i);
                    ps.executeQuery().close();
                    answered.incrementAndGet();
                }
            }
            long ms = (System.nanoTime() - started) / 1_000_000;
            assertTrue(ms < 10_000, "300 queries of another client took " + ms + " ms while one client did not read");
            assertEquals(4000, rows(in), "the slow client gets every row once it reads");
            System.out.printf("RELAY slow client: another client's 300 queries took %d ms meanwhile%n", ms);
        }
    }

    @Test
    @Order(5)
    void aClientThatLeavesARunningResultUnreadIsClosedAfterTheIdleTimeout() throws Exception {
        // t_bulk holds 4 000 rows of 4 000 bytes (test 4): 16 MB, more than the socket buffers take
        try (ProxyServer idle = new ProxyServer(ClusterConfigLoader.parse(cluster
                + ClusterYaml.proxySection(USER, PASSWORD, false, "idleTimeoutMs: 2000"), System::getenv)).start();
             Socket slow = RawClient.login(idle.port(), USER, PASSWORD)) {
            InputStream in = slow.getInputStream();
            OutputStream out = slow.getOutputStream();
            int id = prepare(in, out, "SELECT id, pad FROM t_bulk WHERE grp = ?");
            RawClient.writePacket(out, 0, execute(id, 7)); // and never read while it runs
            long sent = System.nanoTime();
            Thread.sleep(6_000); // the idle check: replies unread at ~2 s and still at ~4 s
            slow.setSoTimeout(10_000);
            long packets = 0;
            boolean closed = false;
            try {
                while (true) {
                    RawClient.readPacket(in);
                    packets++;
                }
            } catch (java.net.SocketTimeoutException e) {
                // still open: the proxy kept a client that read nothing for 3 x idleTimeoutMs
            } catch (IOException e) {
                closed = true;
            }
            assertTrue(closed, "the proxy closed a client that left a running result unread past idleTimeoutMs (read "
                    + packets + " packets, then nothing for 10 s)");
            assertTrue(packets < 4_000, "the result was cut short: " + packets + " packets");
            System.out.printf("RELAY unread result: client closed; it had %d packets waiting, %d ms after the execute%n",
                    packets, (System.nanoTime() - sent) / 1_000_000L);
        }
    }

    @Test
    @Order(7)
    void relayedReadsSurviveAReplicaKilledUnderThem() throws Exception {
        MariaDbNode replica = bed.group(1).replicas().get(0);
        List<Throwable> errors = new ArrayList<>();
        int[] done = new int[1];
        long passedBefore = relay.relayCounts()[1];
        Thread reader = new Thread(() -> {
            try (Connection c = connect(relay); PreparedStatement ps = c.prepareStatement("SELECT v FROM t_kv WHERE k = ?")) {
                long end = System.nanoTime() + 4_000_000_000L;
                while (System.nanoTime() < end) {
                    ps.setLong(1, 2 + 4L * (done[0] % 10)); // keys of group g1
                    ps.executeQuery().close();
                    done[0]++;
                }
            } catch (Throwable e) {
                errors.add(e);
            }
        });
        reader.start();
        Thread.sleep(1_000);
        replica.crash();
        reader.join(30_000);
        assertTrue(errors.isEmpty(), "reads failed: " + errors);
        assertTrue(done[0] > 100, "reads done: " + done[0]);
        assertTrue(relay.relayCounts()[1] > passedBefore, "reads that met the dead replica went the JDBC path");
    }

    @Test
    @Order(6)
    void aRelayedStatementPastSocketTimeoutFailsAndTheProxyGoesOn() throws Exception {
        try (Connection c = connect(relay); Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO t_kv (k, v, n) VALUES (4001, 'slow', 0)"); // 4001 mod 4 = 1: group g0
        }
        bed.awaitReplication();
        try (ProxyServer timed = new ProxyServer(ClusterConfigLoader.parse(base + "pool:\n  socketTimeoutMs: 1000\n",
                System::getenv)).start();
             Connection c = connect(timed);
             PreparedStatement fast = c.prepareStatement("SELECT v FROM t_kv WHERE k = ?");
             PreparedStatement slow = c.prepareStatement("SELECT v, SLEEP(20) FROM t_kv WHERE k = ?")) {
            // warm up until this client's event loop has its relay connections
            long before = timed.relayCounts()[0];
            for (int i = 0; i < 50 && timed.relayCounts()[0] == before; i++) {
                fast.setLong(1, 4001);
                fast.executeQuery().close();
                Thread.sleep(20);
            }
            assertTrue(timed.relayCounts()[0] > before, "the fast statement was relayed");
            long passedOnBefore = timed.relayCounts()[1];
            slow.setLong(1, 4001);
            long start = System.nanoTime();
            SQLException failed = null;
            try {
                slow.executeQuery().close();
            } catch (SQLException e) {
                failed = e;
            }
            long ms = (System.nanoTime() - start) / 1_000_000L;
            // relayed (cut after 1 s, checked every 250 ms), then retried on the JDBC path where Connector/J's own socket
            // timeout of 1 s ends it: well before the 20 s the server would take
            assertTrue(failed != null, "a statement sleeping 20 s failed past pool.socketTimeoutMs 1000 (took " + ms + " ms)");
            assertTrue(ms < 10_000, "it failed after " + ms + " ms: " + failed);
            assertTrue(timed.relayCounts()[1] > passedOnBefore, "the slow statement was relayed, cut and passed on to the JDBC path");
            System.out.printf("RELAY socketTimeoutMs 1000: a 20 s statement failed after %d ms: %s %s%n", ms,
                    failed.getSQLState(), failed.getMessage());
        }
        try (Connection c = connect(relay); PreparedStatement ps = c.prepareStatement("SELECT v FROM t_kv WHERE k = ?")) {
            ps.setLong(1, 4001);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                assertEquals("slow", rs.getString(1));
            }
        }
    }

    @Test
    @Order(3)
    void transactionsOfAOneGroupClusterRunOnOneRelayedConnection() throws Exception {
        String oneGroup = new ClusterYaml("onegroup", bed.database(), TestBed.APP_USER, TestBed.APP_PASSWORD)
                .group("g0", bed.group(0).master().address(), bed.group(0).replicas().stream().map(MariaDbNode::address).toList())
                .with("tables:\n  t_types:\n    group: g0\n  t_acct:\n    group: g0\n"
                        + ClusterYaml.proxySection(USER, PASSWORD, false)).text();
        bed.group(0).master().execute("CREATE TABLE " + bed.database() + ".t_acct (id INT PRIMARY KEY, balance INT)");
        try (ProxyServer one = new ProxyServer(ClusterConfigLoader.parse(oneGroup, System::getenv)).start();
             Connection c = connect(one); Connection other = connect(one);
             Connection master = bed.group(0).master().connect(bed.database(), dev.ballast.it.testbed.TestBedUsers.ADMIN_USER,
                     dev.ballast.it.testbed.TestBedUsers.ADMIN_PASSWORD)) {
            long before = one.relayCounts()[0];
            // warm up: the relay opens its master connection on this client's event loop
            for (int i = 0; i < 20 && one.relayCounts()[0] == before; i++) {
                c.setAutoCommit(false);
                try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM t_acct")) {
                    ps.executeQuery().close();
                }
                c.rollback();
                Thread.sleep(20);
            }
            assertTrue(one.relayCounts()[0] > before, "a transaction's statement was relayed");
            // rolled back: gone; its own uncommitted row visible to itself, not to others
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO t_acct VALUES (?, ?)");
                 PreparedStatement select = c.prepareStatement("SELECT balance FROM t_acct WHERE id = ?")) {
                insert.setInt(1, 1);
                insert.setInt(2, 100);
                assertEquals(1, insert.executeUpdate());
                select.setInt(1, 1);
                try (ResultSet rs = select.executeQuery()) {
                    assertTrue(rs.next(), "the transaction sees its own insert");
                }
                try (ResultSet rs = master.createStatement().executeQuery("SELECT COUNT(*) FROM t_acct")) {
                    rs.next();
                    assertEquals(0, rs.getInt(1), "nobody else sees an uncommitted insert");
                }
                c.rollback();
                try (ResultSet rs = master.createStatement().executeQuery("SELECT COUNT(*) FROM t_acct")) {
                    rs.next();
                    assertEquals(0, rs.getInt(1), "rolled back");
                }
                insert.setInt(1, 2);
                insert.setInt(2, 50);
                insert.executeUpdate();
                try (PreparedStatement update = c.prepareStatement("UPDATE t_acct SET balance = balance - 10 WHERE id = 2")) {
                    assertEquals(1, update.executeUpdate());
                }
                c.commit();
            }
            try (ResultSet rs = master.createStatement().executeQuery("SELECT balance FROM t_acct WHERE id = 2")) {
                assertTrue(rs.next());
                assertEquals(40, rs.getInt(1), "committed");
            }
            // the same with text statements, BEGIN/COMMIT included
            c.setAutoCommit(true);
            try (Statement st = c.createStatement()) {
                st.execute("BEGIN");
                st.executeUpdate("UPDATE t_acct SET balance = balance + 5 WHERE id = 2");
                try (ResultSet rs = st.executeQuery("SELECT balance FROM t_acct WHERE id = 2")) {
                    rs.next();
                    assertEquals(45, rs.getInt(1));
                }
                st.execute("COMMIT");
            }
            try (PreparedStatement ps = other.prepareStatement("SELECT balance FROM t_acct WHERE id = ?")) {
                ps.setInt(1, 2);
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals(45, rs.getInt(1), "another client reads the committed value (read-your-writes aside)");
                }
            }
            // the transaction's server connection is killed: the client is told, rolls back, and goes on
            c.setAutoCommit(false);
            try (PreparedStatement update = c.prepareStatement("UPDATE t_acct SET balance = 0 WHERE id = 2")) {
                update.executeUpdate();
                long thread;
                try (ResultSet rs = master.createStatement().executeQuery(
                        "SELECT trx_mysql_thread_id FROM information_schema.INNODB_TRX")) {
                    assertTrue(rs.next(), "the relayed transaction is open on the master");
                    thread = rs.getLong(1);
                }
                master.createStatement().execute("KILL CONNECTION " + thread);
                Thread.sleep(200);
                SQLException lost = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class, update::executeUpdate);
                assertEquals("40001", lost.getSQLState(), lost.getMessage());
                try (Statement st = c.createStatement()) {
                    st.execute("SET NAMES utf8mb4"); // session settings are still answered while the transaction is lost
                }
                c.rollback();
                assertEquals(1, update.executeUpdate(), "a new transaction works");
                c.rollback();
            }
            try (ResultSet rs = master.createStatement().executeQuery("SELECT balance FROM t_acct WHERE id = 2")) {
                assertTrue(rs.next());
                assertEquals(45, rs.getInt(1), "the killed transaction's update was rolled back");
            }
            c.setAutoCommit(true);
        }
    }

    /** COM_STMT_EXECUTE of a one-parameter statement with a BIGINT value. */
    /** COM_STMT_PREPARE over a raw connection: reads the reply's definitions and returns the statement id. */
    static int prepare(InputStream in, OutputStream out, String sql) throws IOException {
        byte[] sqlBytes = sql.getBytes(StandardCharsets.UTF_8);
        byte[] payload = new byte[1 + sqlBytes.length];
        payload[0] = 0x16;
        System.arraycopy(sqlBytes, 0, payload, 1, sqlBytes.length);
        RawClient.writePacket(out, 0, payload);
        byte[] ok = RawClient.readPacket(in);
        assertEquals(0, ok[0], () -> "prepare failed: " + new String(ok, StandardCharsets.UTF_8));
        int id = (ok[1] & 0xff) | (ok[2] & 0xff) << 8 | (ok[3] & 0xff) << 16 | (ok[4] & 0xff) << 24;
        int columns = (ok[5] & 0xff) | (ok[6] & 0xff) << 8;
        int params = (ok[7] & 0xff) | (ok[8] & 0xff) << 8;
        // each list of definitions ends with an EOF packet (the raw client does not ask for CLIENT_DEPRECATE_EOF)
        int packets = (params > 0 ? params + 1 : 0) + (columns > 0 ? columns + 1 : 0);
        for (int i = 0; i < packets; i++) {
            RawClient.readPacket(in);
        }
        return id;
    }

    static byte[] execute(int statement, long value) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x17);
        for (int i = 0; i < 4; i++) {
            b.write(statement >>> (8 * i));
        }
        b.write(0);
        b.writeBytes(new byte[]{1, 0, 0, 0});
        b.write(0); // NULL bitmap
        b.write(1); // types follow
        b.writeBytes(new byte[]{8, 0}); // LONGLONG
        for (int i = 0; i < 8; i++) {
            b.write((int) (value >>> (8 * i)));
        }
        return b.toByteArray();
    }

    /** Reads a binary result set (no DEPRECATE_EOF): returns its row count. */
    static int rows(InputStream in) throws Exception {
        byte[] first = RawClient.readPacket(in);
        if ((first[0] & 0xff) == 0xff) {
            throw new AssertionError(new String(first, StandardCharsets.UTF_8));
        }
        int columns = first[0] & 0xff;
        for (int i = 0; i < columns + 1; i++) {
            RawClient.readPacket(in);
        }
        int rows = 0;
        while (true) {
            byte[] p = RawClient.readPacket(in);
            if ((p[0] & 0xff) == 0xfe && p.length < 9) {
                return rows;
            }
            if ((p[0] & 0xff) == 0xff) {
                throw new AssertionError(new String(p, StandardCharsets.UTF_8));
            }
            rows++;
        }
    }
}
