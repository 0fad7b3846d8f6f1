package dev.ballast.it.maintenance;

import dev.ballast.failover.Monitor;
import dev.ballast.failover.model.Problem;
import dev.ballast.it.ClusterYaml;
import dev.ballast.it.failover.FailoverBed;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.jdbc.BallastDataSource;
import dev.ballast.proxy.ProxyServer;
import dev.ballast.replication.GroupTopology;
import dev.ballast.rules.NodeAddress;
import dev.ballast.topology.Maintenance;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.mariadb.jdbc.MariaDbDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 12, maintenance marks on the real bed (master + 2 replicas of MariaDB, a real ZooKeeper): draining a replica
 * moves a data plane's reads off it within a second while every read succeeds, undraining brings them back; a drained
 * replica killed by PID is no problem for the monitor (no recovery, no topology change), while the same replica dead
 * without its mark is reported.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MaintenanceMarkTest {

    static final String TABLES = "tables:\n  t_kv:\n    group: g0\n";

    FailoverBed bed;
    BallastDataSource ds;

    @AfterEach
    void stop() {
        if (ds != null) {
            ds.close();
        }
        if (bed != null) {
            bed.close();
        }
    }

    /** One read: when it started (nanoTime), which server answered, or the error. */
    record Read(long startedNanos, long serverId, String error) {
    }

    @Test
    void drainingAReplicaMovesReadsOffItWithinASecondWithoutAFailedReadAndUndrainingBringsThemBack() throws Exception {
        bed = FailoverBed.start("drain", 2, TABLES);
        bed.store().bootstrap(bed.config());
        MariaDbNode master = bed.master();
        master.execute("CREATE TABLE " + TestBed.DATABASE + ".t_kv (k INT PRIMARY KEY, v INT NOT NULL)",
                "INSERT INTO " + TestBed.DATABASE + ".t_kv VALUES (1, 0)");
        bed.bed().awaitReplication();
        GroupTopology t = bed.topology();
        NodeAddress drained = t.replicas().get(0);
        long drainedId = bed.node(drained).serverId();
        long otherId = bed.node(t.replicas().get(1)).serverId();

        ds = new BallastDataSource(bed.config());
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ds.bindTo(registry);
        FailoverBed.await("both replicas serve reads", Duration.ofSeconds(20),
                () -> ds.health("g0").replicas().values().stream().filter(r -> r.qualifies(1000)).count() == 2);

        ConcurrentLinkedQueue<Read> reads = new ConcurrentLinkedQueue<>();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> readers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            // every other reader holds its read for 300 ms on the server: reads in flight when the mark is set
            String sql = i % 2 == 0 ? "SELECT @@server_id FROM t_kv WHERE k = 1"
                    : "SELECT @@server_id, SLEEP(0.3) FROM t_kv WHERE k = 1";
            Thread reader = new Thread(() -> {
                try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                    while (running.get()) {
                        long started = System.nanoTime();
                        try (ResultSet rs = s.executeQuery(sql)) {
                            rs.next();
                            reads.add(new Read(started, rs.getLong(1), null));
                        } catch (SQLException e) {
                            reads.add(new Read(started, 0, e.toString()));
                        }
                    }
                } catch (SQLException e) {
                    reads.add(new Read(System.nanoTime(), 0, e.toString()));
                }
            }, "reader-" + i);
            reader.start();
            readers.add(reader);
        }
        try {
            FailoverBed.await("reads on both replicas", Duration.ofSeconds(10),
                    () -> served(reads, drainedId, Long.MIN_VALUE) > 20 && served(reads, otherId, Long.MIN_VALUE) > 20);

            // ---- drain: no read that starts a second later goes to it
            long drainedAt = System.nanoTime();
            Maintenance mark = bed.store().drain(drained, "test: upgrade", "MaintenanceMarkTest");
            assertEquals(drained, mark.node());
            assertEquals(Map.of(drained, mark), bed.store().drained());
            FailoverBed.await("the data plane sees the mark", Duration.ofSeconds(1),
                    () -> ds.router().topology().drained().contains(drained));
            Thread.sleep(2_000);
            long lastOnDrained = reads.stream().filter(r -> r.serverId() == drainedId && r.startedNanos() >= drainedAt)
                    .mapToLong(Read::startedNanos).max().orElse(drainedAt);
            long movedOffMs = (lastOnDrained - drainedAt) / 1_000_000;
            System.out.println("reads moved off the drained replica " + movedOffMs + " ms after the mark was set");
            assertTrue(movedOffMs < 1_000, "a read started on the drained replica " + movedOffMs + " ms after the mark");
            assertTrue(served(reads, otherId, drainedAt + 1_000_000_000L) > 20, "the other replica serves the reads");
            Counter ejected = registry.find("ballast.replica.ejections").tag("reason", "drained").counter();
            assertTrue(ejected != null && ejected.count() == 1, "one ejection of reason 'drained': " + ejected);

            // ---- undrain: it serves again
            long undrainedAt = System.nanoTime();
            assertTrue(bed.store().undrain(drained));
            assertFalse(bed.store().undrain(drained), "a second undrain finds no mark");
            FailoverBed.await("reads back on the undrained replica", Duration.ofSeconds(2),
                    () -> served(reads, drainedId, undrainedAt) > 0);
            long firstBack = reads.stream().filter(r -> r.serverId() == drainedId && r.startedNanos() >= undrainedAt)
                    .mapToLong(Read::startedNanos).min().orElseThrow();
            System.out.println("reads back on the undrained replica " + (firstBack - undrainedAt) / 1_000_000 + " ms after "
                    + "the mark was removed");

            // ---- every replica drained: reads follow readPolicy.fallback (master, the default), still without an error
            long allDrainedAt = System.nanoTime();
            bed.store().drain(t.replicas().get(0), "test", "MaintenanceMarkTest");
            bed.store().drain(t.replicas().get(1), "test", "MaintenanceMarkTest");
            long masterId = master.serverId();
            FailoverBed.await("reads on the master", Duration.ofSeconds(2), () -> served(reads, masterId, allDrainedAt) > 20);
            Thread.sleep(1_000);
            long afterASecond = System.nanoTime() - 500_000_000L;
            assertEquals(0, served(reads, drainedId, afterASecond) + served(reads, otherId, afterASecond),
                    "no replica serves while both are drained");
            bed.store().undrain(t.replicas().get(0));
            bed.store().undrain(t.replicas().get(1));
        } finally {
            running.set(false);
            for (Thread r : readers) {
                r.join(5_000);
            }
        }
        List<Read> failed = reads.stream().filter(r -> r.error() != null).toList();
        System.out.println(reads.size() + " reads, " + failed.size() + " failed");
        assertEquals(List.of(), failed, "every read succeeds while a replica is drained and undrained");
    }

    @Test
    void aDrainedReplicaKilledByPidIsNoProblemForTheMonitorButTheSameDeathWithoutTheMarkIs() throws Exception {
        bed = FailoverBed.start("drainkill", 2, "");
        Monitor monitor = bed.startMonitor("m1");
        FailoverBed.await("the monitor leads", Duration.ofSeconds(15), monitor::acting);
        GroupTopology before = bed.topology();
        NodeAddress drained = before.replicas().get(0);

        // the probe records the server's version (issue 12), the same the server reports
        String version = bed.master().query("SELECT VERSION() AS v").get(0).get("v");
        FailoverBed.await("a probe of the master", Duration.ofSeconds(10), () -> monitor.latest().containsKey(before.master()));
        assertEquals(version, monitor.latest().get(before.master()).version());
        assertTrue(monitor.latest().get(before.master()).serverVersion().isPresent(), version);

        bed.store().drain(drained, "test: stopped for an upgrade", "MaintenanceMarkTest");
        bed.node(drained).crash(); // kill -9 by PID
        FailoverBed.await("the monitor sees it down", Duration.ofSeconds(10),
                () -> monitor.latest().containsKey(drained) && !monitor.latest().get(drained).reachable());
        Thread.sleep(3_000); // several probe rounds
        List<Problem> problems = monitor.problems("g0");
        assertTrue(problems.stream().noneMatch(p -> p.node().equals(drained)), "no problem for the drained replica: " + problems);
        assertEquals(0, monitor.recoveries());
        assertEquals(List.of(), bed.store().recoveries(), "nothing recorded in the audit log");
        assertEquals(before, bed.topology(), "the topology is unchanged");

        // the control: without its mark, the same dead replica is a problem the monitor reports
        bed.store().undrain(drained);
        FailoverBed.await("DEAD_REPLICA reported once the mark is gone", Duration.ofSeconds(10),
                () -> monitor.problems("g0").stream().anyMatch(p -> p.node().equals(drained)
                        && p.kind() == Problem.Kind.DEAD_REPLICA));
        assertEquals(before, bed.topology(), "a dead replica is reported, not failed over");
    }

    @Test
    void theProxySendsADrainedReplicaNoReadsAndUsesItAgainOnceUndrained() throws Exception {
        bed = FailoverBed.start("drainproxy", 2, TABLES + ClusterYaml.proxySection("app", "pw", false));
        bed.store().bootstrap(bed.config());
        bed.master().execute("CREATE TABLE " + TestBed.DATABASE + ".t_kv (k INT PRIMARY KEY, v INT NOT NULL)",
                "INSERT INTO " + TestBed.DATABASE + ".t_kv VALUES (1, 0)");
        bed.bed().awaitReplication();
        GroupTopology t = bed.topology();
        NodeAddress drained = t.replicas().get(0);
        long drainedId = bed.node(drained).serverId();
        try (ProxyServer proxy = new ProxyServer(bed.config()).start();
             Connection c = new MariaDbDataSource("jdbc:mariadb://127.0.0.1:" + proxy.port() + "/" + bed.bed().database()
                     + "?user=app&password=pw").getConnection();
             Statement s = c.createStatement()) {
            FailoverBed.await("proxied reads on the replica", Duration.ofSeconds(20), () -> readServers(s, 20).contains(drainedId));
            bed.store().drain(drained, "test", "MaintenanceMarkTest");
            Thread.sleep(1_000);
            List<Long> whileDrained = readServers(s, 200);
            assertFalse(whileDrained.contains(drainedId), "no proxied read on the drained replica: " + whileDrained);
            assertEquals(200, whileDrained.size(), "every proxied read answered");
            bed.store().undrain(drained);
            FailoverBed.await("proxied reads back on the replica", Duration.ofSeconds(2), () -> readServers(s, 20).contains(drainedId));
        }
    }

    /** The server ids that answered {@code n} reads on {@code s} (empty on an error, to retry). */
    static List<Long> readServers(Statement s, int n) {
        List<Long> ids = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                try (ResultSet rs = s.executeQuery("SELECT @@server_id FROM t_kv WHERE k = 1")) {
                    rs.next();
                    ids.add(rs.getLong(1));
                }
            }
        } catch (SQLException e) {
            throw new AssertionError("a read through the proxy failed: " + e, e);
        }
        return ids;
    }

    static long served(ConcurrentLinkedQueue<Read> reads, long serverId, long sinceNanos) {
        return reads.stream().filter(r -> r.serverId() == serverId && r.startedNanos() >= sinceNanos).count();
    }
}
