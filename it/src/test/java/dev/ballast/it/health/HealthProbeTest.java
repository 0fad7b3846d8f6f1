package dev.ballast.it.health;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.ReplicaGroupBed;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.it.testbed.TestBedUsers;
import dev.ballast.jdbc.health.GroupHealth;
import dev.ballast.jdbc.health.HealthProbe;
import dev.ballast.replication.Position;
import dev.ballast.jdbc.health.ReplicaStatus;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import dev.ballast.rules.Flavour;
import dev.ballast.rules.NodeAddress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The health probe against one real group (master + 2 replicas), shared by the tests: each test puts back what it
 * broke and waits for replication to catch up.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HealthProbeTest {

    static final long INTERVAL_MS = 200;
    static final long MAX_LAG_MS = 1000;
    static final String POLICY = """
            pool:
              connectTimeoutMs: 2000
            readPolicy:
              probeIntervalMs: 200
              maxReplicaLagMs: 1000
            """;
    static final String MONITOR = "monitor:\n  user: " + TestBedUsers.MONITOR_USER + "\n  password: "
            + TestBedUsers.MONITOR_PASSWORD + "\n";

    static TestBed bed;
    static MariaDbNode master;
    static MariaDbNode replica1;
    static MariaDbNode replica2;

    @BeforeAll
    static void startBed() {
        bed = TestBed.start(1, 2);
        ReplicaGroupBed g0 = bed.groups().get(0);
        master = g0.master();
        replica1 = g0.replicas().get(0);
        replica2 = g0.replicas().get(1);
        master.execute("CREATE TABLE " + TestBed.DATABASE + ".t_health (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL)");
        bed.awaitReplication();
    }

    @AfterAll
    static void stopBed() {
        if (bed != null) {
            bed.close();
        }
    }

    static ClusterConfig config(String name, String extra) {
        return config(name, List.of(replica1.address(), replica2.address()), extra);
    }

    static ClusterConfig config(String name, List<String> replicas, String extra) {
        String yaml = new ClusterYaml(name, TestBed.DATABASE, TestBed.APP_USER, TestBed.APP_PASSWORD)
                .group("g0", master.address(), replicas).with(extra).text();
        return ClusterConfigLoader.parse(yaml, System::getenv);
    }

    static NodeAddress address(MariaDbNode node) {
        return NodeAddress.parse(node.address());
    }

    static ReplicaStatus status(HealthProbe probe, MariaDbNode replica) {
        return probe.group("g0").replica(address(replica));
    }

    /** Polls the snapshot every 20 ms until {@code condition} holds; fails with the last status seen. */
    static ReplicaStatus await(HealthProbe probe, MariaDbNode replica, Duration timeout, String what,
                               Predicate<ReplicaStatus> condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        ReplicaStatus s = status(probe, replica);
        while (!condition.test(s)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(replica + ": not " + what + " within " + timeout.toMillis() + " ms; last status " + s);
            }
            Thread.sleep(20);
            s = status(probe, replica);
        }
        return s;
    }

    static void insert() {
        master.execute("INSERT INTO " + TestBed.DATABASE + ".t_health (v) VALUES (1)");
    }

    @Test
    void healthyReplicasQualify() throws Exception {
        List<GroupHealth> heard = new CopyOnWriteArrayList<>();
        try (HealthProbe probe = new HealthProbe(config("healthy", POLICY))) {
            probe.addListener(heard::add);
            probe.start();
            GroupHealth g0 = probe.group("g0");
            assertTrue(g0.masterReachable(), g0.toString());
            Position masterPos = Position.parse(Flavour.MARIADB, master.gtidBinlogPos());
            assertEquals(masterPos, g0.master());
            assertEquals(List.of(address(replica1), address(replica2)), List.copyOf(g0.replicas().keySet()));
            for (ReplicaStatus s : g0.replicas().values()) {
                assertTrue(s.qualifies(MAX_LAG_MS), s.toString());
                assertEquals(0, s.lagMillis(), s.toString());
                assertEquals("", s.problem());
                assertNull(s.replicating(), "no monitor user: thread state unknown");
                assertTrue(s.applied().covers(masterPos), s.toString());
            }
            Thread.sleep(5 * INTERVAL_MS);
            assertTrue(heard.size() >= 3, "listener heard " + heard.size() + " rounds in 1 s");
            assertTrue(probeThreads("healthy") >= 1, "probe thread runs");
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (probeThreads("healthy") > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, probeThreads("healthy"), "close() stops the probe threads");
    }

    static long probeThreads(String cluster) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("ballast-health-" + cluster)).count();
    }

    @Test
    void sqlThreadStoppedReplicaLagsPastMaxAndRecoversAfterStart() throws Exception {
        try (HealthProbe probe = new HealthProbe(config("lag", POLICY))) {
            probe.start();
            assertTrue(status(probe, replica1).qualifies(MAX_LAG_MS));
            replica1.execute("STOP SLAVE SQL_THREAD");
            try {
                long writeUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2_200);
                while (System.nanoTime() < writeUntil) {
                    insert();
                    Thread.sleep(100);
                }
                ReplicaStatus lagging = await(probe, replica1, Duration.ofSeconds(2), "lagging past "
                        + MAX_LAG_MS + " ms", s -> s.lagMillis() > MAX_LAG_MS);
                assertTrue(lagging.reachable(), lagging.toString());
                assertFalse(lagging.qualifies(MAX_LAG_MS), lagging.toString());
                assertTrue(lagging.problem().contains("node=" + replica1.address())
                        && lagging.problem().contains("replica lag ") && lagging.problem().contains("> maxReplicaLagMs 1000"),
                        lagging.problem());
                assertTrue(status(probe, replica2).qualifies(MAX_LAG_MS), "the other replica keeps up: " + status(probe, replica2));
            } finally {
                replica1.execute("START SLAVE SQL_THREAD");
            }
            long t0 = System.nanoTime();
            ReplicaStatus back = await(probe, replica1, Duration.ofMillis(5 * INTERVAL_MS + 1_000), "qualifying again",
                    s -> s.qualifies(MAX_LAG_MS));
            System.out.printf("lag: qualified again %d ms after START SLAVE SQL_THREAD (%s)%n",
                    (System.nanoTime() - t0) / 1_000_000, back);
            assertEquals("", back.problem());
        } finally {
            bed.awaitReplication();
        }
    }

    @Test
    void crashedReplicaIsUnreachable() throws Exception {
        try (HealthProbe probe = new HealthProbe(config("crash", POLICY))) {
            probe.start();
            replica2.crash();
            try {
                ReplicaStatus down = await(probe, replica2, Duration.ofSeconds(3), "unreachable", s -> !s.reachable());
                assertFalse(down.qualifies(MAX_LAG_MS));
                assertTrue(down.problem().contains("node=" + replica2.address()) && down.problem().contains("unreachable"),
                        down.problem());
                assertTrue(status(probe, replica1).qualifies(MAX_LAG_MS), status(probe, replica1).toString());
                assertTrue(probe.group("g0").masterReachable());
            } finally {
                replica2.restart();
            }
            // the probe reconnects on its own
            await(probe, replica2, Duration.ofSeconds(10), "qualifying after restart", s -> s.qualifies(MAX_LAG_MS));
        } finally {
            bed.awaitReplication();
        }
    }

    @Test
    void hungReplicaDoesNotStallProbingOfOthers() throws Exception {
        try (HealthProbe probe = new HealthProbe(config("hang", POLICY))) {
            probe.start();
            replica2.hang();
            long maxGapMs = 0;
            int advances = 0;
            ReplicaStatus hung;
            try {
                long last = status(probe, replica1).probedAtNanos();
                long lastSeenAt = System.nanoTime();
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                while (System.nanoTime() < until) {
                    Thread.sleep(10);
                    long now = status(probe, replica1).probedAtNanos();
                    if (now != last) {
                        maxGapMs = Math.max(maxGapMs, (now - last) / 1_000_000);
                        last = now;
                        lastSeenAt = System.nanoTime();
                        advances++;
                    }
                }
                maxGapMs = Math.max(maxGapMs, (System.nanoTime() - lastSeenAt) / 1_000_000);
                // the probe's socket timeout is max(1000, 2 * 200) ms: by now the hung replica is unreachable
                hung = await(probe, replica2, Duration.ofSeconds(2), "unreachable", s -> !s.reachable());
                assertTrue(status(probe, replica1).qualifies(MAX_LAG_MS), status(probe, replica1).toString());
                assertTrue(probe.group("g0").masterReachable());
            } finally {
                replica2.resume();
            }
            System.out.printf("hang: other replica probed %d times in 3 s, largest gap %d ms; hung one: %s%n",
                    advances, maxGapMs, hung.problem());
            assertTrue(advances >= 8, "other replica probed only " + advances + " times in 3 s");
            assertTrue(maxGapMs < 1_000, "other replica's probe stalled for " + maxGapMs + " ms");
            assertTrue(hung.problem().contains("node=" + replica2.address()), hung.problem());
            await(probe, replica2, Duration.ofSeconds(10), "qualifying after resume", s -> s.qualifies(MAX_LAG_MS));
        } finally {
            bed.awaitReplication();
        }
    }

    @Test
    void monitorUserSeesStoppedReplication() throws Exception {
        try (HealthProbe probe = new HealthProbe(config("monitor", POLICY + MONITOR))) {
            probe.start();
            assertEquals(Boolean.TRUE, status(probe, replica1).replicating(), status(probe, replica1).toString());
            assertEquals(Boolean.TRUE, status(probe, replica2).replicating(), status(probe, replica2).toString());
            replica1.stopReplication();
            try {
                ReplicaStatus stopped = await(probe, replica1, Duration.ofSeconds(2), "seen stopped",
                        s -> Boolean.FALSE.equals(s.replicating()));
                assertTrue(stopped.reachable());
                assertFalse(stopped.qualifies(MAX_LAG_MS), "stopped replication disqualifies even at lag " + stopped.lagMillis());
                assertTrue(stopped.problem().contains("node=" + replica1.address())
                        && stopped.problem().contains("Slave_SQL_Running=No"), stopped.problem());
                assertEquals(Boolean.TRUE, status(probe, replica2).replicating());
            } finally {
                replica1.startReplication();
            }
            await(probe, replica1, Duration.ofSeconds(3), "replicating again",
                    s -> Boolean.TRUE.equals(s.replicating()) && s.qualifies(MAX_LAG_MS));
        } finally {
            bed.awaitReplication();
        }
    }

    @Test
    void freshAppliedReflectsTheLatestWrite() throws Exception {
        // a long interval: the snapshot stays as start() left it, so only an on-demand read can see the write
        String slowProbe = "readPolicy:\n  probeIntervalMs: 60000\n";
        try (HealthProbe probe = new HealthProbe(config("fresh", slowProbe))) {
            probe.start();
            insert();
            Position written = Position.parse(Flavour.MARIADB, master.gtidBinlogPos());
            bed.awaitReplication();
            assertFalse(status(probe, replica1).applied().covers(written), "snapshot is from before the write");
            Position fresh = probe.freshApplied(address(replica1));
            assertTrue(fresh.covers(written), fresh + " should cover " + written);

            replica2.execute("STOP SLAVE SQL_THREAD");
            try {
                insert();
                Position second = Position.parse(Flavour.MARIADB, master.gtidBinlogPos());
                replica1.awaitApplied(second.toString(), Duration.ofSeconds(10));
                assertTrue(probe.freshApplied(address(replica1)).covers(second));
                assertFalse(probe.freshApplied(address(replica2)).covers(second), "replica2 has not applied it");
            } finally {
                replica2.execute("START SLAVE SQL_THREAD");
            }
            IllegalArgumentException notReplica = assertThrows(IllegalArgumentException.class,
                    () -> probe.freshApplied(address(master)));
            assertTrue(notReplica.getMessage().contains(master.address()), notReplica.getMessage());
        } finally {
            bed.awaitReplication();
        }
    }

    @Test
    void serverThatIsDownAtStartIsUnreachableAndFreshAppliedNamesIt() throws Exception {
        String dead = "127.0.0.1:" + closedPort();
        try (HealthProbe probe = new HealthProbe(config("deadatstart", List.of(replica1.address(), dead), POLICY))) {
            long t0 = System.nanoTime();
            probe.start();
            long startMs = (System.nanoTime() - t0) / 1_000_000;
            ReplicaStatus down = probe.group("g0").replica(NodeAddress.parse(dead));
            assertFalse(down.reachable(), down.toString());
            assertTrue(down.problem().contains("node=" + dead) && down.problem().contains("unreachable"), down.problem());
            assertTrue(status(probe, replica1).qualifies(MAX_LAG_MS));
            SQLException e = assertThrows(SQLException.class, () -> probe.freshApplied(NodeAddress.parse(dead)));
            assertTrue(e.getMessage().contains("node=" + dead), e.getMessage());
            System.out.printf("dead at start: start() took %d ms; %s%n", startMs, e.getMessage());
        }
    }

    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    @Test
    void ejectedReplicaComesBackAfterAHealthyRound() throws Exception {
        List<GroupHealth> heard = new CopyOnWriteArrayList<>();
        try (HealthProbe probe = new HealthProbe(config("eject", POLICY))) {
            probe.start();
            probe.addListener(heard::add);
            probe.eject(address(replica1), "read failed: connection reset (test)");
            ReplicaStatus ejected = status(probe, replica1);
            assertFalse(ejected.reachable(), "ejected at once: " + ejected);
            assertFalse(ejected.qualifies(MAX_LAG_MS));
            assertTrue(ejected.problem().contains("node=" + replica1.address())
                    && ejected.problem().contains("ejected: read failed: connection reset (test)"), ejected.problem());
            assertTrue(heard.stream().anyMatch(g -> !g.replica(address(replica1)).reachable()), "listeners hear of the ejection");
            assertTrue(status(probe, replica2).qualifies(MAX_LAG_MS));
            long t0 = System.nanoTime();
            ReplicaStatus back = await(probe, replica1, Duration.ofMillis(5 * INTERVAL_MS + 1_000), "back", s -> s.qualifies(MAX_LAG_MS));
            System.out.printf("eject: back after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            assertEquals("", back.problem());
            assertThrows(IllegalArgumentException.class, () -> probe.eject(address(master), "not a replica"));
        }
    }
}
