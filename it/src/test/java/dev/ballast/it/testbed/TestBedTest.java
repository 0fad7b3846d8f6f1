package dev.ballast.it.testbed;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One bed for the whole class: 2 groups x (master + 2 replicas) and a standalone node. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TestBedTest {

    TestBed bed;

    @BeforeAll
    void start() {
        long t0 = System.nanoTime();
        bed = TestBed.start(TestBed.Spec.of(2, 2).withStandalones(1));
        System.out.printf("2 x 3 + 1 bed started in %d ms%n%s", (System.nanoTime() - t0) / 1_000_000, bed.describe());
    }

    @AfterAll
    void stop() {
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    void bedStartsWithWritableSemiSyncMastersAndReadOnlyReplicas() {
        Set<Integer> ids = new HashSet<>();
        for (ReplicaGroupBed group : bed.groups()) {
            MariaDbNode master = group.master();
            NodeState m = master.state();
            assertTrue(m.reachable() && !m.readOnly() && !m.isReplica(), "master " + master + ": " + m);
            Map<String, String> flags = master.query("SELECT @@rpl_semi_sync_master_enabled AS m, @@rpl_semi_sync_slave_enabled AS s, "
                    + "@@rpl_semi_sync_master_wait_point AS w, @@rpl_semi_sync_master_timeout AS t, @@gtid_strict_mode AS g, "
                    + "@@log_slave_updates AS u, @@binlog_format AS f, @@bind_address AS b").get(0);
            assertEquals(Map.of("m", "1", "s", "0", "w", "AFTER_SYNC", "t", "2000", "g", "1", "u", "1", "f", "ROW", "b", "127.0.0.1"), flags);
            assertEquals("ON", status(master, "Rpl_semi_sync_master_status"));
            // >= because a killed replica's semi-sync registration lingers until the master next sends to it
            assertTrue(Integer.parseInt(status(master, "Rpl_semi_sync_master_clients")) >= group.replicas().size());
            for (MariaDbNode replica : group.replicas()) {
                NodeState r = replica.state();
                assertTrue(r.readOnly() && r.replicating() && r.masterPort() == master.port(), replica + ": " + r);
                assertEquals(Map.of("m", "0", "s", "1"), replica.query(
                        "SELECT @@rpl_semi_sync_master_enabled AS m, @@rpl_semi_sync_slave_enabled AS s").get(0));
            }
            for (MariaDbNode node : group.nodes()) {
                assertTrue(ids.add(node.serverId()), "server_id " + node.serverId() + " is unique");
                assertEquals(node.serverId(), node.state().serverId());
                assertEquals(1, node.query("SHOW DATABASES LIKE '" + TestBed.DATABASE + "'").size(), node + " has the database");
            }
        }
        MariaDbNode standalone = bed.standalones().get(0);
        NodeState s = standalone.state();
        assertTrue(s.reachable() && !s.readOnly() && !s.isReplica(), standalone + ": " + s);
        assertEquals(1, standalone.query("SHOW DATABASES LIKE '" + TestBed.DATABASE + "'").size());
        assertEquals(List.of(101, 102, 103, 201, 202, 203, 1001), bed.nodes().subList(0, 7).stream().map(MariaDbNode::serverId).toList());
    }

    @Test
    void replicationCarriesWritesToEveryReplica() throws SQLException {
        ReplicaGroupBed group = bed.group(0);
        try (Connection c = group.master().connect(TestBed.DATABASE); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t_carry (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL)");
            s.executeUpdate("INSERT INTO t_carry VALUES (1, 'one'), (2, 'two')");
        }
        group.awaitReplication();
        String masterPos = group.master().state().gtidBinlogPos();
        assertTrue(masterPos.startsWith("0-101-"), masterPos);
        for (MariaDbNode replica : group.replicas()) {
            try (Connection c = replica.connect(TestBed.DATABASE); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT v FROM t_carry ORDER BY id")) {
                assertTrue(rs.next());
                assertEquals("one", rs.getString(1));
                assertTrue(rs.next());
                assertEquals("two", rs.getString(1));
                assertFalse(rs.next());
            }
            NodeState state = replica.state();
            assertEquals(masterPos, state.gtidSlavePos(), replica + " applied");
            assertEquals(masterPos, state.gtidIoPos(), replica + " received");
            assertEquals(masterPos, state.gtidBinlogPos(), replica + " logged (log_slave_updates)");
        }
    }

    @Test
    void applicationUserIsRefusedOnReadOnlyReplica() throws SQLException {
        ReplicaGroupBed group = bed.group(0);
        group.master().execute("CREATE TABLE `" + TestBed.DATABASE + "`.t_refused (id INT PRIMARY KEY)");
        group.awaitReplication();
        MariaDbNode replica = group.replicas().get(0);
        String before = replica.state().gtidBinlogPos();
        try (Connection c = replica.connect(TestBed.DATABASE); Statement s = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> s.executeUpdate("INSERT INTO t_refused VALUES (1)"));
            assertEquals(1290, e.getErrorCode(), e.getMessage());
        }
        assertEquals(before, replica.state().gtidBinlogPos(), "no errant GTID on " + replica);
    }

    @Test
    void hungNodeResumes() throws SQLException {
        MariaDbNode node = bed.standalones().get(0);
        String url = "jdbc:mysql://127.0.0.1:" + node.port() + "/?connectTimeout=2000&socketTimeout=2000&sslMode=DISABLED";
        node.hang();
        try {
            assertTrue(node.isRunning() && node.isHung());
            long t0 = System.nanoTime();
            assertThrows(SQLException.class, () -> DriverManager.getConnection(url, TestBed.APP_USER, TestBed.APP_PASSWORD).close());
            long millis = (System.nanoTime() - t0) / 1_000_000;
            // HikariCP sets DriverManager's global login timeout from its pools' connectionTimeout, so an earlier
            // test in this JVM can shorten the wait below connectTimeout: only the upper bound is ours to check.
            assertTrue(millis < 6000, "a frozen server fails the connect within the timeouts, took " + millis + " ms");
            assertFalse(node.state().reachable());
        } finally {
            node.resume();
        }
        try (Connection c = DriverManager.getConnection(url, TestBed.APP_USER, TestBed.APP_PASSWORD);
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT @@server_id")) {
            assertTrue(rs.next());
            assertEquals(node.serverId(), rs.getInt(1));
        }
        assertTrue(node.state().reachable());
    }

    @Test
    void restartedNodeRejoinsAsReplica() throws SQLException {
        ReplicaGroupBed group = bed.group(1);
        MariaDbNode master = group.master();
        MariaDbNode replica = group.replicas().get(0);
        master.execute("CREATE TABLE `" + TestBed.DATABASE + "`.t_rejoin (id INT PRIMARY KEY)");
        group.awaitReplication();

        replica.crash();
        assertFalse(replica.isRunning());
        assertFalse(replica.state().reachable());
        try (Connection c = master.connect(TestBed.DATABASE);
             PreparedStatement ps = c.prepareStatement("INSERT INTO t_rejoin VALUES (?)")) {
            for (int i = 1; i <= 50; i++) {
                ps.setInt(1, i);
                ps.executeUpdate();
            }
        }

        replica.restartAsReplicaOf(master);
        replica.awaitApplied(master.gtidBinlogPos(), Duration.ofSeconds(20));
        assertEquals("50", replica.query("SELECT COUNT(*) AS n FROM `" + TestBed.DATABASE + "`.t_rejoin").get(0).get("n"));
        NodeState state = replica.state();
        assertTrue(state.replicating() && state.readOnly() && state.masterPort() == master.port(), state.toString());
        assertEquals(Map.of("m", "0", "s", "1"), replica.query(
                "SELECT @@rpl_semi_sync_master_enabled AS m, @@rpl_semi_sync_slave_enabled AS s").get(0));
    }

    @Test
    void restartedReplicaResumesReplicationByItself() throws SQLException {
        ReplicaGroupBed group = bed.group(1);
        MariaDbNode replica = group.replicas().get(1);
        replica.restart(); // clean shutdown, then its start flags: read-only replica, master.info kept
        try (Connection c = group.master().connect(TestBed.DATABASE); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t_resume (id INT PRIMARY KEY)");
            s.executeUpdate("INSERT INTO t_resume VALUES (1)");
        }
        replica.awaitApplied(group.master().gtidBinlogPos(), Duration.ofSeconds(20));
        NodeState state = replica.state();
        assertTrue(state.replicating() && state.readOnly(), state.toString());
    }

    @Test
    void nodeThatCannotStartReportsItsErrorLog() throws Exception {
        MariaDbNode node = bed.startStandalone();
        node.stop();
        assertFalse(node.isRunning());
        for (String table : new String[]{"global_priv.MAD", "global_priv.MAI", "global_priv.frm"}) {
            java.nio.file.Files.delete(node.dataDir().resolve("mysql").resolve(table));
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, node::start);
        assertTrue(e.getMessage().contains(node.errorLog().toString()), e.getMessage());
        assertTrue(e.getMessage().contains("server_id=" + node.serverId()), e.getMessage());
        assertTrue(e.getMessage().contains("Can't open and lock privilege tables"), "the tail of the error log says why: " + e.getMessage());
        assertFalse(node.isRunning());
    }

    private static String status(MariaDbNode node, String variable) {
        return node.query("SHOW GLOBAL STATUS LIKE '" + variable + "'").get(0).get("Value");
    }
}
