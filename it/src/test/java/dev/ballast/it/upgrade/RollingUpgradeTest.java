package dev.ballast.it.upgrade;

import dev.ballast.failover.Monitor;
import dev.ballast.it.ClusterYaml;
import dev.ballast.it.failover.FailoverBed;
import dev.ballast.it.failover.WriteLoad;
import dev.ballast.it.proxy.Sysbench;
import dev.ballast.it.testbed.MariaDbBinaries;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.it.testbed.TestBedUsers;
import dev.ballast.it.testbed.ZooKeeperBed;
import dev.ballast.jdbc.Ballast;
import dev.ballast.jdbc.BallastDataSource;
import dev.ballast.proxy.ProxyServer;
import dev.ballast.replication.GroupTopology;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import dev.ballast.topology.TopologyStore;
import dev.ballast.upgrade.Operation;
import dev.ballast.upgrade.OperationStore;
import dev.ballast.upgrade.Step;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 12, the proof: 2 groups × (master + 2 replicas) on MariaDB 10.11 (Debian) upgraded to 11.4.5 (the Maven
 * artifact) by {@code ballast upgrade start} run as its own process, while 4 writers and 4 readers run through
 * {@code jdbc:ballast:} and sysbench {@code oltp_read_write} runs through the proxy. The operator's commands
 * ({@code upgrade.stopCommand} …) are real shell commands ({@code curl}) that ask this test, over HTTP on 127.0.0.1, to
 * stop, install and start its own servers (the test bed owns their processes): what an operator's systemctl or
 * package manager would do. Post-start brings the 10.11 system tables up to date ({@link SystemTablesUpgrade}).
 *
 * <p>Asserted: 0 failed reads, 0 failed writes, 0 acknowledged writes lost (every id read back), no read served by a
 * drained replica, writes held ≤ 1 s per switchover, every node on 11.4 at the end, replicating, with the master's
 * rows. The second test kills the CLI with SIGKILL twice at random moments and resumes it: the same results.
 */
@Timeout(value = 1200, unit = TimeUnit.SECONDS)
class RollingUpgradeTest {

    static final String TARGET = "11.4";
    static final int SYSBENCH_SECONDS = Integer.getInteger("ballast.upgradeTest.sysbenchSeconds", 150);

    TestBed bed;
    ZooKeeperBed zk;
    UpgradeControl control;
    Monitor monitor;
    BallastDataSource ds;
    ProxyServer proxy;
    final List<Process> clis = new ArrayList<>();

