package dev.ballast.it.failover;

import dev.ballast.failover.Monitor;
import dev.ballast.failover.Rejoin;
import dev.ballast.replication.NodeProbe;
import dev.ballast.replication.ReplicaThreads;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.TestBedUsers;
import dev.ballast.jdbc.BallastDataSource;
import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hung master is told from a live one by its replicas' heartbeats (issue 11, item 8): real MariaDB servers in semi-sync
 * GTID replication with {@code MASTER_HEARTBEAT_PERIOD} {@value MariaDbNode#HEARTBEAT_PERIOD_MS} ms, a real ZooKeeper,
 * the monitor with its default settings (probe every 500 ms, timeout 1000 ms, heartbeat 500 ms, dead after 3 silent
 * periods), writers through {@link BallastDataSource}. A stopped master is always killed by PID before the round ends.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class HungMasterTest {

    static final String TABLES = """
            tables:
              t_ack:
                group: g0
            """;
    static final int ROUNDS = 5;

    FailoverBed bed;
    BallastDataSource ds;
    WriteLoad load;

    void start() throws Exception {
        bed = FailoverBed.start("hung", 2, TABLES);
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
            bed.close();   // kills every server by PID, a stopped one included
        }
    }

    /**
     * SIGSTOP of the master under 4 writers, {@value #ROUNDS} rounds: the first write acknowledged by the new master comes
     * p50 within 4 s of the signal (it took slave_net_timeout + ~2 s before heartbeats were used: 10.2 s measured), and
     * while the master hangs its replicas keep being probed at least every probeTimeoutMs.
     */
    @Test
    void sigstoppedMasterIsReplacedWithinFourSecondsAtTheMedian() throws Exception {
        start();
        Monitor m1 = bed.startMonitor("m1", "  antiFlapWindowMs: 0");
        load = WriteLoad.start(ds, 4, 260);
        List<Long> millis = new ArrayList<>();
        List<Long> probeAges = new ArrayList<>();
        for (int round = 1; round <= ROUNDS; round++) {
            FailoverBed.await("writes before round " + round, Duration.ofSeconds(30),
                    () -> load.successesAfter(System.nanoTime() - 500_000_000L) > 10);
            GroupTopology before = bed.topology();
            awaitKnownSilence(m1, before);
            MariaDbNode master = bed.node(before.master());
            long pid = master.pid().orElseThrow();
            long signalledAt = System.nanoTime();
            master.hang();   // SIGSTOP to pid, returns once the process is in state T
            long stoppedAt = System.nanoTime();
            long maxAge = 0;
            try {
                // the replicas' probes while the master hangs, before any failover could have begun (1.5 s of silence)
                while (System.nanoTime() - stoppedAt < 1_400_000_000L) {
                    for (NodeAddress r : before.replicas()) {
                        NodeProbe p = m1.latest().get(r);
                        maxAge = Math.max(maxAge, System.currentTimeMillis() - p.probedAtMillis());
                    }
                    Thread.sleep(20);
                }
                FailoverBed.await("a write acknowledged after the SIGSTOP in round " + round, Duration.ofSeconds(25),
                        () -> load.firstSuccessAfter(stoppedAt) > 0);
            } finally {
                master.crash();   // SIGKILL to the same pid: a stopped master never outlives its round
            }
            long ms = (load.firstSuccessAfter(stoppedAt) - signalledAt) / 1_000_000L;
            millis.add(ms);
            probeAges.add(maxAge);
            GroupTopology after = bed.topology();
            assertEquals(before.epoch() + 1, after.epoch(), "one promotion in round " + round);
            System.out.printf("HUNG round %d: %s (pid %d) -> %s, SIGSTOP to first acknowledged write %d ms; oldest replica "
                    + "probe while it hung %d ms%n", round, before.master(), pid, after.master(), ms, maxAge);
            master.restartAsReplicaOf(bed.node(after.master()));
            new Rejoin(bed.config(), bed.store(), "test").run("g0", NodeAddress.parse(master.address()));
        }
        load.stop();
        List<Long> sorted = new ArrayList<>(millis);
        Collections.sort(sorted);
        long p50 = sorted.get(sorted.size() / 2);
        System.out.printf("HUNG master SIGSTOP -> first acknowledged write over %d rounds: p50 %d ms, max %d ms, all %s; "
                + "oldest replica probe while hung %s ms; acknowledged %d, failed statements %d%n", sorted.size(), p50,
                sorted.get(sorted.size() - 1), millis, probeAges, load.acked().size(), load.failures().size());
        assertAllAcknowledgedOnMaster();
        assertTrue(p50 <= 4_000, "p50 SIGSTOP -> first write " + p50 + " ms > 4 s: " + millis);
        // A loop that waited for the hung master's probe (timeout 1000 ms) before the next round's 500 ms would leave
        // the replicas unprobed ~1.5 s in every round; rounds every 500 ms leave them ~0.75 s. One round on a starved
        // machine may take longer (1.36 s seen under a load average of 14), so: the median round within the probe
        // timeout, none beyond timeout + interval.
        List<Long> ages = new ArrayList<>(probeAges);
        Collections.sort(ages);
        assertTrue(ages.get(ages.size() / 2) <= 1_000, "replicas went unprobed longer than probeTimeoutMs (1000 ms) while "
                + "the master hung, in the median round: " + probeAges);
        assertTrue(ages.get(ages.size() - 1) <= 1_500, "a replica went unprobed longer than probeTimeoutMs + probeIntervalMs "
                + "while the master hung: " + probeAges);
    }

    /**
     * The master is alive but refuses new connections ({@code max_connections} reached and held), the monitor's
     * connection to it is cut, and its replicas keep receiving heartbeats: for 8 s (16 probe intervals, more than 5 times
     * the 1.5 s of silence that would make it dead) no recovery is attempted and the epoch stays.
     */
    @Test
    void masterRefusingNewConnectionsIsNotFailedOverWhileItsReplicasReceive() throws Exception {
        start();
        Monitor m1 = bed.startMonitor("m1", "  antiFlapWindowMs: 0");
        FailoverBed.await("the monitor leads", Duration.ofSeconds(15), m1::acting);
        GroupTopology before = bed.topology();
        awaitKnownSilence(m1, before);
        MariaDbNode master = bed.node(before.master());
        List<Connection> held = new ArrayList<>();
        Connection admin = admin(master);
        held.add(admin);
        try {
            exec(admin, "SET GLOBAL max_connections = 10");
            long refusedAt = -1;
            for (int attempt = 1; attempt <= 5 && refusedAt < 0; attempt++) {
                fill(master, held);
                // cut the monitor's kept connection: its next probe must open a new one, and is refused
                for (long id : otherAdminSessions(admin, held)) {
                    try {
                        exec(admin, "KILL " + id);
                    } catch (SQLException gone) {
                        // ended meanwhile
                    }
                }
                fill(master, held);
                long until = System.nanoTime() + 3_000_000_000L;
                while (System.nanoTime() < until) {
                    NodeProbe p = m1.latest().get(before.master());
                    if (p != null && !p.reachable() && p.error().contains("Too many connections")) {
                        refusedAt = System.nanoTime();
                        break;
                    }
                    Thread.sleep(20);
                }
            }
            assertTrue(refusedAt > 0, "the monitor never saw the master refuse it: " + m1.latest().get(before.master()));

            int samples = 0;
            int refusedSamples = 0;
            long maxSilence = 0;
            long end = System.nanoTime() + 8_000_000_000L;
            while (System.nanoTime() < end) {
                NodeProbe p = m1.latest().get(before.master());
                samples++;
                if (!p.reachable()) {
                    refusedSamples++;
                }
                for (NodeAddress r : before.replicas()) {
                    ReplicaThreads t = m1.latest().get(r).replication().orElseThrow();
                    maxSilence = Math.max(maxSilence, t.silentMs());
                }
                assertEquals(before.epoch(), bed.topology().epoch(), "failed over a master that only refuses connections");
                Thread.sleep(100);
            }
            System.out.printf("REFUSING master: %d of %d samples unreachable to the monitor over 8 s, replicas' longest "
                    + "silence %d ms, recoveries %d%n", refusedSamples, samples, maxSilence, m1.recoveries());
            assertTrue(refusedSamples >= samples * 9 / 10, "the master was reachable to the monitor in "
                    + (samples - refusedSamples) + " of " + samples + " samples: the scenario did not hold");
            assertTrue(maxSilence < 1_500, "a replica was silent " + maxSilence + " ms although the master was alive");
            assertEquals(0, m1.recoveries());
            assertEquals(List.of(), bed.store().recoveries().stream().map(r -> r[1]).toList(), "no recovery record");
            try (Statement s = admin.createStatement(); ResultSet rs = s.executeQuery("SELECT @@read_only")) {
                rs.next();
                assertFalse(rs.getBoolean(1), "the master was fenced");
            }
        } finally {
            try {
                exec(admin, "SET GLOBAL max_connections = 200");
            } finally {
                for (Connection c : held) {
                    c.close();
                }
            }
        }
        FailoverBed.await("the monitor reaches the master again", Duration.ofSeconds(10),
                () -> m1.latest().get(before.master()).reachable());
        assertEquals(before.epoch(), bed.topology().epoch());
    }

    /** Waits until the monitor has probed each replica twice, so that their silence is known. */
    private static void awaitKnownSilence(Monitor m, GroupTopology t) throws InterruptedException {
        FailoverBed.await("the replicas' silence known to the monitor", Duration.ofSeconds(10), () -> t.replicas().stream()
                .allMatch(r -> {
                    NodeProbe p = m.latest().get(r);
                    return p != null && p.replication().map(x -> x.silentMs() >= 0 && x.heartbeatPeriodMs()
                            == MariaDbNode.HEARTBEAT_PERIOD_MS).orElse(false);
                }));
    }

    private static Connection admin(MariaDbNode node) throws SQLException {
        return DriverManager.getConnection(node.jdbcUrl(""), TestBedUsers.ADMIN_USER, TestBedUsers.ADMIN_PASSWORD);
    }

    /** Opens connections (app first, then admin for the extra one MariaDB keeps for them) until the server refuses. */
    private static void fill(MariaDbNode node, List<Connection> held) throws SQLException {
        for (String[] user : List.of(new String[]{TestBedUsers.APP_USER, TestBedUsers.APP_PASSWORD},
                new String[]{TestBedUsers.ADMIN_USER, TestBedUsers.ADMIN_PASSWORD})) {
            for (int i = 0; i < 50; i++) {
                try {
                    held.add(DriverManager.getConnection(node.jdbcUrl(""), user[0], user[1]));
                } catch (SQLException e) {
                    if (e.getErrorCode() != 1040) {
                        throw e;
                    }
                    break;
                }
            }
        }
    }

    private static Set<Long> otherAdminSessions(Connection admin, List<Connection> held) throws SQLException {
        Set<Long> ours = new HashSet<>();
        for (Connection c : held) {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT CONNECTION_ID()")) {
                rs.next();
                ours.add(rs.getLong(1));
            }
        }
        Set<Long> others = new HashSet<>();
        try (Statement s = admin.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '" + TestBedUsers.ADMIN_USER + "'")) {
            while (rs.next()) {
                if (!ours.contains(rs.getLong(1))) {
                    others.add(rs.getLong(1));
                }
            }
        }
        return others;
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private void assertAllAcknowledgedOnMaster() throws SQLException {
        MariaDbNode master = bed.master();
        Set<Long> lost;
        try (Connection c = master.connect(bed.bed().database())) {
            lost = load.missingOn(c);
        }
        assertEquals(Set.of(), lost, "acknowledged inserts missing on the master " + master.address());
    }
}
