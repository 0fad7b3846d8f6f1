package dev.ballast.it.keys;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.it.testbed.ZooKeeperBed;
import dev.ballast.jdbc.BallastDataSource;
import dev.ballast.keys.Snowflake;
import dev.ballast.keys.WorkerLease;
import dev.ballast.rules.ClusterConfigLoader;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11, item 6: four application processes (real {@code java} processes) insert into one sharded table through
 * {@code jdbc:ballast:} at the same time, leaving the snowflake key out; each leases its worker id in ZooKeeper.
 * Before the leases every process used worker id 0 and keys of the same millisecond collided.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SnowflakeKeysAcrossProcessesTest {

    static final int PROCESSES = 4;
    static final int ROWS = 20_000;
    static final long PROCESS_DEADLINE_S = 180;

    @Test
    void fourProcessesInsertingIntoOneShardedTableGetFourWorkerIdsAndNoDuplicateKey() throws Exception {
        try (TestBed bed = TestBed.start(2, 1); ZooKeeperBed zk = ZooKeeperBed.start()) {
            Path dir = bed.directory().resolve("keys");
            Files.createDirectories(dir);
            Path file = ClusterYaml.forBed("keys", bed).with("""
                    tables:
                      t_key:
                        shardingColumn: user_id
                        tablesPerGroup: 2
                        algorithm: {type: hash-mod}
                        keyGenerator: {column: id, type: snowflake}
                    failover:
                      zookeeper: %s
                    """.formatted(zk.connectString())).writeTo(dir.resolve("cluster.yaml"));
            String url = "jdbc:ballast:" + file;
            try (BallastDataSource ds = new BallastDataSource(ClusterConfigLoader.load(file))) {
                int parentId = ((WorkerLease) ds.workerIds().orElseThrow()).heldId();
                assertEquals(0, parentId, "this process leased first");
                try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                    s.execute("CREATE TABLE t_key (id BIGINT PRIMARY KEY, user_id INT NOT NULL, writer INT NOT NULL)");
                }

                List<Process> writers = new ArrayList<>();
                try {
                    for (int n = 1; n <= PROCESSES; n++) {
                        writers.add(new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                                "-cp", System.getProperty("java.class.path"), KeyWriter.class.getName(),
                                url, String.valueOf(n), String.valueOf(ROWS), dir.toString(), String.valueOf(PROCESS_DEADLINE_S))
                                .redirectErrorStream(true).redirectOutput(dir.resolve("writer-" + n + ".log").toFile()).start());
                    }
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                    for (int n = 1; n <= PROCESSES; n++) {
                        while (!Files.exists(dir.resolve("ready-" + n))) {
                            assertTrue(System.nanoTime() < deadline && writers.get(n - 1).isAlive(),
                                    "writer " + n + " not ready: " + log(dir, n));
                            Thread.sleep(50);
                        }
                    }
                    Files.writeString(dir.resolve("go"), "go");
                    for (int n = 1; n <= PROCESSES; n++) {
                        Process p = writers.get(n - 1);
                        assertTrue(p.waitFor(PROCESS_DEADLINE_S, TimeUnit.SECONDS), "writer " + n + " still running");
                        assertEquals(0, p.exitValue(), "writer " + n + ": " + log(dir, n));
                    }
                } finally {
                    for (Process p : writers) {
                        ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly);
                    }
                }

                Map<Integer, Set<Integer>> workersByWriter = new TreeMap<>();
                Set<Long> keys = new HashSet<>();
                long rows = 0;
                try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("/* ballast:master */ SELECT id, writer FROM t_key")) {
                    while (rs.next()) {
                        rows++;
                        long id = rs.getLong(1);
                        keys.add(id);
                        workersByWriter.computeIfAbsent(rs.getInt(2), w -> new TreeSet<>()).add(Snowflake.workerOf(id));
                    }
                }
                System.out.printf("KEYS %d processes x %d rows: %d rows, %d distinct keys, worker ids by process %s%n",
                        PROCESSES, ROWS, rows, keys.size(), workersByWriter);
                assertEquals((long) PROCESSES * ROWS, rows, "rows written");
                assertEquals(rows, keys.size(), "duplicate keys: " + (rows - keys.size()));
                Set<Integer> ids = new HashSet<>();
                workersByWriter.forEach((writer, w) -> {
                    assertEquals(1, w.size(), "process " + writer + " used one worker id: " + w);
                    ids.addAll(w);
                });
                assertEquals(PROCESSES, ids.size(), "four processes, four worker ids: " + workersByWriter);
                assertTrue(!ids.contains(parentId), "none is the id this process holds");

                // every writer closed its data source on exit: only this process's lease is left
                try (CuratorFramework client = CuratorFrameworkFactory.newClient(zk.connectString(), new RetryNTimes(3, 200))) {
                    client.start();
                    assertEquals(List.of(String.valueOf(parentId)), client.getChildren().forPath("/ballast/keys/workers"));
                }
            }
        }
    }

    @Test
    void anInsertNeedingAKeyFailsWithAnSqlErrorNamingTheClusterWhileZooKeeperIsAwayAndWorksOnceTheLeaseIsBack()
            throws Exception {
        try (TestBed bed = TestBed.start(1, 0); ZooKeeperBed zk = ZooKeeperBed.start()) {
            Path file = ClusterYaml.forBed("away", bed).with("""
                    tables:
                      t_key:
                        group: g0
                        keyGenerator: {column: id}
                    failover:
                      zookeeper: %s
                      zkSessionTimeoutMs: 30000
                    """.formatted(zk.connectString())).writeTo(bed.directory().resolve("away.yaml"));
            try (BallastDataSource ds = new BallastDataSource(ClusterConfigLoader.load(file));
                 Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE t_key (id BIGINT PRIMARY KEY, user_id INT NOT NULL, writer INT NOT NULL)");
                assertEquals(1, s.executeUpdate("INSERT INTO t_key (user_id, writer) VALUES (1, 0)"));
                zk.stop();
                java.sql.SQLException refused = null;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (refused == null && System.nanoTime() < deadline) {
                    try {
                        s.executeUpdate("INSERT INTO t_key (user_id, writer) VALUES (2, 0)");
                        Thread.sleep(50);
                    } catch (java.sql.SQLException e) {
                        refused = e;
                    }
                }
                assertTrue(refused != null, "inserts went on without a lease");
                System.out.println("KEYS without a lease: SQLSTATE " + refused.getSQLState() + " " + refused.getMessage());
                assertTrue(refused.getMessage().startsWith("[cluster=away] no key generated: no snowflake worker id lease is held"),
                        refused.getMessage());
                assertTrue(refused instanceof java.sql.SQLTransientException, "worth a retry: " + refused.getClass());
                zk.restart();
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (true) {
                    try {
                        assertEquals(1, s.executeUpdate("INSERT INTO t_key (user_id, writer) VALUES (3, 0)"));
                        break;
                    } catch (java.sql.SQLException e) {
                        assertTrue(System.nanoTime() < deadline, "no lease again within 30 s: " + e);
                        Thread.sleep(100);
                    }
                }
            }
        }
    }

    static String log(Path dir, int n) {
        try {
            String text = Files.readString(dir.resolve("writer-" + n + ".log"));
            return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
        } catch (Exception e) {
            return "(no log: " + e + ")";
        }
    }
}
