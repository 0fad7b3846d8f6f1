package dev.ballast.it.proxy;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.it.testbed.TestBedUsers;
import dev.ballast.proxy.ProxyServer;
import dev.ballast.rules.ClusterConfigLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Deadlocks of relayed transactions over two groups. A cycle across groups (T1 waits for T2 on one group, T2 for T1 on
 * the other) is seen whole by no server: without the proxy's detector both wait for {@code innodb_lock_wait_timeout}
 * (5 s on the test bed). With it the younger transaction is rolled back on every group within a few check intervals and
 * gets error 1213, and the older one goes on. A deadlock that one server finds (1213 there) ends the whole transaction
 * too: its part on the other group must not survive to be committed.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class CrossGroupDeadlockTest {

    static TestBed bed;
    /** detects deadlocks: its lock-wait reader is the monitor user, which has PROCESS */
    static ProxyServer proxy;
    /** the same, but no monitor user: the application user may not read lock waits (no PROCESS) */
    static ProxyServer blind;
    /** the driver's data source, with the monitor user */
    static dev.ballast.jdbc.BallastDataSource driver;
    /** the same with 2 connections per server: two transactions over both groups hold its pools whole */
    static dev.ballast.jdbc.BallastDataSource tight;
    /** the driver with the check off (deadlockCheckMs: 0): a server's own deadlock must still end the whole transaction */
    static dev.ballast.jdbc.BallastDataSource unchecked;
    static final String USER = "dl_user";
    static final String PASSWORD = "dl-pw";
    /** ids of rows on group g0, and on group g1 */
    static final List<Long> ON_G0 = new ArrayList<>();
    static final List<Long> ON_G1 = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        bed = TestBed.start(2, 1);
        String cluster = ClusterYaml.forBed("deadlocks", bed).with("""
                tables:
                  t_dl:
                    shardingColumn: id
                    tablesPerGroup: 2
                    algorithm: {type: hash-mod}
                """).text();
        String monitor = "monitor:\n  user: " + TestBedUsers.MONITOR_USER + "\n  password: " + TestBedUsers.MONITOR_PASSWORD + "\n";
        proxy = new ProxyServer(ClusterConfigLoader.parse(cluster + monitor + ClusterYaml.proxySection(USER, PASSWORD, false),
                System::getenv)).start();
        blind = new ProxyServer(ClusterConfigLoader.parse(cluster + ClusterYaml.proxySection(USER, PASSWORD, false),
                System::getenv)).start();
        try (Connection c = connect(proxy); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t_dl (id BIGINT PRIMARY KEY, v INT NOT NULL)");
            for (long id = 1; id <= 8; id++) {
                s.executeUpdate("INSERT INTO t_dl (id, v) VALUES (" + id + ", 0)");
            }
        }
        // made after the table: the driver's ShardingSphere loads the tables there are at its start
        driver = new dev.ballast.jdbc.BallastDataSource(ClusterConfigLoader.parse(cluster + monitor, System::getenv));
        tight = new dev.ballast.jdbc.BallastDataSource(ClusterConfigLoader.parse(cluster + monitor
                + "pool:\n  maxPoolSize: 2\n  minIdle: 0\n", System::getenv));
        unchecked = new dev.ballast.jdbc.BallastDataSource(ClusterConfigLoader.parse(cluster + "deadlockCheckMs: 0\n",
                System::getenv));
        for (long id = 1; id <= 8; id++) {
            (onGroup(bed.group(0).master(), id) ? ON_G0 : ON_G1).add(id);
        }
        assertTrue(ON_G0.size() >= 3 && ON_G1.size() >= 2, "rows on both groups: " + ON_G0 + " / " + ON_G1);
    }

    /** Whether the master holds row {@code id} in one of its physical tables. */
    static boolean onGroup(MariaDbNode master, long id) {
        for (Map<String, String> t : master.query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '"
                + bed.database() + "' AND TABLE_NAME LIKE 't_dl%'")) {
            if (!master.query("SELECT id FROM `" + bed.database() + "`.`" + t.get("TABLE_NAME") + "` WHERE id = " + id).isEmpty()) {
                return true;
            }
        }
        return false;
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[]{unchecked, tight, driver, blind, proxy, bed}) {
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
    void reset() throws Exception {
        try (Connection c = connect(proxy); Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE t_dl SET v = 0");
        }
    }

    static Connection connect(ProxyServer p) throws SQLException {
        return DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + p.port() + "/" + bed.database()
                + "?sslMode=DISABLED&useServerPrepStmts=true&cachePrepStmts=true", USER, PASSWORD);
    }

    static int bump(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE t_dl SET v = v + 1 WHERE id = ?")) {
            ps.setLong(1, id);
            return ps.executeUpdate();
        }
    }

    static int value(long id) throws SQLException {
        try (Connection c = connect(proxy); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT /* ballast:master */ v FROM t_dl WHERE id = " + id)) {
            assertTrue(rs.next());
            return rs.getInt(1);
        }
    }

    /** What a statement that waited gave: its update count or its error, and how long it took. */
    record Outcome(int updated, SQLException error, long millis) {
    }

    static CompletableFuture<Outcome> bumpLater(Connection c, long id, boolean text) {
        return CompletableFuture.supplyAsync(() -> {
            long start = System.nanoTime();
            try {
                int n;
                if (text) {
                    try (Statement s = c.createStatement()) {
                        n = s.executeUpdate("UPDATE t_dl SET v = v + 1 WHERE id = " + id);
                    }
                } else {
                    n = bump(c, id);
                }
                return new Outcome(n, null, (System.nanoTime() - start) / 1_000_000);
            } catch (SQLException e) {
                return new Outcome(-1, e, (System.nanoTime() - start) / 1_000_000);
            }
        });
    }

    /**
     * T1 bumps a row on g0, T2 one on g1; then T1 wants T2's row and T2 wants T1's. Returns T1's and T2's waiting
     * statements' outcomes. {@code text}: T2's waiting statement is a text query (the JDBC path on the pins).
     */
    static Outcome[] crossGroupDeadlock(Connection t1, Connection t2, boolean text) throws Exception {
        long a = ON_G0.get(0);
        long b = ON_G1.get(0);
        t1.setAutoCommit(false);
        t2.setAutoCommit(false);
        assertEquals(1, bump(t1, a));
        assertEquals(1, bump(t2, b)); // T2 began later: the younger
        CompletableFuture<Outcome> first = bumpLater(t1, b, false); // waits for T2 on g1
        Thread.sleep(150);
        assertTrue(!first.isDone(), "T1 waits for T2's lock on g1");
        CompletableFuture<Outcome> second = bumpLater(t2, a, text); // waits for T1 on g0: a cycle across groups
        try {
            return new Outcome[]{first.get(30, TimeUnit.SECONDS), second.get(30, TimeUnit.SECONDS)};
        } catch (ExecutionException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aDeadlockAcrossGroupsRollsBackTheYoungerTransactionWithin1213NotAtTheLockWaitTimeout() throws Exception {
        for (boolean text : new boolean[]{false, true}) {
            long victimsBefore = proxy.relayCounts()[3];
            try (Connection t1 = connect(proxy); Connection t2 = connect(proxy)) {
                broken(crossGroupDeadlock(t1, t2, text), "proxy, " + (text ? "text" : "prepared"), t1, t2);
            }
            assertEquals(victimsBefore + 1, proxy.relayCounts()[3], "one victim counted");
        }
    }

    /**
     * The same through the driver: its fast path (prepared) and ShardingSphere (text) in a transaction over two groups;
     * and with pools of 2 connections, which the two transactions hold whole (the victim's statement is interrupted on
     * a connection of the check's own).
     */
    @Test
    void theDriverBreaksADeadlockAcrossGroupsToo() throws Exception {
        for (dev.ballast.jdbc.BallastDataSource ds : new dev.ballast.jdbc.BallastDataSource[]{driver, tight}) {
            for (boolean text : new boolean[]{false, true}) {
                long victimsBefore = ds.deadlocks().victims();
                try (Connection t1 = ds.getConnection(); Connection t2 = ds.getConnection()) {
                    broken(crossGroupDeadlock(t1, t2, text), "driver" + (ds == tight ? " (pools of 2)" : "") + ", "
                            + (text ? "text" : "prepared"), t1, t2);
                }
                assertEquals(victimsBefore + 1, ds.deadlocks().victims(), "one victim counted");
            }
        }
    }

    /** T2, the younger, was rolled back with 1213 well before the lock wait timeout; T1 went on and committed. */
    private void broken(Outcome[] o, String label, Connection t1, Connection t2) throws Exception {
        System.out.printf("DEADLOCK across groups (%s): T1 %s after %d ms, T2 %s after %d ms%n", label,
                o[0].error() == null ? "updated" : "error " + o[0].error().getErrorCode(), o[0].millis(),
                o[1].error() == null ? "updated" : "error " + o[1].error().getErrorCode(), o[1].millis());
        if (o[1].error() == null) {
            fail("T2, the younger, was not rolled back: " + o[1] + "; T1: " + o[0]);
        }
        assertEquals(1213, o[1].error().getErrorCode(), o[1].error().getMessage());
        assertEquals("40001", o[1].error().getSQLState());
        assertTrue(o[1].error().getMessage().contains("waited for each other's locks"), o[1].error().getMessage());
        assertTrue(o[1].millis() < 3_000, "broken well before innodb_lock_wait_timeout (5 s): " + o[1].millis() + " ms");
        assertEquals(null, o[0].error(), "T1 goes on");
        assertEquals(1, o[0].updated());
        t2.rollback(); // what a client does after 1213; nothing is left to roll back
        t1.commit();
        assertEquals(1, value(ON_G0.get(0)), "T1's bump on g0; T2's rolled back");
        assertEquals(1, value(ON_G1.get(0)), "T1's bump on g1; T2's, made first, rolled back");
        reset();
    }

    @Test
    void aDeadlockOneServerFindsEndsTheTransactionOnEveryGroup() throws Exception {
        serverDeadlock(connect(proxy), connect(proxy));
        reset();
        serverDeadlock(driver.getConnection(), driver.getConnection());
        reset();
        assertEquals(null, unchecked.deadlocks(), "deadlockCheckMs: 0 runs no check");
        serverDeadlock(unchecked.getConnection(), unchecked.getConnection());
    }

    /** T2 writes on g1, then meets a deadlock that g0 finds and rolls back there: its g1 part must go too. */
    private void serverDeadlock(Connection c1, Connection c2) throws Exception {
        long a1 = ON_G0.get(0);
        long a2 = ON_G0.get(1);
        long b = ON_G1.get(0);
        try (Connection t1 = c1; Connection t2 = c2) {
            t1.setAutoCommit(false);
            t2.setAutoCommit(false);
            assertEquals(1, bump(t1, a1));
            assertEquals(1, bump(t1, ON_G0.get(2))); // T1 is the heavier on g0: the server rolls back T2
            assertEquals(1, bump(t2, b)); // T2's part on g1
            assertEquals(1, bump(t2, a2));
            CompletableFuture<Outcome> first = bumpLater(t1, a2, false); // waits for T2 on g0
            Thread.sleep(150);
            CompletableFuture<Outcome> second = bumpLater(t2, a1, false); // the server sees the cycle on g0
            Outcome o1 = first.get(30, TimeUnit.SECONDS);
            Outcome o2 = second.get(30, TimeUnit.SECONDS);
            assertEquals(null, o1.error(), "T1 goes on");
            assertTrue(o2.error() != null && o2.error().getErrorCode() == 1213, "T2 met the server's deadlock: " + o2);
            assertTrue(o2.error().getMessage().contains("rolled the transaction back on every group"), o2.error().getMessage());
            // a client that ignores the error and commits must not commit T2's part on g1
            t2.commit();
            t1.commit();
        }
        assertEquals(0, value(b), "T2's write on g1 went with the rest of T2");
        assertEquals(1, value(a2), "T1's bump of a2 only");
        assertEquals(1, value(a1));
    }

    @Test
    void withoutALockWaitReaderTheCycleEndsOnlyAtTheTimeout() throws Exception {
        try (Connection t1 = connect(blind); Connection t2 = connect(blind)) {
            Outcome[] o = crossGroupDeadlock(t1, t2, false);
            System.out.printf("DEADLOCK without PROCESS: T1 %s after %d ms, T2 %s after %d ms%n",
                    o[0].error() == null ? "updated" : "error " + o[0].error().getErrorCode(), o[0].millis(),
                    o[1].error() == null ? "updated" : "error " + o[1].error().getErrorCode(), o[1].millis());
            Outcome timedOut = o[0].error() != null ? o[0] : o[1];
            assertTrue(timedOut.error() != null, "one of them timed out");
            assertEquals(1205, timedOut.error().getErrorCode(), timedOut.error().getMessage());
            assertTrue(timedOut.millis() >= 4_000, "it waited for innodb_lock_wait_timeout: " + timedOut.millis() + " ms");
            assertEquals(0, blind.relayCounts()[3]);
            t1.rollback();
            t2.rollback();
        }
    }
}
