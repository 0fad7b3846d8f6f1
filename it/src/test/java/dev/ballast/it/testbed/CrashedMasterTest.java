package dev.ballast.it.testbed;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A master's death and its way back, on one group (master + 2 replicas). The scenarios build on each other, so
 * they run in order: crash, then a manual failover and the safe rejoin, then the unsafe restart.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CrashedMasterTest {

    TestBed bed;
    MariaDbNode oldMaster;
    MariaDbNode promoted;
    MariaDbNode other;

    @BeforeAll
    void start() throws SQLException {
        bed = TestBed.start(1, 2);
        oldMaster = bed.group(0).master();
        promoted = bed.group(0).replicas().get(0);
        other = bed.group(0).replicas().get(1);
        try (Connection c = oldMaster.connect(TestBed.DATABASE); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t_fail (id INT PRIMARY KEY, origin VARCHAR(20) NOT NULL)");
            s.executeUpdate("INSERT INTO t_fail VALUES (1, 'old master')");
        }
        bed.awaitReplication();
    }

    @AfterAll
    void stop() {
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    @Order(1)
    void crashedMasterStopsReplicasIoThread() {
        oldMaster.crash();
        assertFalse(oldMaster.isRunning());
        assertFalse(oldMaster.state().reachable());
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        for (MariaDbNode replica : bed.group(0).replicas()) {
            NodeState state = replica.state();
            while ("Yes".equals(state.ioRunning()) && System.nanoTime() < deadline) {
                Janitor.sleep(20);
                state = replica.state();
            }
            assertEquals("Connecting", state.ioRunning(), replica + ": " + state);
            assertEquals("Yes", state.sqlRunning(), replica + ": " + state);
        }
    }

    @Test
    @Order(2)
    void crashedMasterRejoinsAsReplicaOfPromotedReplica() throws SQLException {
        if (oldMaster.isRunning()) {
            oldMaster.crash();
        }
        // the manual failover of notes/mariadb-replication.md, on the most advanced replica
        promoted.execute("STOP SLAVE IO_THREAD");
        promoted.awaitApplied(promoted.state().gtidIoPos(), Duration.ofSeconds(10));
        promoted.execute("STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL rpl_semi_sync_master_enabled = ON",
                "SET GLOBAL read_only = OFF");
        other.changeMasterTo(promoted);
        other.startReplication();
        try (Connection c = promoted.connect(TestBed.DATABASE); Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO t_fail VALUES (2, 'promoted')");
        }

        oldMaster.restartAsReplicaOf(promoted);
        String pos = promoted.gtidBinlogPos();
        assertTrue(pos.contains("-102-"), "new writes carry the promoted server_id: " + pos);
        oldMaster.awaitApplied(pos, Duration.ofSeconds(20));
        other.awaitApplied(pos, Duration.ofSeconds(20));
        assertEquals("promoted", oldMaster.query("SELECT origin FROM `" + TestBed.DATABASE + "`.t_fail WHERE id = 2").get(0).get("origin"));
        NodeState state = oldMaster.state();
        assertTrue(state.replicating() && state.readOnly() && state.masterPort() == promoted.port(), state.toString());
        assertEquals(pos, state.gtidSlavePos(), "demoted: its own transactions count as applied");
    }

    @Test
    @Order(3)
    void oldMasterRestartedWithOriginalSettingsComesBackWritable() throws SQLException {
        // the split-brain restart: the old master's start flags still say "master"
        oldMaster.crash();
        oldMaster.restart();
        NodeState state = oldMaster.state();
        assertTrue(state.reachable() && !state.readOnly(), state.toString());
        assertEquals("1", oldMaster.query("SELECT @@rpl_semi_sync_master_enabled AS m").get(0).get("m"));
        // both accept the application's writes; the old master's first commit waits the 2 s semi-sync timeout
        // (no semi-sync replica of its own), then goes on asynchronously
        for (MariaDbNode writable : new MariaDbNode[]{oldMaster, promoted}) {
            try (Connection c = writable.connect(TestBed.DATABASE); Statement s = c.createStatement()) {
                assertEquals(1, s.executeUpdate("INSERT INTO t_fail VALUES (" + (10 + writable.serverId()) + ", 'split brain')"),
                        "the application writes on " + writable);
            }
        }
    }
}
