package dev.ballast.it.fastpath;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.ReplicaGroupBed;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.jdbc.BallastDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Fast-path statements keep JDBC's rules: transactions, closed connections, batches and generated keys. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FastPathLifecycleTest {

    TestBed bed;
    BallastDataSource ds;

    @BeforeAll
    void start() throws Exception {
        bed = TestBed.start(1, 1);
        ReplicaGroupBed g0 = bed.groups().get(0);
        g0.master().execute("CREATE TABLE " + TestBed.DATABASE + ".t_kv (k INT PRIMARY KEY, v INT NOT NULL)");
        bed.awaitReplication();
        ds = new BallastDataSource(ClusterYaml.forBed("life", bed)
                .with("tables:\n  t_kv:\n    shardingColumn: k\n    tablesPerGroup: 1\n    algorithm: {type: hash-mod}\n").config());
    }

    @AfterAll
    void stop() {
        if (ds != null) {
            ds.close();
        }
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    void fastStatementJoinsATransactionStartedAfterItWasPrepared() throws Exception {
        try (Connection c = ds.getConnection(); PreparedStatement insert = c.prepareStatement("INSERT INTO t_kv (k, v) VALUES (?, ?)")) {
            c.setAutoCommit(false);
            insert.setInt(1, 1);
            insert.setInt(2, 10);
            insert.executeUpdate();
            c.rollback();
            c.setAutoCommit(true);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("/* ballast:master */ SELECT COUNT(*) FROM t_kv WHERE k = 1")) {
                rs.next();
                assertEquals(0, rs.getInt(1), "the rolled-back insert is gone");
            }
        }
    }

    @Test
    void batchesAndReuseAfterCloseBehaveAsJdbcSays() throws Exception {
        PreparedStatement kept;
        try (Connection c = ds.getConnection()) {
            PreparedStatement insert = c.prepareStatement("INSERT INTO t_kv (k, v) VALUES (?, ?)");
            for (int k = 100; k < 105; k++) {
                insert.setInt(1, k);
                insert.setInt(2, k);
                insert.addBatch();
            }
            int[] counts = insert.executeBatch();
            assertEquals(5, counts.length);
            kept = c.prepareStatement("SELECT v FROM t_kv WHERE k = ?");
            kept.setInt(1, 100);
            try (ResultSet rs = kept.executeQuery()) {
                assertTrue(rs.next());
            }
        }
        SQLException e = assertThrows(SQLException.class, kept::executeQuery);
        assertTrue(e.getSQLState().startsWith("08") || e.getMessage().toLowerCase().contains("closed"), e.toString());
    }
}
