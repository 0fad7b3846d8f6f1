package dev.ballast.it.upgrade;

import dev.ballast.failover.Switchover;
import dev.ballast.it.failover.FailoverBed;
import dev.ballast.it.testbed.MariaDbBinaries;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.SystemTablesUpgrade;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.replication.GroupTopology;
import dev.ballast.rules.NodeAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 12 (test bed): one replica of a 10.11 group (master + 2 replicas, GTID, semi-sync) is upgraded in place to
 * MariaDB 11.4.5 from the Maven artifact while a writer runs on the master: stopped cleanly, started from the other
 * binary directory on the same data directory, port and server id, system tables brought up to date
 * ({@link SystemTablesUpgrade}). It then replicates every acknowledged row (checked row by row). A planned switchover
 * to it follows, and the test records what the 10.11 nodes do as replicas of an 11.4 master, a direction MariaDB does
 * not support.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class InPlaceUpgradeTest {

    static final String TARGET = "11.4.5";

    FailoverBed bed;

    @AfterEach
    void stop() {
        if (bed != null) {
            bed.close(); // kills every server by PID
        }
    }

    @Test
    void aReplicaUpgradedInPlaceTo114ReplicatesEveryRowAndTheSwitchoverToItIsObserved() throws Exception {
        long t0 = System.nanoTime();
        MariaDbBinaries m114 = MariaDbBinaries.fromMavenArtifact(TARGET);
        System.out.println("UPGRADE: 11.4.5 binaries ready in " + (System.nanoTime() - t0) / 1_000_000 + " ms at " + m114.baseDir().orElseThrow());
        assertEquals(TARGET, m114.versionNumber());

        bed = FailoverBed.start("upgrade", 2, "");
        bed.store().bootstrap(bed.config());
        MariaDbNode master = bed.bed().group(0).master();
        MariaDbNode upgraded = bed.bed().group(0).replicas().get(0);
        MariaDbNode other = bed.bed().group(0).replicas().get(1);
        String oldVersion = version(master);
        assertTrue(oldVersion.startsWith("10.11."), oldVersion);
        master.execute("CREATE TABLE " + TestBed.DATABASE + ".up (id INT PRIMARY KEY, phase VARCHAR(20) NOT NULL)");
        bed.bed().awaitReplication();
        int portBefore = upgraded.port();
        long logOffset;

        Writer during = new Writer(master, "during", 1);
        Thread w = new Thread(during, "upgrade-writer");
        w.start();
        try {
            logOffset = Files.size(upgraded.errorLog());
            long t1 = System.nanoTime();
            upgraded.restartWith(m114);
            long restartMs = (System.nanoTime() - t1) / 1_000_000;
            long t2 = System.nanoTime();
            SystemTablesUpgrade.Result fix = SystemTablesUpgrade.run(upgraded);
            System.out.println("UPGRADE: restart on 11.4.5 took " + restartMs + " ms, system tables " + (System.nanoTime() - t2) / 1_000_000
                    + " ms: " + fix.executed() + " statements, " + fix.failures().size() + " failed");
            fix.failures().forEach(f -> System.out.println("UPGRADE: failed " + f.errorCode() + " " + f.message() + " :: "
                    + f.statement().substring(0, Math.min(120, f.statement().length())).replace('\n', ' ')));
            assertEquals(List.of(), fix.failures(), "every statement of share/mariadb_sys_schema.sql ran");
            Janitor.sleep(1000); // rows keep arriving on the master while the upgraded replica catches up
        } finally {
            during.stop.set(true);
            w.join(10_000);
        }
        assertEquals(List.of(), during.errors, "the writer on the 10.11 master had no errors");
        assertTrue(during.acknowledged.size() > 10, "rows were written during the upgrade: " + during.acknowledged.size());
        Writer after = new Writer(master, "after", 100_000);
        after.writeSome(50);

        // the node is the same node, now 11.4.5, and a healthy replica
        assertEquals(portBefore, upgraded.port());
        assertTrue(version(upgraded).startsWith(TARGET + "-MariaDB"), version(upgraded));
        assertEquals(String.valueOf(upgraded.serverId()), upgraded.query("SELECT @@server_id").get(0).values().iterator().next());
        bed.bed().awaitReplication();
        Map<String, String> status = upgraded.query("SHOW SLAVE STATUS").get(0);
        assertEquals("Yes", status.get("Slave_IO_Running"), status.toString());
        assertEquals("Yes", status.get("Slave_SQL_Running"), status.toString());
        assertEquals("Slave_Pos", status.get("Using_Gtid"), status.toString());
        assertEquals("ON", upgraded.query("SHOW STATUS LIKE 'Rpl_semi_sync_slave_status'").get(0).get("Value"),
                "the 11.4.5 replica is a semi-sync replica again");
        assertFalse(upgraded.gtidBinlogPos().contains("-" + upgraded.serverId() + "-"),
                "no errant GTID from the system table upgrade: " + upgraded.gtidBinlogPos());
        assertEquals(1, upgraded.query("SELECT 1 FROM information_schema.columns WHERE table_schema='mysql'"
                + " AND table_name='db' AND column_name='Show_create_routine_priv'").size());
        assertEquals(1, upgraded.query("SELECT 1 FROM information_schema.views WHERE table_schema='sys'"
                + " AND table_name='privileges_by_table_by_level'").size());

        String log11 = Files.readString(upgraded.errorLog()).substring((int) logOffset);
        assertTrue(log11.contains("Starting MariaDB 11.4.5"), log11);
        assertFalse(log11.contains("[ERROR]"), "no error in the 11.4.5 error log on the 10.11 data directory:\n" + log11);

        // statement-logged DDL from the 10.11 master (session collation from Connector/J) applies on the 11.4 replica
        master.execute("CREATE TABLE " + TestBed.DATABASE + ".ddl_from_1011 (a INT PRIMARY KEY)");
        bed.bed().awaitReplication();
        assertEquals(1, upgraded.query("SELECT 1 FROM information_schema.tables WHERE table_schema='" + TestBed.DATABASE
                + "' AND table_name='ddl_from_1011'").size());

        List<String> expected = new ArrayList<>();
        during.acknowledged.forEach(id -> expected.add(id + ":during"));
        after.acknowledged.forEach(id -> expected.add(id + ":after"));
        assertEquals(expected, rows(master), "the master has every acknowledged row");
        assertEquals(expected, rows(upgraded), "the 11.4.5 replica has every acknowledged row of the 10.11 master");
        assertEquals(expected, rows(other));

        // planned switchover to the 11.4 replica
        GroupTopology before = bed.topology();
        NodeAddress to = before.replicas().stream().filter(a -> a.toString().equals(upgraded.address())).findFirst().orElseThrow();
        Switchover.Result r = new Switchover(bed.config(), bed.store(), "test").run("g0", Optional.of(to));
        System.out.println("UPGRADE: switchover to the 11.4.5 replica " + to + ": write pause " + r.writePauseMs() + " ms, after " + r.after());
        assertEquals(to, r.after().master());

        // Newer master -> older replicas: NOT supported by MariaDB. What this test observes with 11.4.5 -> 10.11.19:
        // row events of plain DML arrive and apply; DDL that uses an 11.4-only function stops the SQL thread.
        Writer onNew = new Writer(upgraded, "on114", 200_000);
        onNew.writeSome(50);
        assertEquals(List.of(), onNew.errors, "writes on the 11.4.5 master");
        List<String> want = new ArrayList<>(expected);
        onNew.acknowledged.forEach(id -> want.add(id + ":on114"));
        String pos = upgraded.gtidBinlogPos();
        for (MariaDbNode old : List.of(master, other)) {
            old.awaitApplied(pos, Duration.ofSeconds(20)); // throws with the replica's state if it did not
            Map<String, String> s = old.query("SHOW SLAVE STATUS").get(0);
            System.out.println("UPGRADE: 10.11 node " + old.name() + " (" + version(old) + ") as replica of the 11.4.5 master applied "
                    + pos + "; IO=" + s.get("Slave_IO_Running") + " SQL=" + s.get("Slave_SQL_Running"));
            assertEquals(want, rows(old), old.name() + ": the rows written on the 11.4.5 master arrived row by row");
        }
        // DDL is logged as a statement with the session's character set ids. Connector/J 9.5 asks for collation 255
        // (utf8mb4_0900_ai_ci), which 11.4.5 knows (an alias) and 10.11 does not: every such DDL stops 10.11 replicas.
        String ddl = "CREATE TABLE " + TestBed.DATABASE + ".by_connector_j (a INT PRIMARY KEY)";
        upgraded.execute(ddl);
        String error = awaitSqlThreadStops(List.of(master, other), "by_connector_j");
        assertTrue(error.contains("#255"), error);
        skipTo(List.of(master, other), upgraded.gtidBinlogPos());

        // the same DDL from a session with a collation 10.11 knows replicates
        try (Connection c = generalCi(upgraded); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE " + TestBed.DATABASE + ".general_ci (a INT PRIMARY KEY)");
            st.execute("INSERT INTO general_ci VALUES (1)");
        }
        pos = upgraded.gtidBinlogPos();
        for (MariaDbNode old : List.of(master, other)) {
            old.awaitApplied(pos, Duration.ofSeconds(20));
            assertEquals(1, old.query("SELECT a FROM " + TestBed.DATABASE + ".general_ci").size(), old.name());
        }

        // KDF() exists from 11.3: a table whose generated column calls it is created on 11.4 and cannot be on 10.11
        try (Connection c = generalCi(upgraded); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE only114 (a VARCHAR(10), k VARBINARY(64) AS (KDF(a, 'salt', 'info', 'hkdf', 256)) VIRTUAL)");
        }
        error = awaitSqlThreadStops(List.of(master, other), "only114");
        assertFalse(error.contains("#255"), error);
    }

    static Connection generalCi(MariaDbNode n) throws SQLException {
        return DriverManager.getConnection(n.jdbcUrl(TestBed.DATABASE) + "&connectionCollation=utf8mb4_general_ci",
                TestBed.APP_USER, TestBed.APP_PASSWORD);
    }

    /** Waits until each node's SQL thread has stopped on an event naming {@code table}; returns the last error seen. */
    static String awaitSqlThreadStops(List<MariaDbNode> nodes, String table) throws InterruptedException {
        String error = "";
        for (MariaDbNode old : nodes) {
            FailoverBed.await(old.name() + " SQL thread stops on " + table, Duration.ofSeconds(20),
                    () -> "No".equals(old.query("SHOW SLAVE STATUS").get(0).get("Slave_SQL_Running")));
            Map<String, String> s = old.query("SHOW SLAVE STATUS").get(0);
            System.out.println("UPGRADE: 10.11 node " + old.name() + " on " + table + ": IO=" + s.get("Slave_IO_Running")
                    + " SQL=" + s.get("Slave_SQL_Running") + " Last_SQL_Errno=" + s.get("Last_SQL_Errno")
                    + " Last_SQL_Error=" + s.get("Last_SQL_Error"));
            assertFalse("0".equals(s.get("Last_SQL_Errno")), s.toString());
            assertTrue(s.get("Last_SQL_Error").contains(table), s.get("Last_SQL_Error"));
            error = s.get("Last_SQL_Error");
        }
        return error;
    }

    /** Skips the event a 10.11 replica cannot apply: its slave position is moved to {@code pos} (nothing else pending). */
    static void skipTo(List<MariaDbNode> nodes, String pos) {
        for (MariaDbNode old : nodes) {
            old.execute("STOP SLAVE", "SET GLOBAL gtid_slave_pos = '" + pos + "'", "START SLAVE");
        }
    }

    static String version(MariaDbNode n) {
        return n.query("SELECT VERSION() AS v").get(0).get("v");
    }

    static List<String> rows(MariaDbNode n) {
        return n.query("SELECT id, phase FROM " + TestBed.DATABASE + ".up ORDER BY id").stream()
                .map(r -> r.get("id") + ":" + r.get("phase")).collect(Collectors.toList());
    }

    /** Inserts rows one by one with autocommit; an id counts as acknowledged when its commit returned. */
    static final class Writer implements Runnable {
        final MariaDbNode node;
        final String phase;
        final AtomicBoolean stop = new AtomicBoolean();
        final ConcurrentSkipListSet<Integer> acknowledged = new ConcurrentSkipListSet<>();
        final List<String> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        int next;

        Writer(MariaDbNode node, String phase, int first) {
            this.node = node;
            this.phase = phase;
            this.next = first;
        }

        @Override
        public void run() {
            while (!stop.get()) {
                writeSome(1);
                Janitor.sleep(5);
            }
        }

        void writeSome(int n) {
            try (Connection c = node.connect(TestBed.DATABASE, TestBed.APP_USER, TestBed.APP_PASSWORD);
                 PreparedStatement ps = c.prepareStatement("INSERT INTO up (id, phase) VALUES (?, ?)")) {
                for (int i = 0; i < n; i++) {
                    int id = next++;
                    ps.setInt(1, id);
                    ps.setString(2, phase);
                    ps.executeUpdate();
                    acknowledged.add(id);
                }
            } catch (SQLException e) {
                errors.add(e.toString());
            }
        }
    }

    static final class Janitor {
        static void sleep(long ms) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
