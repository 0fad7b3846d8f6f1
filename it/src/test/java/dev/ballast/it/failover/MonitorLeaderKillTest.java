package dev.ballast.it.failover;

import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.jdbc.BallastDataSource;
import dev.ballast.replication.GroupTopology;
import dev.ballast.topology.TopologyStore;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scenario 3 of the failover chaos suite, and the monitor's footprint: monitors run as their own JVMs
 * ({@code ballast monitor}), so that one can be {@code kill -9}ed.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class MonitorLeaderKillTest {

    static final String ZK_SESSION = "  zkSessionTimeoutMs: 4000";

    FailoverBed bed;

    @AfterEach
    void stop() {
        if (bed != null) {
            bed.close();
        }
    }

    /** Three monitors; the leader is killed while it fails over: exactly one promotion (epoch + 1). */
    @Test
    void leaderKilledDuringFailoverGivesExactlyOnePromotion() throws Exception {
        bed = FailoverBed.start("leaders", 2, FailoverChaosTest.TABLES);
        Map<String, Process> monitors = new HashMap<>();
        for (String id : List.of("m1", "m2", "m3")) {
            monitors.put(id, bed.startMonitorProcess(id, ZK_SESSION, "  antiFlapWindowMs: 0"));
        }
        TopologyStore store = bed.store();
        FailoverBed.await("a leader and health from three monitors", Duration.ofSeconds(60), () -> leader(store) != null
                && store.health(bed.topology().master().toString()).size() == 3);
        GroupTopology before = bed.topology();
        int auditBefore = store.recoveries().size();
        MariaDbNode master = bed.node(before.master());
        String leader = leader(store);
        master.crash();
        // Kill the leader as soon as its recovery has started (its audit record appears).
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        boolean killedDuring = false;
        while (System.nanoTime() < deadline) {
            List<String[]> records = store.recoveries();
            if (records.size() > auditBefore) {
                killedDuring = bed.topology().equals(before);
                bed.kill9(monitors.get(leader));
                break;
            }
            Thread.sleep(2);
        }
        System.out.printf("LEADER %s killed %s its failover had published%n", leader, killedDuring ? "before" : "after");
        FailoverBed.await("exactly one promotion", Duration.ofSeconds(40), () -> bed.topology().epoch() == before.epoch() + 1);
        Thread.sleep(6_000); // the other monitors have had time to act twice if they would
        GroupTopology after = bed.topology();
        assertEquals(before.epoch() + 1, after.epoch(), "one promotion, not two: " + after + "\n" + bed.log("m1"));
        int writable = 0;
        for (MariaDbNode n : bed.bed().nodes()) {
            if (n.isRunning() && !n.state().readOnly()) {
                writable++;
                assertEquals(after.master().toString(), n.address(), "the only writable node is the new master");
            }
        }
        assertEquals(1, writable);
        // The data plane follows: a write through Ballast lands on the new master.
        try (BallastDataSource ds = new BallastDataSource(bed.config()); Connection c = ds.getConnection();
             Statement s = c.createStatement()) {
            s.execute(WriteLoad.CREATE_TABLE);
            assertEquals(1, s.executeUpdate("INSERT INTO t_ack VALUES (1, 1)"));
        }
    }

    /** The monitor's resident memory while watching 2 groups x 3 servers (target: at most 256 MB). */
    @Test
    void monitorResidentMemoryWatchingTwoGroupsOfThree() throws Exception {
        try (var twoGroups = dev.ballast.it.testbed.TestBed.start(2, 2);
             var zk = dev.ballast.it.testbed.ZooKeeperBed.start()) {
            Path dir = twoGroups.directory();
            String yaml = dev.ballast.it.ClusterYaml.forBed("rss", twoGroups).text() + "failover:\n  zookeeper: "
                    + zk.connectString() + "\n  admin:\n    user: ballast_admin\n    password: admin_pw\n"
                    + "  replication:\n    user: repl\n    password: repl_pw\n";
            Path config = Files.writeString(dir.resolve("rss.yaml"), yaml);
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx128m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                    "dev.ballast.cli.BallastCli", "monitor", "--config", config.toString(), "--id", "rss")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("rss.log").toFile()).start();
            try {
                Thread.sleep(15_000); // 30 probe rounds of 6 servers
                assertTrue(p.isAlive(), Files.readString(dir.resolve("rss.log")));
                long kb = dev.ballast.it.proxy.RawClient.rssKb(p.pid());
                System.out.printf("MONITOR resident memory watching 2 groups x 3 servers: %d MB (-Xmx128m, SerialGC)%n", kb / 1024);
                assertTrue(kb <= 256 * 1024, "monitor RSS " + kb / 1024 + " MB > 256 MB");
            } finally {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** The id of the monitor holding leadership: the latch node with the lowest sequence number. */
    static String leader(TopologyStore store) {
        CuratorFramework client = store.client();
        try {
            List<String> children = client.getChildren().forPath(store.leaderPath());
            if (children.isEmpty()) {
                return null;
            }
            String first = children.stream().min(Comparator.comparing(c -> c.substring(c.lastIndexOf('-') + 1))).orElseThrow();
            return new String(client.getData().forPath(store.leaderPath() + "/" + first), StandardCharsets.UTF_8);
        } catch (Exception e) {
            return null;
        }
    }
}
