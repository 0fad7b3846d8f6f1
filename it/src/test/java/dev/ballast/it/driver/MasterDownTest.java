package dev.ballast.it.driver;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.jdbc.BallastDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A group whose master is gone (crashed or hung): writes fail fast and name the node; reads still work. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MasterDownTest {

    static final String TABLES = """
            pool:
              connectTimeoutMs: 1000
              connectionTimeoutMs: 2000
            tables:
              t_kv:
                group: g0
            """;

    TestBed bed;
    BallastDataSource ds;

    @BeforeEach
    void start() throws Exception {
        bed = TestBed.start(1, 1);
        ds = new BallastDataSource(ClusterYaml.forBed("down", bed).with(TABLES).config());
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t_kv (k INT PRIMARY KEY, v INT NOT NULL)");
            s.executeUpdate("INSERT INTO t_kv VALUES (1, 1)");
        }
        bed.awaitReplication();
    }

    @AfterEach
    void stop() {
        if (ds != null) {
            ds.close();
        }
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    void crashedMasterFailsWritesWithTheNodeNamedWhileReplicaReadsGoOn() throws Exception {
        MariaDbNode master = bed.groups().get(0).master();
        master.crash();
        Thread.sleep(1000); // past the pool's alive-bypass window, so the pool re-checks its idle connections
        assertWriteFailsNaming(master);
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT v FROM t_kv WHERE k = 1")) {
            assertTrue(rs.next());
            assertEquals(1, rs.getInt(1));
        }
    }

    @Test
    void hungMasterFailsWritesWithinTheTimeoutsInsteadOfHanging() throws Exception {
        MariaDbNode master = bed.groups().get(0).master();
        master.hang();
        try {
            Thread.sleep(1000);
            long t0 = System.nanoTime();
            assertWriteFailsNaming(master);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 8_000, "write gave up after " + ms + " ms");
        } finally {
            master.resume();
        }
    }

    @Test
    void fastPathWriteOnAConnectionToACrashedMasterNamesTheNode() throws Exception {
        MariaDbNode master = bed.groups().get(0).master();
        try (Connection c = ds.getConnection(); PreparedStatement insert = c.prepareStatement("INSERT INTO t_kv (k, v) VALUES (?, ?)")) {
            insert.setInt(1, 10);
            insert.setInt(2, 10);
            assertEquals(1, insert.executeUpdate()); // the connection now holds a connection to the master
            master.crash();
            insert.setInt(1, 11);
            SQLException e = assertThrows(SQLException.class, insert::executeUpdate);
            assertTrue(e.getSQLState().startsWith("08"), e.getSQLState());
            assertTrue(e.getMessage().contains("node=" + master.address() + " role=master"), e.getMessage());
        }
    }

    private void assertWriteFailsNaming(MariaDbNode master) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> s.executeUpdate("INSERT INTO t_kv VALUES (2, 2)"));
            assertTrue(e instanceof SQLTransientConnectionException, "transient: " + e);
            assertEquals("08001", e.getSQLState());
            assertTrue(e.getMessage().contains("group=g0 node=" + master.address() + " role=master")
                    && e.getMessage().contains("no reachable master"), e.getMessage());
        }
    }

}
