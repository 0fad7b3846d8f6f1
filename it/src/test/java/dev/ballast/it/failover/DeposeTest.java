package dev.ballast.it.failover;

import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.TestBedUsers;
import dev.ballast.replication.ServerDialect;
import dev.ballast.rules.Flavour;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Deposing a master that a failover replaces, on a real semi-sync pair: a commit that waits for an acknowledgement no
 * replica will send must not be acknowledged to its client. (Found by {@link FailoverChaosTest}: a SIGSTOPped master
 * resumed, its fence's {@code SET GLOBAL read_only} waited for the insert it had been executing, and the server
 * acknowledged that insert after {@code rpl_semi_sync_master_timeout}; the new master never had it.)
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeposeTest {

    FailoverBed bed;
    MariaDbNode master;
    String db;

    @BeforeEach
    void start() {
        bed = FailoverBed.start("depose", 1, "");
        master = bed.master();
        db = bed.bed().database();
        master.execute("CREATE TABLE " + db + ".t (id INT PRIMARY KEY)");
        bed.bed().awaitReplication();
        // the replica has been repointed elsewhere: nothing will acknowledge the master's commits any more
        bed.bed().groups().get(0).replicas().get(0).stopReplication();
    }

    @AfterEach
    void stop() {
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    void aCommitWaitingForASemiSyncAckIsNotAcknowledgedAndTheMasterEndsReadOnly() throws Exception {
        Connection app = master.connect(db);
        Connection idle = master.connect(db);
        long t0 = System.nanoTime();
        CompletableFuture<Object> insert = CompletableFuture.supplyAsync(() -> {
            try (Statement s = app.createStatement()) {
                return s.executeUpdate("INSERT INTO t VALUES (1)");
            } catch (SQLException e) {
                return e;
            }
        });
        FailoverBed.await("the insert waiting for a semi-sync ack", Duration.ofSeconds(1), () -> !master.query(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE STATE LIKE 'Waiting for semi-sync ACK%'").isEmpty());

        int killed;
        try (Connection admin = master.connect("", TestBedUsers.ADMIN_USER, TestBedUsers.ADMIN_PASSWORD)) {
            killed = ServerDialect.of(Flavour.MARIADB).depose(admin, 5_000);
        }
        long deposedMs = (System.nanoTime() - t0) / 1_000_000L;

        Object outcome = insert.get(10, TimeUnit.SECONDS);
        assertTrue(outcome instanceof SQLException, "the insert waiting for an ack that never came was acknowledged ("
                + outcome + ") " + deposedMs + " ms after it was sent");
        assertTrue(deposedMs < MariaDbNode.SEMI_SYNC_MASTER_TIMEOUT_MS, "deposing took " + deposedMs + " ms");
        assertEquals(2, killed, "the waiting and the idle client connection");
        assertEquals("1", master.query("SELECT @@read_only AS v").get(0).get("v"));
        assertEquals("0", master.query("SELECT @@rpl_semi_sync_master_enabled AS v").get(0).get("v"));
        assertThrows(SQLException.class, () -> idle.createStatement().execute("SELECT 1"), "the idle connection was killed");
        try (Connection again = master.connect(db); Statement s = again.createStatement()) {
            SQLException refused = assertThrows(SQLException.class, () -> s.executeUpdate("INSERT INTO t VALUES (2)"));
            assertEquals(1290, refused.getErrorCode(), refused.getMessage());   // ER_OPTION_PREVENTS_STATEMENT: read_only
        }
        app.close();
        idle.close();
    }
}