    @AfterEach
    void stop() {
        for (Process p : clis) {
            p.destroyForcibly();
        }
        if (proxy != null) {
            proxy.close();
        }
        if (ds != null) {
            ds.close();
        }
        if (monitor != null) {
            monitor.close();
        }
        if (control != null) {
            control.close();
        }
        if (zk != null) {
            zk.close();
        }
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    void everyNodeOfTwoGroupsGoesTo114UnderLoadWithoutAFailedOrLostStatement() throws Exception {
        run(0);
    }

    @Test
    void theSameWithTheCliKilledTwiceAndResumed() throws Exception {
        run(2);
    }

    /** One read: which server answered (its server_id), when it started, or its error. */
    record Read(long startedNanos, long serverId, String error) {
    }

    void run(int kills) throws Exception {
        MariaDbBinaries m114 = MariaDbBinaries.fromMavenArtifact("11.4.5");
        bed = TestBed.start(2, 2);
        zk = ZooKeeperBed.start();
        control = UpgradeControl.start(bed, m114);
        String yaml = ClusterYaml.forBed("upg", bed).with("""
                tables:
                  t_ack:
                    shardingColumn: id
                    algorithm: {type: hash-mod}
                  t_read:
                    shardingColumn: k
                    algorithm: {type: hash-mod}
                  sbtest1:
                    shardingColumn: id
                    tablesPerGroup: 2
                    algorithm: {type: hash-mod}
                failover:
                  zookeeper: %s
                  zkSessionTimeoutMs: 4000
                  zkConnectionTimeoutMs: 3000
                  admin: {user: %s, password: %s}
                  replication: {user: %s, password: %s}
                """.formatted(zk.connectString(), TestBedUsers.ADMIN_USER, TestBedUsers.ADMIN_PASSWORD,
                TestBedUsers.REPL_USER, TestBedUsers.REPL_PASSWORD)
                + control.upgradeSection("  drainTimeoutMs: 3000") + ClusterYaml.proxySection("sb", "sb_pw", false)).text();
        Path configFile = bed.directory().resolve("upg.yaml");
        Files.writeString(configFile, yaml);
        ClusterConfig config = ClusterConfigLoader.parse(yaml, System::getenv);

        monitor = new Monitor(config, "m1", null).start();
        FailoverBed.await("the monitor leads", Duration.ofSeconds(20), monitor::acting);
        ds = new BallastDataSource(config);
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute(WriteLoad.CREATE_TABLE);
            s.execute("CREATE TABLE t_read (k INT PRIMARY KEY, v INT NOT NULL)");
            for (int k = 0; k < 100; k++) {
                s.execute("INSERT INTO t_read VALUES (" + k + ", " + k + ")");
            }
        }
        for (int g = 0; g < 2; g++) {
            awaitGroupApplied(config, "g" + g);
        }
        proxy = new ProxyServer(config).start();
        Sysbench sysbench = new Sysbench("127.0.0.1", proxy.port(), "sb", "sb_pw", bed.database());
        Sysbench.Result prepare = sysbench.run("oltp_read_write", "prepare", 1, 2_000, 1, 60);
        assertEquals(0, prepare.exitCode(), prepare.output());
        Map<Long, String> nodeById = new HashMap<>();
        bed.nodes().forEach(n -> nodeById.put((long) n.serverId(), n.address()));

        // ---- load: 4 writers, 4 readers through jdbc:ballast:, sysbench through the proxy
        WriteLoad writes = WriteLoad.start(ds, 4, 900);
        ConcurrentLinkedQueue<Read> reads = new ConcurrentLinkedQueue<>();
        AtomicBoolean reading = new AtomicBoolean(true);
        List<Thread> readers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Thread t = new Thread(() -> read(reads, reading), "reader-" + i);
            t.setDaemon(true);
            t.start();
            readers.add(t);
        }
        CompletableFuture<Sysbench.Result> oltp = CompletableFuture.supplyAsync(() -> {
            try {
                return sysbench.run("oltp_read_write", "run", 1, 2_000, 2, SYSBENCH_SECONDS);
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        // drained-node windows, read from ZooKeeper while the upgrade runs: node -> [from, to] nanoTime pairs
        Map<String, List<long[]>> drainedWindows = new ConcurrentHashMap<>();
        AtomicBoolean watching = new AtomicBoolean(true);
        Thread watcher = new Thread(() -> watchDrains(config, drainedWindows, watching), "drain-watcher");
        watcher.setDaemon(true);
        watcher.start();

        long started = System.nanoTime();
        long startedWall = System.currentTimeMillis();
        String id = "upg-" + kills;
        Path cliLog = bed.directory().resolve("cli-" + id + ".log");
        long seed = System.nanoTime();
        Random random = new Random(seed);
        Process cli = cli(cliLog, "upgrade", "start", "--config", configFile.toString(), "--to-version", TARGET, "--yes",
                "--id", id);
        for (int k = 0; k < kills; k++) {
            // kill at a random moment of the running operation: wait until the CLI has recorded it (its start-up and
            // pre-flight change nothing), then 2-20 s more
            long recordedAfter = awaitRecorded(config, id, cli, started);
            long afterMs = 2_000 + random.nextInt(18_000);
            if (cli.waitFor(afterMs, TimeUnit.MILLISECONDS)) {
                break; // finished before the kill: nothing left to kill
            }
            cli.destroyForcibly(); // SIGKILL to the CLI this test started, by its PID
            cli.waitFor(10, TimeUnit.SECONDS);
            Optional<Operation> recorded = findOperation(config, id);
            if (recorded.isEmpty()) {
                // Killed during its start-up or pre-flight, before the operation was recorded: nothing was changed,
                // and an operator starts it again.
                System.out.println("UPGRADE-TEST: killed the CLI (kill -9) after " + afterMs + " ms (seed " + seed
                        + ") before it recorded operation " + id + "; starting it again");
                try (CuratorFramework client = TopologyStore.connect(config)) {
                    assertEquals(Map.of(), TopologyStore.of(client, config).drained(),
                            "nothing is under maintenance before the operation exists");
                }
                cli = cli(cliLog, "upgrade", "start", "--config", configFile.toString(), "--to-version", TARGET, "--yes",
                        "--id", id);
                continue;
            }
            Operation at = recorded.get();
            System.out.println("UPGRADE-TEST: killed the CLI (kill -9) after " + afterMs + " ms (seed " + seed + ") at step "
                    + (at.next() + 1) + "/" + at.steps().size() + " " + (at.next() >= 0 ? at.steps().get(at.next()).describe()
                    + " " + at.steps().get(at.next()).state() : ""));
            cli = cli(cliLog, "upgrade", "resume", id, "--config", configFile.toString());
        }
        assertTrue(cli.waitFor(900, TimeUnit.SECONDS), "the upgrade ended within 900 s; log:\n" + Files.readString(cliLog));
        long upgradeMs = (System.nanoTime() - started) / 1_000_000;
        String log = Files.readString(cliLog);
        assertEquals(0, cli.exitValue(), "ballast upgrade ended with 0; its output:\n" + log);

        Thread.sleep(1_000);
        long writesStopped = System.nanoTime();
        writes.close();
        reading.set(false);
        for (Thread t : readers) {
            t.join(10_000);
        }
        watching.set(false);
        Sysbench.Result rw = oltp.get(SYSBENCH_SECONDS + 180L, TimeUnit.SECONDS);

        // ---- results
        Operation op = operation(config, id);
        assertEquals(Operation.State.DONE, op.state(), op.reason());
        List<String> stepLines = new ArrayList<>();
        long maxHeld = 0;
        for (Step s : op.steps()) {
            stepLines.add(s.describe() + " " + s.state() + " " + (s.endedAtMs() - s.startedAtMs()) + " ms: " + s.output());
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("writes held (\\d+) ms").matcher(s.output());
            if (m.find()) {
                maxHeld = Math.max(maxHeld, Long.parseLong(m.group(1)));
            }
        }
        List<String> failedReads = reads.stream().filter(r -> r.error() != null).map(Read::error).limit(5).toList();
        long readErrors = reads.stream().filter(r -> r.error() != null).count();
        List<String> onDrained = new ArrayList<>();
        for (Read r : reads) {
            if (r.error() != null) {
                continue;
            }
            String node = nodeById.get(r.serverId());
            for (long[] w : drainedWindows.getOrDefault(node, List.of())) {
                // a read that started a second after the mark was seen must not be served there
                if (r.startedNanos() > w[0] + 1_000_000_000L && r.startedNanos() < w[1]) {
                    onDrained.add(node + " at +" + (r.startedNanos() - w[0]) / 1_000_000 + " ms");
                }
            }
        }
        Set<Long> acked = writes.acked();
        Set<Long> stored = new HashSet<>();
        try (Ballast.Hint master = Ballast.forceMaster(); Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM t_ack")) {
            while (rs.next()) {
                stored.add(rs.getLong(1));
            }
        }
        Set<Long> lost = new HashSet<>(acked);
        lost.removeAll(stored);
        long appPauseMs = writes.longestPauseMs(started, writesStopped);
        long gapWall = startedWall + (writes.longestPauseStart(started, writesStopped) - started) / 1_000_000;
        String gapAt = op.steps().stream().filter(s -> s.startedAtMs() <= gapWall + appPauseMs && s.endedAtMs() >= gapWall)
                .map(Step::describe).toList().toString();
        System.out.println("UPGRADE-TEST longest gap between acknowledged writes: " + appPauseMs + " ms from +"
                + (gapWall - startedWall) + " ms, during steps " + gapAt);
        try (CuratorFramework client = TopologyStore.connect(config)) {
            TopologyStore.of(client, config).recoveries().forEach(r -> System.out.println("UPGRADE-TEST recovery "
                    + String.join(" ", r)));
        }

        System.out.println("UPGRADE-TEST (" + kills + " kills): upgrade " + upgradeMs + " ms; writes acknowledged "
                + acked.size() + ", failed " + writes.failures().size() + ", lost " + lost.size() + "; reads " + reads.size()
                + ", failed " + readErrors + ", served by a drained replica " + onDrained.size() + "; switchover writes held max "
                + maxHeld + " ms; longest gap between acknowledged writes " + appPauseMs + " ms; sysbench oltp_read_write "
                + rw.tps() + " tps, exit " + rw.exitCode() + ", ignored errors " + rw.errors() + ", reconnects " + rw.reconnects());
        stepLines.forEach(l -> System.out.println("UPGRADE-TEST step: " + l));
        control.calls().forEach(l -> System.out.println("UPGRADE-TEST command: " + l));

        assertEquals(List.of(), writes.failures().stream().limit(5).map(WriteLoad.Failure::toString).toList(),
                "no failed write");
        assertEquals(Set.of(), lost, "no acknowledged write lost");
        assertEquals(List.of(), failedReads, "no failed read");
        assertEquals(List.of(), onDrained, "no read served by a drained replica");
        assertTrue(maxHeld <= 1_000, "writes held at most 1 s per switchover: " + maxHeld + " ms");
        assertEquals(0, rw.exitCode(), "sysbench through the proxy had no fatal error:\n" + rw.output());
        assertTrue(acked.size() > 100 && reads.size() > 100, "the load ran: " + acked.size() + " writes, " + reads.size() + " reads");

        // every node on 11.4, replicating from its group's master, with the master's rows
        try (CuratorFramework client = TopologyStore.connect(config)) {
            TopologyStore store = TopologyStore.of(client, config);
            assertEquals(Map.of(), store.drained(), "no maintenance mark left");
            for (int g = 0; g < 2; g++) {
                GroupTopology t = store.read("g" + g).orElseThrow().topology();
                awaitGroupApplied(config, "g" + g);
                MariaDbNode master = node(t.master().toString());
                List<String> tables = master.query("SHOW TABLES FROM " + bed.database() + " LIKE 't_ack%'").stream()
                        .map(r -> r.values().iterator().next()).toList();
                for (String n : t.servers().stream().map(Object::toString).toList()) {
                    MariaDbNode node = node(n);
                    String v = node.query("SELECT VERSION() AS v").get(0).get("v");
                    assertTrue(v.startsWith("11.4."), n + " runs " + v);
                    if (!n.equals(t.master().toString())) {
                        Map<String, String> st = node.query("SHOW SLAVE STATUS").get(0);
                        assertEquals("Yes", st.get("Slave_IO_Running"), n + " " + st);
                        assertEquals("Yes", st.get("Slave_SQL_Running"), n + " " + st);
                        assertEquals(t.master().port() + "", st.get("Master_Port"), n + " replicates from the master");
                    }
                    for (String table : tables) {
                        assertEquals(count(master, table), count(node, table), n + " holds the master's rows of " + table);
                    }
                }
            }
        }
    }

    private void read(ConcurrentLinkedQueue<Read> reads, AtomicBoolean running) {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT @@server_id, v FROM t_read WHERE k = ?")) {
            while (running.get()) {
                long startedAt = System.nanoTime();
                ps.setInt(1, ThreadLocalRandom.current().nextInt(100));
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        reads.add(new Read(startedAt, 0, "no row"));
                    } else {
                        reads.add(new Read(startedAt, rs.getLong(1), null));
                    }
                } catch (SQLException e) {
                    reads.add(new Read(startedAt, 0, e.getSQLState() + " " + e.getMessage()));
                }
                Thread.sleep(2);
            }
        } catch (SQLException e) {
            reads.add(new Read(System.nanoTime(), 0, "connection: " + e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Polls the maintenance marks every 50 ms and records when each node was seen drained. */
    private static void watchDrains(ClusterConfig config, Map<String, List<long[]>> windows, AtomicBoolean running) {
        try (CuratorFramework client = TopologyStore.connect(config)) {
            TopologyStore store = TopologyStore.of(client, config);
            Map<String, Long> since = new HashMap<>();
            Map<String, Long> lastSeen = new HashMap<>();
            while (running.get()) {
                Set<String> now = new HashSet<>();
                store.drained().keySet().forEach(n -> now.add(n.toString()));
                long t = System.nanoTime();
                for (String n : now) {
                    since.putIfAbsent(n, t);
                }
                for (String n : new ArrayList<>(since.keySet())) {
                    if (!now.contains(n)) {
                        // the window ends at the last poll that saw the mark: it was removed somewhere between that poll
                        // and this one, and data planes may have heard of it before this poll did
                        windows.computeIfAbsent(n, x -> new ArrayList<>()).add(new long[]{since.remove(n), lastSeen.get(n)});
                    }
                }
                for (String n : now) {
                    lastSeen.put(n, t);
                }
                Thread.sleep(50);
            }
            long t = System.nanoTime();
            since.forEach((n, s) -> windows.computeIfAbsent(n, x -> new ArrayList<>()).add(new long[]{s, t}));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void awaitGroupApplied(ClusterConfig config, String group) {
        GroupTopology t;
        try (CuratorFramework client = TopologyStore.connect(config)) {
            t = TopologyStore.of(client, config).read(group).map(TopologyStore.Versioned::topology)
                    .orElseGet(() -> GroupTopology.of(config.group(group)));
        }
        String pos = node(t.master().toString()).gtidBinlogPos();
        for (var r : t.replicas()) {
            node(r.toString()).awaitApplied(pos, Duration.ofSeconds(60));
        }
    }

    private static long count(MariaDbNode n, String table) {
        return Long.parseLong(n.query("SELECT COUNT(*) AS c FROM " + TestBed.DATABASE + "." + table).get(0).get("c"));
    }

    private MariaDbNode node(String address) {
        return bed.nodes().stream().filter(n -> n.address().equals(address)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + address + " in " + bed.describe()));
    }

    /** Waits (at most 60 s, or until the CLI ends) until operation {@code id} is in ZooKeeper; prints how long it took. */
    private static long awaitRecorded(ClusterConfig config, String id, Process cli, long sinceNanos) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline && cli.isAlive() && findOperation(config, id).isEmpty()) {
            Thread.sleep(200);
        }
        long ms = (System.nanoTime() - sinceNanos) / 1_000_000;
        System.out.println("UPGRADE-TEST: operation " + id + " recorded (or the CLI ended) " + ms + " ms after the start");
        return ms;
    }

    private static Optional<Operation> findOperation(ClusterConfig config, String id) {
        try (CuratorFramework client = TopologyStore.connect(config)) {
            return OperationStore.of(client, config).read(id).map(OperationStore.Versioned::operation);
        }
    }

    private static Operation operation(ClusterConfig config, String id) {
        try (CuratorFramework client = TopologyStore.connect(config)) {
            return OperationStore.of(client, config).get(id).operation();
        }
    }

    private Process cli(Path log, String... args) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx128m", "-XX:+UseSerialGC", "-cp",
                System.getProperty("java.class.path"), "dev.ballast.cli.BallastCli"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        clis.add(p);
        return p;
    }
}
