package dev.ballast.it.failover;

import dev.ballast.failover.Monitor;
import dev.ballast.failover.Rejoin;
import dev.ballast.failover.Switchover;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.NodeState;
import dev.ballast.jdbc.BallastDataSource;
import dev.ballast.replication.GroupTopology;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The failover chaos suite (failover issue, scenarios 1, 2, 4, 5, 6 and 7; scenario 3 is {@link MonitorLeaderKillTest}):
 * real MariaDB servers in semi-sync GTID replication, a real ZooKeeper, the monitor, and writers going through
 * {@link BallastDataSource}. Each scenario is bounded by its {@link Timeout} and by the write load's own limit.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class FailoverChaosTest {

    static final String TABLES = """
            tables:
              t_ack:
                group: g0
            """;

    FailoverBed bed;
    BallastDataSource ds;
    WriteLoad load;

    void start(int replicas) throws Exception {
        bed = FailoverBed.start("chaos", replicas, TABLES);
        ds = new BallastDataSource(bed.config());
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute(WriteLoad.CREATE_TABLE);
        }
        bed.bed().awaitReplication();
    }

    @AfterEach
    void stop() throws Exception {
        if (load != null) {
            load.stop();
        }
        if (ds != null) {
            ds.close();
        }
        if (bed != null) {
            bed.close();
        }
    }

    /** Scenario 1: kill -9 the master under 4 writers, 10 rounds; every acknowledged insert is on the new master. */
    @Test
    @Timeout(value = 420, unit = TimeUnit.SECONDS)
    void killedMasterIsReplacedWithinSecondsAndNoAcknowledgedWriteIsLost() throws Exception {
        start(2);
        bed.startMonitor("m1", "  antiFlapWindowMs: 0");
        load = WriteLoad.start(ds, 4, 360);
        List<Long> millis = new ArrayList<>();
        for (int round = 1; round <= 10; round++) {
            FailoverBed.await("writes before round " + round, Duration.ofSeconds(30),
                    () -> load.successesAfter(System.nanoTime() - 500_000_000L) > 10);
            GroupTopology before = bed.topology();
            MariaDbNode master = bed.node(before.master());
            long killedAt = System.nanoTime();
            master.crash();
            // Inserts sent before the process was seen dead may still have been acknowledged by it: count from its death,
            // time from the signal.
            long deadAt = System.nanoTime();
            FailoverBed.await("a write after the kill in round " + round, Duration.ofSeconds(20),
                    () -> load.firstSuccessAfter(deadAt) > 0);
            long ms = (load.firstSuccessAfter(deadAt) - killedAt) / 1_000_000L;
            millis.add(ms);
            GroupTopology after = bed.topology();
            assertEquals(before.epoch() + 1, after.epoch(), "one promotion per round");
            System.out.printf("failover round %d: %s -> %s, kill to first acknowledged write %d ms (%d inserts sent between "
                    + "the signal and the death acknowledged by the old master)%n", round, before.master(), after.master(), ms,
                    load.ackedSentBetween(killedAt, deadAt));
            // The old master comes back as a replica of the new one (crash recovery drops what no replica acknowledged).
            master.restartAsReplicaOf(bed.node(after.master()));
            new Rejoin(bed.config(), bed.store(), "test").run("g0", dev.ballast.rules.NodeAddress.parse(master.address()));
        }
        load.stop();
        assertAllAcknowledgedOnMaster();
        List<Long> sorted = new ArrayList<>(millis);
        Collections.sort(sorted);
        long p50 = sorted.get(sorted.size() / 2 - 1 + sorted.size() % 2);
        long max = sorted.get(sorted.size() - 1);
        java.util.Map<String, Long> byState = new java.util.TreeMap<>();
        load.failures().forEach(f -> byState.merge(f.error().getSQLState() + " " + f.error().getClass().getSimpleName(), 1L, Long::sum));
        System.out.printf("FAILOVER kill->first write over %d rounds: p50 %d ms, max %d ms, all %s; acknowledged %d, "
                + "failed statements %d %s%n", sorted.size(), p50, max, millis, load.acked().size(), load.failures().size(), byState);
        assertTrue(p50 <= 3_000, "p50 kill -> first write " + p50 + " ms > 3 s: " + millis);
        assertTrue(max <= 5_000, "max kill -> first write " + max + " ms > 5 s: " + millis);
    }

    /**
     * One replica: promoted, it has no replica to acknowledge its commits, so it must not be a semi-sync master (each
     * commit would wait rpl_semi_sync_master_timeout, 10 s by default, before the server gives up on semi-sync). Once the
     * old master rejoins as its replica, semi-sync is on again and acknowledges commits.
     */
    @Test
    void aMasterLeftWithoutReplicasCommitsAtOnceAndRejoinTurnsSemiSyncBackOn() throws Exception {
        start(1);
        bed.startMonitor("m1", "  antiFlapWindowMs: 0");
        GroupTopology before = bed.topology();
        MariaDbNode master = bed.node(before.master());
        master.crash();
        FailoverBed.await("a new epoch", Duration.ofSeconds(30), () -> bed.topology().epoch() > before.epoch());
        MariaDbNode promoted = bed.node(bed.topology().master());
        assertEquals("0", promoted.query("SELECT @@rpl_semi_sync_master_enabled AS v").get(0).get("v"),
                "semi-sync master on a master no replica follows");
        long t0 = System.nanoTime();
        promoted.execute("INSERT INTO " + bed.bed().database() + ".t_ack (id, writer) VALUES (-1, 0)");
        long commitMs = (System.nanoTime() - t0) / 1_000_000L;
        assertTrue(commitMs < MariaDbNode.SEMI_SYNC_MASTER_TIMEOUT_MS, "a commit on the promoted master took " + commitMs
                + " ms: it waited for a semi-sync acknowledgement");
        FailoverBed.await("the failover's audit record says semi-sync is off", Duration.ofSeconds(10), () ->
                bed.store().recoveries().stream().anyMatch(r -> r[1].contains("\"kind\":\"failover\"")
                        && r[1].contains("\"state\":\"done\"") && r[1].contains("\"semiSync\":\"off")));

        master.restartAsReplicaOf(promoted);
        new Rejoin(bed.config(), bed.store(), "test").run("g0", dev.ballast.rules.NodeAddress.parse(master.address()));
        assertEquals("1", promoted.query("SELECT @@rpl_semi_sync_master_enabled AS v").get(0).get("v"),
                "semi-sync master after the rejoin");
        FailoverBed.await("the rejoined replica acknowledges as semi-sync", Duration.ofSeconds(20), () ->
                "1".equals(promoted.query("SHOW STATUS LIKE 'Rpl_semi_sync_master_clients'").get(0).get("Value")));
        long yes = Long.parseLong(promoted.query("SHOW STATUS LIKE 'Rpl_semi_sync_master_yes_tx'").get(0).get("Value"));
        promoted.execute("INSERT INTO " + bed.bed().database() + ".t_ack (id, writer) VALUES (-2, 0)");
        assertEquals(yes + 1, Long.parseLong(promoted.query("SHOW STATUS LIKE 'Rpl_semi_sync_master_yes_tx'").get(0).get("Value")),
                "the commit after the rejoin was acknowledged by the replica");
    }

    /** Scenario 2: SIGSTOP the master; it is replaced, and once it resumes no write lands on it. */
    @Test
    void hungMasterIsReplacedAndGetsNoWriteWhenItResumes() throws Exception {
        start(2);
        bed.startMonitor("m1", "  antiFlapWindowMs: 0");
        load = WriteLoad.start(ds, 4, 120);
        FailoverBed.await("writes", Duration.ofSeconds(30), () -> load.acked().size() > 50);
        GroupTopology before = bed.topology();
        MariaDbNode master = bed.node(before.master());
        long hungAt = System.nanoTime();
        master.hang();
        FailoverBed.await("a new epoch", Duration.ofSeconds(30), () -> bed.topology().epoch() > before.epoch());
        long promotedAt = System.nanoTime();
        FailoverBed.await("a write on the new master", Duration.ofSeconds(15), () -> load.successesAfter(promotedAt) > 0);
        long detectedMs = (System.nanoTime() - hungAt) / 1_000_000L;
        master.resume();
        long resumedAt = System.nanoTime();
        FailoverBed.await("the resumed master fenced", Duration.ofSeconds(10), () -> master.state().readOnly());
        long deposedMs = (System.nanoTime() - resumedAt) / 1_000_000L;
        String fenced = master.gtidBinlogPos();
        long writesBefore = load.acked().size();
        FailoverBed.await("more writes", Duration.ofSeconds(15), () -> load.acked().size() > writesBefore + 100);
        load.stop();
        assertEquals(fenced, master.gtidBinlogPos(), "nothing was written to the resumed old master");
        assertAllAcknowledgedOnMaster();
        System.out.printf("HUNG master: replaced and writing again %d ms after SIGSTOP (slave_net_timeout %d s); deposed "
                + "(read_only seen) %d ms after it resumed%n", detectedMs, MariaDbNode.SLAVE_NET_TIMEOUT_SECONDS, deposedMs);
    }

    /** Scenario 4: ZooKeeper down: reads and writes go on with the last topology; a dead master is not replaced. */
    @Test
    void withoutZooKeeperTheDataPlaneServesAndNoMonitorPromotes() throws Exception {
        start(2);
        Monitor m1 = bed.startMonitor("m1", "  antiFlapWindowMs: 0");
        FailoverBed.await("the monitor leads", Duration.ofSeconds(15), m1::acting);
        GroupTopology before = bed.topology();
        bed.zookeeper().stop();
        load = WriteLoad.start(ds, 2, 60);
        Thread.sleep(3_000);
        int reads = 0;
        for (int i = 0; i < 50; i++) {
            try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM t_ack")) {
                assertTrue(rs.next());
                reads++;
            }
        }
        load.stop();
        assertEquals(50, reads);
        assertTrue(load.acked().size() > 50, "writes went on without ZooKeeper: " + load.acked().size());
        assertEquals(List.of(), load.failures(), "no client error while ZooKeeper is down");
        MariaDbNode master = bed.node(before.master());
        master.crash();
        Thread.sleep(6_000);
        for (String replica : before.replicas().stream().map(Object::toString).toList()) {
            NodeState s = bed.node(replica).state();
            assertTrue(s.readOnly(), replica + " was promoted while ZooKeeper was down");
        }
        // ZooKeeper back: the monitor acts again.
        bed.zookeeper().restart();
        FailoverBed.await("a failover once ZooKeeper is back", Duration.ofSeconds(40), () -> {
            try {
                return bed.topology().epoch() == before.epoch() + 1;
            } catch (RuntimeException e) {
                return false;
            }
        });
    }

    /** Scenario 5: one of two monitors cannot reach the master (its login is refused there): no failover. */
    @Test
    void masterUnreachableFromOneMonitorOnlyIsNotFailedOver() throws Exception {
        start(2);
        GroupTopology before = bed.topology();
        MariaDbNode master = bed.node(before.master());
        // A second admin user for monitor m2, locked on the master only (not binlogged): m2's probes of it fail.
        master.execute("CREATE USER 'admin2'@'127.0.0.1' IDENTIFIED BY 'admin2_pw'",
                "GRANT ALL PRIVILEGES ON *.* TO 'admin2'@'127.0.0.1'");
        bed.bed().awaitReplication();
        master.execute("SET sql_log_bin = 0", "ALTER USER 'admin2'@'127.0.0.1' ACCOUNT LOCK");
        Monitor m1 = bed.startMonitor("m1", "  antiFlapWindowMs: 0");
        Monitor m2 = new Monitor(dev.ballast.rules.ClusterConfigLoader.parse(bed.yaml("  antiFlapWindowMs: 0").text()
                .replace("user: ballast_admin\n    password: admin_pw", "user: admin2\n    password: admin2_pw"), System::getenv),
                "m2", null).start();
        try {
            FailoverBed.await("m2 sees the master unreachable", Duration.ofSeconds(10), () -> {
                var p = m2.latest().get(before.master());
                return p != null && !p.reachable();
            });
            Thread.sleep(5_000);
            assertEquals(before.epoch(), bed.topology().epoch(), "no failover while m1 reaches the master");
            // m1 gone: m2 alone cannot reach the master, but the replicas still replicate from it: still no failover.
            m1.close();
            Thread.sleep(6_000);
            assertEquals(before.epoch(), bed.topology().epoch(), "no failover while the replicas still see the master");
            assertFalse(master.state().readOnly(), "the master was not fenced");
            assertEquals(0, m1.recoveries() + m2.recoveries());
        } finally {
            m2.close();
        }
    }

    /** Scenario 6: the old master restarted from its config (writable): fenced before any client write reaches it. */
    @Test
    void oldMasterRestartedWritableIsFencedAndGetsNoClientWrite() throws Exception {
        start(2);
        bed.startMonitor("m1", "  antiFlapWindowMs: 0");
        load = WriteLoad.start(ds, 4, 120);
        FailoverBed.await("writes", Duration.ofSeconds(30), () -> load.acked().size() > 50);
        GroupTopology before = bed.topology();
        MariaDbNode old = bed.node(before.master());
        old.crash();
        FailoverBed.await("a new epoch", Duration.ofSeconds(15), () -> bed.topology().epoch() > before.epoch());
        old.restart(); // the unsafe restart: writable, semi-sync master on
        String atRestart = old.gtidBinlogPos();
        FailoverBed.await("the old master fenced", Duration.ofSeconds(10), () -> old.state().readOnly());
        long writes = load.acked().size();
        FailoverBed.await("more writes", Duration.ofSeconds(15), () -> load.acked().size() > writes + 100);
        load.stop();
        assertEquals(atRestart, old.gtidBinlogPos(), "no write reached the restarted old master");
        assertAllAcknowledgedOnMaster();
    }

    /** Scenario 7: a planned switchover under write load: no client error, writes paused at most 1 s. */
    @Test
    void switchoverUnderWriteLoadCausesNoClientError() throws Exception {
        start(2);
        bed.startMonitor("m1", "  antiFlapWindowMs: 0");
        load = WriteLoad.start(ds, 4, 120);
        FailoverBed.await("writes", Duration.ofSeconds(30), () -> load.acked().size() > 200);
        List<Long> pauses = new ArrayList<>();
        for (int round = 1; round <= 3; round++) {
            long from = System.nanoTime();
            Thread.sleep(500);
            Switchover.Result r = new Switchover(bed.config(), bed.store(), "test").run("g0", Optional.empty());
            Thread.sleep(1_000);
            long to = System.nanoTime();
            long pause = load.longestPauseMs(from, to);
            pauses.add(pause);
            System.out.printf("SWITCHOVER round %d: %s -> %s in epoch %d, writes held %d ms (monitor-side), longest client "
                    + "pause %d ms%n", round, r.before().master(), r.after().master(), r.after().epoch(), r.writePauseMs(), pause);
            assertEquals(List.of(), load.failuresBetween(from, to), "client errors during switchover " + round);
        }
        load.stop();
        assertEquals(List.of(), load.failures(), "no client error at all");
        assertAllAcknowledgedOnMaster();
        long max = Collections.max(pauses);
        assertTrue(max <= 1_000, "write pause " + max + " ms > 1 s: " + pauses);
    }

    /**
     * A transaction left open on the master: the switchover waits failover.switchoverDrainMs, then gives way (nothing
     * changes, writes go on, the transaction can still commit) instead of failing it or holding writes until it ends.
     */
    @Test
    void switchoverGivesWayToATransactionLeftOpenAndSucceedsOnceItEnded() throws Exception {
        start(2);
        bed.startMonitor("m1", "  antiFlapWindowMs: 0");
        GroupTopology before = bed.topology();
        load = WriteLoad.start(ds, 2, 60);
        FailoverBed.await("writes", Duration.ofSeconds(30), () -> load.acked().size() > 50);
        try (Connection open = bed.master().connect(bed.bed().database())) {
            open.setAutoCommit(false);
            try (Statement st = open.createStatement()) {
                st.executeUpdate("INSERT INTO t_ack (id, writer) VALUES (42, 42)");
            }
            long from = System.nanoTime();
            Switchover.TransactionsOpenException gaveWay = org.junit.jupiter.api.Assertions.assertThrows(
                    Switchover.TransactionsOpenException.class,
                    () -> new Switchover(bed.config(), bed.store(), "test").run("g0", Optional.empty()));
            System.out.println("SWITCHOVER gave way: " + gaveWay.getMessage());
            assertTrue(gaveWay.getMessage().contains("1 transaction(s) of app still open"), gaveWay.getMessage());
            assertTrue(gaveWay.heldMs() < 1_000, "writes held " + gaveWay.heldMs() + " ms");
            assertEquals(before, bed.topology(), "nothing changed");
            assertFalse(bed.master().state().readOnly(), "the master is still writable");
            long writes = load.acked().size();
            FailoverBed.await("writes go on", Duration.ofSeconds(10), () -> load.acked().size() > writes + 20);
            assertEquals(List.of(), load.failuresBetween(from, System.nanoTime()), "no client error");
            open.commit(); // the transaction it gave way to is whole
        }
        Switchover.Result r = new Switchover(bed.config(), bed.store(), "test").run("g0", Optional.empty());
        assertEquals(before.epoch() + 1, r.after().epoch());
        load.stop();
        assertEquals(List.of(), load.failures(), "no client error at all");
        assertAllAcknowledgedOnMaster();
        assertEquals("1", bed.node(r.after().master()).query("SELECT COUNT(*) AS c FROM " + bed.bed().database()
                + ".t_ack WHERE id = 42").get(0).get("c"), "the committed transaction replicated to the new master");
    }

    /** Anti-flapping: a second dead master within the window is left alone until the last failover is acknowledged. */
    @Test
    void secondFailoverWithinTheWindowWaitsForAnAcknowledgement() throws Exception {
        start(2);
        bed.startMonitor("m1", "  antiFlapWindowMs: 600000");
        GroupTopology first = bed.topology();
        bed.node(first.master()).crash();
        FailoverBed.await("the first failover", Duration.ofSeconds(15), () -> bed.topology().epoch() == first.epoch() + 1);
        GroupTopology second = bed.topology();
        bed.node(second.master()).crash();
        Thread.sleep(4_000);
        assertEquals(second, bed.topology(), "no second failover inside the anti-flap window");
        assertTrue(bed.node(second.replicas().get(0)).state().readOnly());
        String said = dev.ballast.cli.AckCommand.acknowledge(bed.store(), "g0");
        assertTrue(said.startsWith("acknowledged"), said);
        FailoverBed.await("the second failover once acknowledged", Duration.ofSeconds(15),
                () -> bed.topology().epoch() == second.epoch() + 1);
        assertEquals(second.replicas().get(0), bed.topology().master());
    }

    /** A COMMIT in flight when the master dies reports "outcome unknown" (08007), not a plain failure. */
    @Test
    void commitCutOffByAMasterCrashReportsOutcomeUnknown() throws Exception {
        start(1);
        MariaDbNode master = bed.node(bed.topology().master());
        MariaDbNode replica = bed.node(bed.topology().replicas().get(0));
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO t_ack VALUES (42, 0)");
            }
            replica.hang(); // the commit now waits for the semi-sync acknowledgement
            java.util.concurrent.CompletableFuture<SQLException> commit = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    c.commit();
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            });
            Thread.sleep(500);
            long crashedAt = System.nanoTime();
            master.crash();
            SQLException e = commit.get(20, TimeUnit.SECONDS);
            long ms = (System.nanoTime() - crashedAt) / 1_000_000L;
            assertTrue(ms < 3_000, "the commit failed " + ms + " ms after the crash");
            replica.resume();
            assertTrue(e != null, "the commit cannot have succeeded");
            assertEquals("08007", e.getSQLState(), e.toString());
            assertTrue(e.getMessage().contains("outcome unknown"), e.getMessage());
        }
    }

    private void assertAllAcknowledgedOnMaster() throws SQLException, InterruptedException {
        MariaDbNode master = bed.master();
        Set<Long> lost;
        try (Connection c = master.connect(bed.bed().database())) {
            lost = load.missingOn(c);
        }
        assertEquals(Set.of(), lost, "acknowledged inserts missing on the master " + master.address() + " (of "
                + load.acked().size() + ")");
    }
}
