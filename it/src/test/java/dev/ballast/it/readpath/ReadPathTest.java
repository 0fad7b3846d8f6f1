package dev.ballast.it.readpath;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.ReplicaGroupBed;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.jdbc.BallastDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The read path on one group of a master and two replicas: lag-aware replica choice, read-your-writes
 * with a replica held back (its SQL thread stopped), fallbacks, and reads on a crashed replica.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReadPathTest {

    TestBed bed;
    ReplicaGroupBed group;
    MariaDbNode master;
    MariaDbNode r0;
    MariaDbNode r1;

    @BeforeAll
    void start() throws Exception {
        bed = TestBed.start(1, 2);
        group = bed.groups().get(0);
        master = group.master();
        r0 = group.replicas().get(0);
        r1 = group.replicas().get(1);
        master.execute("CREATE TABLE " + TestBed.DATABASE + ".t_kv (k INT PRIMARY KEY, v INT NOT NULL)",
                "INSERT INTO " + TestBed.DATABASE + ".t_kv VALUES (1, 0), (2, 0), (3, 0), (4, 0)");
        bed.awaitReplication();
    }

    @AfterAll
    void stop() {
        if (bed != null) {
            bed.close();
        }
    }

    BallastDataSource dataSource(String readPolicy) throws SQLException {
        return new BallastDataSource(ClusterYaml.forBed("reads", bed)
                .with("readPolicy:\n" + readPolicy.indent(2) + "tables:\n  t_kv:\n    group: g0\n").config());
    }

    /** Writes v = 1..n on its own row and reads it straight back; returns how many reads were stale. */
    static int staleReadsAfterOwnWrites(Connection c, int key, int n) throws SQLException {
        int stale = 0;
        try (PreparedStatement write = c.prepareStatement("UPDATE t_kv SET v = ? WHERE k = ?");
             PreparedStatement read = c.prepareStatement("SELECT v FROM t_kv WHERE k = ?")) {
            for (int i = 1; i <= n; i++) {
                write.setInt(1, i);
                write.setInt(2, key);
                assertEquals(1, write.executeUpdate());
                read.setInt(1, key);
                try (ResultSet rs = read.executeQuery()) {
                    assertTrue(rs.next());
                    if (rs.getInt(1) != i) {
                        stale++;
                    }
                }
            }
        }
        return stale;
    }

    Set<Long> serversAnswering(Connection c, int reads) throws SQLException {
        Set<Long> ids = new HashSet<>();
        try (Statement s = c.createStatement()) {
            for (int i = 0; i < reads; i++) {
                try (ResultSet rs = s.executeQuery("SELECT @@server_id FROM t_kv WHERE k = 1")) {
                    rs.next();
                    ids.add(rs.getLong(1));
                }
            }
        }
        return ids;
    }

    @Test
    @Order(1)
    void noStaleReadAfterOwnWriteInEveryModeButOff() throws Exception {
        r0.execute("STOP SLAVE SQL_THREAD");
        try {
            // A large maxReplicaLagMs keeps the held-back replica in rotation, so only read-your-writes protects.
            try (BallastDataSource off = dataSource("readYourWrites: off\nmaxReplicaLagMs: 600000\n");
                 Connection c = off.getConnection()) {
                assertTrue(staleReadsAfterOwnWrites(c, 1, 20) > 0, "with 'off' the held-back replica serves stale reads");
            }
            try (BallastDataSource window = dataSource("readYourWrites: master-after-write\nmaxReplicaLagMs: 600000\n");
                 Connection c = window.getConnection()) {
                assertEquals(0, staleReadsAfterOwnWrites(c, 2, 20));
            }
            try (BallastDataSource gtid = dataSource("readYourWrites: gtid-wait\nmaxReplicaLagMs: 600000\n");
                 Connection c = gtid.getConnection(); Connection other = gtid.getConnection()) {
                assertEquals(0, staleReadsAfterOwnWrites(c, 3, 20));
                Set<Long> replicas = Set.of((long) r0.serverId(), (long) r1.serverId());
                assertTrue(replicas.containsAll(serversAnswering(other, 10)), "a connection that did not write reads replicas");
            }
        } finally {
            r0.execute("START SLAVE SQL_THREAD");
            bed.awaitReplication();
        }
    }

    @Test
    @Order(2)
    void laggingReplicaGetsNoReadsAndComesBackAfterCatchingUp() throws Exception {
        try (BallastDataSource ds = dataSource("maxReplicaLagMs: 1000\nprobeIntervalMs: 200\n");
             Connection c = ds.getConnection()) {
            assertEquals(Set.of((long) r0.serverId(), (long) r1.serverId()), serversAnswering(c, 8));
            r0.execute("STOP SLAVE SQL_THREAD");
            try {
                keepWriting(2_500);
                assertEquals(Set.of((long) r1.serverId()), serversAnswering(c, 8), "the lagging replica is ejected");
            } finally {
                r0.execute("START SLAVE SQL_THREAD");
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            boolean back = false;
            while (!back && System.nanoTime() < deadline) {
                back = serversAnswering(c, 4).contains((long) r0.serverId());
                Thread.sleep(100);
            }
            assertTrue(back, "the replica is read from again once it has caught up");
        }
    }

    @Test
    @Order(3)
    void withNoReplicaInLagFallbackIsMasterOrAClearError() throws Exception {
        try (BallastDataSource toMaster = dataSource("maxReplicaLagMs: 500\nprobeIntervalMs: 100\n");
             BallastDataSource failing = dataSource("maxReplicaLagMs: 500\nprobeIntervalMs: 100\nfallback: fail\n")) {
            r0.execute("STOP SLAVE SQL_THREAD");
            r1.execute("STOP SLAVE SQL_THREAD");
            try {
                keepWriting(1_500);
                try (Connection c = toMaster.getConnection()) {
                    assertEquals(Set.of((long) master.serverId()), serversAnswering(c, 3));
                }
                try (Connection c = failing.getConnection(); Statement s = c.createStatement()) {
                    SQLException e = assertThrows(SQLException.class, () -> s.executeQuery("SELECT v FROM t_kv WHERE k = 1"));
                    assertTrue(e instanceof SQLTransientConnectionException, e.toString());
                    assertTrue(e.getMessage().contains("group=g0") && e.getMessage().contains("fallback"), e.getMessage());
                }
            } finally {
                r0.execute("START SLAVE SQL_THREAD");
                r1.execute("START SLAVE SQL_THREAD");
                bed.awaitReplication();
            }
        }
    }

    @Test
    @Order(4)
    void readsOnACrashedReplicaAreRetriedElsewhere() throws Exception {
        try (BallastDataSource ds = dataSource("probeIntervalMs: 5000\n"); Connection c = ds.getConnection()) {
            assertEquals(Set.of((long) r0.serverId(), (long) r1.serverId()), serversAnswering(c, 4), "connections to both replicas are open");
            r0.crash();
            Set<Long> answered = serversAnswering(c, 10); // no probe round in between: the failures themselves eject r0
            assertFalse(answered.contains((long) r0.serverId()));
            assertTrue(answered.contains((long) r1.serverId()), answered.toString());
            try (Connection fresh = ds.getConnection()) {
                assertFalse(serversAnswering(fresh, 4).contains((long) r0.serverId()));
            }
        }
    }

    private void keepWriting(long millis) throws InterruptedException {
        long end = System.nanoTime() + millis * 1_000_000;
        int i = 0;
        while (System.nanoTime() < end) {
            master.execute("UPDATE " + TestBed.DATABASE + ".t_kv SET v = " + (++i) + " WHERE k = 4");
            Thread.sleep(100);
        }
    }
}
