package dev.ballast.it.schema;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.ReplicaGroupBed;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.it.testbed.TestBedUsers;
import dev.ballast.it.testbed.ZooKeeperBed;
import dev.ballast.jdbc.BallastDataSource;
import dev.ballast.jdbc.health.HealthProbe;
import dev.ballast.jdbc.health.ReplicaStatus;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.schema.SchemaChange;
import dev.ballast.schema.SchemaDiff;
import dev.ballast.schema.SchemaException;
import dev.ballast.schema.SchemaPlan;
import dev.ballast.schema.Strategy;
import dev.ballast.schema.ZkSchemaVersions;
import dev.ballast.proxy.ProxyServer;
import org.mariadb.jdbc.MariaDbDataSource;
import dev.ballast.topology.TopologyStore;
import dev.ballast.upgrade.Operation;
import dev.ballast.upgrade.OperationStore;
import dev.ballast.upgrade.Progress;
import dev.ballast.upgrade.Step;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proof of issue 13's schema half, on 2 groups x (master + 2 replicas) of MariaDB 10.11 and a real ZooKeeper: a
 * table sharded 2 x 2 ({@code -Dballast.schema.rows}, default 50 000 rows per physical table; the figure is
 * 200 000), 4 writers and 4 readers through {@code BallastDataSource} during each change; instant column, online index
 * with the throttle on and off (replica lag p50/p99/max measured by a Ballast health probe every 100 ms), the CLI
 * killed with SIGKILL mid-way and resumed, and {@code schema diff} clean at the end.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SchemaChangeTest {

    static final int ROWS = Integer.getInteger("ballast.schema.rows", 50_000);
    static final String TABLES = "tables:\n  t_item:\n    shardingColumn: id\n    groups: [g0, g1]\n    tablesPerGroup: 2\n"
            + "    algorithm:\n      type: hash-mod\n";

    TestBed bed;
    ZooKeeperBed zk;
    CuratorFramework client;
    BallastDataSource ds;
    ProxyServer proxy;
    Path dir;
    final List<String> figures = Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    void start() throws Exception {
        bed = TestBed.start(2, 2);
        zk = ZooKeeperBed.start();
        dir = bed.directory();
        long t0 = System.nanoTime();
        for (int i = 0; i < 4; i++) {
            MariaDbNode master = bed.group(i / 2).master();
            String t = TestBed.DATABASE + ".t_item_" + i;
            master.execute("CREATE TABLE " + t + " (id BIGINT PRIMARY KEY, k INT NOT NULL, pad VARCHAR(100) NOT NULL)");
            // rows of data node i have id = i (mod 4): hash-mod places them here
            for (int from = 0; from < ROWS; from += 50_000) {
                int to = Math.min(ROWS, from + 50_000) - 1;
                master.execute("INSERT INTO " + t + " SELECT seq * 4 + " + i + ", seq % 997, REPEAT('x', 80) FROM " + TestBed.DATABASE + ".seq_"
                        + from + "_to_" + to);
            }
        }
        bed.awaitReplication();
        figures.add(String.format("load: %d rows per physical table, 4 tables, replicated in %.1f s", ROWS,
                (System.nanoTime() - t0) / 1e9));
        client = TopologyStore.connect(config(1000));
        client.blockUntilConnected(10, TimeUnit.SECONDS);
        TopologyStore.of(client, config(1000)).bootstrap(config(1000));
        ds = new BallastDataSource(config(1000));
        proxy = new ProxyServer(config(1000)).start();
    }

    @AfterAll
    void stop() {
        figures.forEach(f -> System.out.println("FIGURE " + f));
        if (proxy != null) {
            proxy.close();
        }
        if (ds != null) {
            ds.close();
        }
        if (client != null) {
            client.close();
        }
        if (zk != null) {
            zk.close();
        }
        if (bed != null) {
            bed.close();
        }
    }

    ClusterYaml yaml(long maxLagMs) {
        return ClusterYaml.forBed("shop", bed).with(TABLES)
                .with("readPolicy:\n  probeIntervalMs: 100\n  maxReplicaLagMs: 1000\n")
                .with("schema:\n  maxLagMs: " + maxLagMs + "\n")
                .with(ClusterYaml.proxySection("px", "px_pw", false))
                .with("failover:\n  zookeeper: " + zk.connectString() + "\n  admin:\n    user: " + TestBedUsers.ADMIN_USER
                        + "\n    password: " + TestBedUsers.ADMIN_PASSWORD + "\n  replication:\n    user: "
                        + TestBedUsers.REPL_USER + "\n    password: " + TestBedUsers.REPL_PASSWORD + "\n");
    }

    /** The config with the groups as ZooKeeper has them now (a rolling change switches masters over). */
    ClusterConfig liveConfig() {
        ClusterConfig c = config(1000);
        java.util.Map<String, dev.ballast.rules.GroupConfig> groups = new java.util.LinkedHashMap<>();
        TopologyStore store = TopologyStore.of(client, c);
        for (dev.ballast.rules.GroupConfig g : c.groups().values()) {
            dev.ballast.replication.GroupTopology t = store.read(g.name()).orElseThrow().topology();
            groups.put(g.name(), new dev.ballast.rules.GroupConfig(g.name(), t.master(), t.replicas(), g.flavour()));
        }
        return c.withGroups(groups);
    }

    ClusterConfig config(long maxLagMs) {
        return yaml(maxLagMs).config();
    }

    /** Ids the writers insert, above the loaded ones, unique across the whole class. */
    final AtomicLong nextId = new AtomicLong(100_000_000L);

    final List<List<String>> bumped = Collections.synchronizedList(new ArrayList<>());

    SchemaChange change(long maxLagMs) {
        // the real schema version znode: the running data source and proxy reload, and apply waits for them
        ZkSchemaVersions real = new ZkSchemaVersions(client, config(maxLagMs), "SchemaChangeTest");
        return new SchemaChange(config(maxLagMs), client, tables -> {
            bumped.add(tables);
            return real.bump(tables);
        }, line -> System.out.println("notice: " + line), 15_000);
    }

    /** 4 writers and 4 readers through jdbc:ballast while {@code body} runs; the lag every 100 ms of every replica. */
    Outcome underLoad(String name, Body body) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        AtomicLong ok = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            threads.add(new Thread(() -> {
                while (!stop.get()) {
                    try (Connection c = ds.getConnection()) {
                        if (ThreadLocalRandom.current().nextBoolean()) {
                            try (PreparedStatement p = c.prepareStatement("INSERT INTO t_item (id, k, pad) VALUES (?, ?, ?)")) {
                                p.setLong(1, nextId.incrementAndGet());
                                p.setInt(2, 1);
                                p.setString(3, "w");
                                p.executeUpdate();
                            }
                        } else {
                            try (PreparedStatement p = c.prepareStatement("UPDATE t_item SET k = k + 1 WHERE id = ?")) {
                                p.setLong(1, ThreadLocalRandom.current().nextLong(ROWS * 4L));
                                p.executeUpdate();
                            }
                        }
                        ok.incrementAndGet();
                    } catch (Exception e) {
                        errors.add("writer: " + e);
                    }
                }
            }, "writer-" + w));
            threads.add(new Thread(() -> {
                while (!stop.get()) {
                    try (Connection c = ds.getConnection();
                         PreparedStatement p = c.prepareStatement("SELECT id, k, pad FROM t_item WHERE id = ?")) {
                        p.setLong(1, ThreadLocalRandom.current().nextLong(ROWS * 4L));
                        try (ResultSet rs = p.executeQuery()) {
                            if (!rs.next()) {
                                errors.add("reader: no row");
                            }
                        }
                        ok.incrementAndGet();
                    } catch (Exception e) {
                        errors.add("reader: " + e);
                    }
                }
            }, "reader-" + w));
        }
        List<Long> lags = Collections.synchronizedList(new ArrayList<>());
        // the probe follows the topology in ZooKeeper: after a rolling change's switchover it measures the new master's
        // replicas, not the old master's
        java.util.concurrent.atomic.AtomicReference<HealthProbe> probes = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<String> probed = new java.util.concurrent.atomic.AtomicReference<>();
        ClusterConfig first = liveConfig();
        probed.set(first.groups().toString());
        probes.set(new HealthProbe(first));
        probes.get().start();
        Thread sampler = new Thread(() -> {
            while (!stop.get()) {
                ClusterConfig now = liveConfig();
                if (!now.groups().toString().equals(probed.get())) {
                    HealthProbe fresh = new HealthProbe(now);
                    fresh.start();
                    probes.getAndSet(fresh).close();
                    probed.set(now.groups().toString());
                }
                long max = 0;
                for (String g : List.of("g0", "g1")) {
                    for (ReplicaStatus r : probes.get().group(g).replicas().values()) {
                        max = Math.max(max, r.lagMillis());
                    }
                }
                lags.add(max);
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        threads.forEach(Thread::start);
        Thread.sleep(1000); // the load runs before the change starts
        sampler.start();
        long start = System.nanoTime();
        Object result;
        try {
            result = body.run();
        } finally {
            long ms = (System.nanoTime() - start) / 1_000_000;
            Thread.sleep(500);
            stop.set(true);
            for (Thread t : threads) {
                t.join(30_000);
            }
            sampler.join(5_000);
            probes.get().close();
            List<Long> sorted = new ArrayList<>(lags);
            Collections.sort(sorted);
            String line = String.format("%s: %d ms, %d queries, %d failed, replica lag p50 %d ms, p99 %d ms, max %d ms"
                            + " (%d samples)", name, ms, ok.get(), errors.size(), pct(sorted, 50), pct(sorted, 99),
                    sorted.isEmpty() ? -1 : sorted.get(sorted.size() - 1), sorted.size());
            figures.add(line);
            System.out.println("FIGURE " + line);
        }
        return new Outcome(result, new ArrayList<>(errors), lags);
    }

    static long pct(List<Long> sorted, int p) {
        return sorted.isEmpty() ? -1 : sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    interface Body {
        Object run() throws Exception;
    }

    record Outcome(Object result, List<String> errors, List<Long> lags) {
    }

    Operation apply(SchemaChange sc, String id, String sql, Strategy expected) throws Exception {
        SchemaPlan plan = sc.plan(sql, Optional.empty(), false);
        System.out.print(plan.render());
        assertEquals(expected, plan.statements().get(0).strategy(), plan.render());
        sc.create(id, plan, "test");
        return sc.run(id, Progress.plain(System.out));
    }

    @Test
    @Order(1)
    void badInputIsRefusedAndChangesNothing() throws Exception {
        try (SchemaChange sc = change(1000)) {
            assertTrue(sc.diff().clean(), sc.diff().render());
            for (String bad : List.of("DELETE FROM t_item", "ALTER TABLE t_nope ADD COLUMN x INT", "ALTER TABLE t_item ADD",
                    "DROP TABLE t_item", "ALTER TABLE t_item ADD COLUMN x INT, ALGORITHM=COPY")) {
                SchemaException e = assertThrows(SchemaException.class, () -> sc.plan(bad, Optional.empty(), false), bad);
                assertTrue(e.getMessage().contains("nothing was changed"), e.getMessage());
            }
            // a forced strategy the server cannot do: an index is not instant in InnoDB
            SchemaException e = assertThrows(SchemaException.class,
                    () -> sc.plan("CREATE INDEX i_x ON t_item (k)", Optional.of(Strategy.INSTANT), false));
            assertTrue(e.getMessage().contains("ALGORITHM=INSTANT"), e.getMessage());
            assertTrue(sc.diff().clean(), "the probes' scratch tables left nothing behind: " + sc.diff().render());
            assertTrue(new OperationStore(client, config(1000).failover().clusterPath("shop")).list().isEmpty());
        }
    }

    @Test
    @Order(2)
    void aColumnAddedInstantlyUnderLoadWithNoFailedQuery() throws Exception {
        try (SchemaChange sc = change(1000)) {
            Outcome o = underLoad("instant ADD COLUMN note", () -> apply(sc, "instant-1",
                    "ALTER TABLE t_item ADD COLUMN note VARCHAR(32) NULL", Strategy.INSTANT));
            Operation op = (Operation) o.result();
            assertEquals(Operation.State.DONE, op.state(), op.reason());
            assertEquals(List.of(), o.errors());
            assertTrue(bumped.contains(List.of("t_item")), "schema version bumped after the statement: " + bumped);
            // apply has returned: a running BallastDataSource and a running proxy use the new column at once (first
            // attempt; ShardingSphere refuses an INSERT naming a column it has not loaded)
            long viaDs = nextId.incrementAndGet();
            long viaProxy = nextId.incrementAndGet();
            try (Connection c = ds.getConnection(); java.sql.Statement st = c.createStatement()) {
                assertEquals(1, st.executeUpdate("INSERT INTO t_item (id, k, pad, note) VALUES (" + viaDs + ", 1, 'p', 'ds')"));
            }
            try (Connection c = new MariaDbDataSource("jdbc:mariadb://127.0.0.1:" + proxy.port() + "/" + bed.database()
                    + "?user=px&password=px_pw&connectTimeout=60000").getConnection(); java.sql.Statement st = c.createStatement()) {
                assertEquals(1, st.executeUpdate("INSERT INTO t_item (id, k, pad, note) VALUES (" + viaProxy + ", 1, 'p', 'px')"));
                try (ResultSet rs = st.executeQuery("SELECT /* ballast:master */ note FROM t_item WHERE id = " + viaDs)) {
                    assertTrue(rs.next());
                    assertEquals("ds", rs.getString(1));
                }
            }
            String sync = op.steps().stream().map(Step::output).filter(out -> out.contains("schema version")).findFirst()
                    .orElseThrow(() -> new AssertionError("no step reports the schema version: " + op.steps()));
            assertTrue(sync.contains("2 data planes reloaded [t_item]"), "the data source and the proxy reported the reload: "
                    + sync);
            figures.add("instant ADD COLUMN: " + sync);
            SchemaDiff.Report diff = sc.diff();
            assertTrue(diff.clean(), diff.render());
            for (ReplicaGroupBed g : bed.groups()) {
                for (MariaDbNode n : g.nodes()) {
                    int i = g.name().equals("g0") ? 0 : 2;
                    assertEquals(1, n.query("SELECT COUNT(*) AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='"
                            + TestBed.DATABASE + "' AND TABLE_NAME='t_item_" + i + "' AND COLUMN_NAME='note'").size());
                }
            }
        }
    }

    @Test
    @Order(3)
    void anIndexAddedOnlineThrottledAndUnthrottledWithNoFailedQuery() throws Exception {
        Outcome on;
        try (SchemaChange sc = change(1000)) {
            on = underLoad("online ADD INDEX i_k, throttle on (maxLagMs 1000)", () -> apply(sc, "online-on",
                    "CREATE INDEX i_k ON t_item (k)", Strategy.ONLINE));
        }
        Outcome off;
        try (SchemaChange sc = change(0)) {
            off = underLoad("online ADD INDEX i_pad, throttle off (maxLagMs 0)", () -> apply(sc, "online-off",
                    "ALTER TABLE t_item ADD INDEX i_pad (pad(20), k)", Strategy.ONLINE));
        }
        // binlog_alter_two_phase: replicas that apply in parallel start the ALTER when the master does
        setParallelThreads(4);
        Outcome twoPhase;
        try (SchemaChange sc = change(0)) {
            twoPhase = underLoad("online ADD INDEX i_two, throttle off, replicas slave_parallel_threads=4 + binlog_alter_two_phase",
                    () -> {
                        SchemaPlan plan = sc.plan("ALTER TABLE t_item ADD INDEX i_two (k, id)", Optional.empty(), false);
                        assertTrue(plan.statements().get(0).reason().contains("logged in two phases"), plan.render());
                        return apply(sc, "online-two-phase", "ALTER TABLE t_item ADD INDEX i_two (k, id)", Strategy.ONLINE);
                    });
        } finally {
            setParallelThreads(0);
        }
        for (Outcome o : List.of(on, off, twoPhase)) {
            Operation op = (Operation) o.result();
            assertEquals(Operation.State.DONE, op.state(), op.reason());
            assertEquals(List.of(), o.errors());
        }
        try (SchemaChange sc = change(1000)) {
            SchemaDiff.Report diff = sc.diff();
            assertTrue(diff.clean(), diff.render());
        }
    }

    MariaDbNode node(String address) {
        return bed.nodes().stream().filter(n -> n.address().equals(address)).findFirst().orElseThrow();
    }

    void setParallelThreads(int n) {
        for (ReplicaGroupBed g : bed.groups()) {
            for (MariaDbNode r : g.replicas()) {
                r.execute("STOP SLAVE", "SET GLOBAL slave_parallel_threads=" + n, "SET GLOBAL slave_parallel_mode='optimistic'",
                        "START SLAVE");
            }
        }
    }

    @Test
    @Order(4)
    void aRollingChangeReplicasFirstThenSwitchoverThenTheOldMasterWithNoFailedQuery() throws Exception {
        List<String> mastersBefore = List.of(bed.group(0).master().address(), bed.group(1).master().address());
        try (SchemaChange sc = change(1000)) {
            Outcome o = underLoad("rolling ADD INDEX i_roll (forced: every replica drained and changed with sql_log_bin=0,"
                    + " switchover, old master)", () -> {
                SchemaPlan plan = sc.plan("CREATE INDEX i_roll ON t_item (pad(8))", Optional.of(Strategy.ROLLING), false);
                System.out.print(plan.render());
                sc.create("rolling-1", plan, "test");
                return sc.run("rolling-1", Progress.plain(System.out));
            });
            Operation op = (Operation) o.result();
            assertEquals(Operation.State.DONE, op.state(), op.reason());
            assertEquals(List.of(), o.errors());
            SchemaDiff.Report diff = sc.diff();
            assertTrue(diff.clean(), diff.render());
            List<String> mastersAfter = List.of(sc.group("g0").master().toString(), sc.group("g1").master().toString());
            assertTrue(!mastersAfter.get(0).equals(mastersBefore.get(0)) && !mastersAfter.get(1).equals(mastersBefore.get(1)),
                    "each group switched over: " + mastersBefore + " -> " + mastersAfter);
            for (MariaDbNode n : bed.nodes()) {
                assertEquals(2, n.query("SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='" + TestBed.DATABASE
                        + "' AND INDEX_NAME='i_roll' AND SEQ_IN_INDEX=1").size(), n.address() + " has i_roll on both its"
                        + " physical tables");
            }
        }
    }

    @Test
    @Order(5)
    void theCliKilledMidWayAndResumedEndsInTheSameState() throws Exception {
        Path file = Files.writeString(dir.resolve("change.sql"), "ALTER TABLE t_item ADD INDEX i_k2 (k, pad(10));\n"
                + "ALTER TABLE t_item ADD COLUMN note2 INT NULL;\n");
        Path config = yaml(1000).writeTo(dir.resolve("schema.yaml"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = dir.resolve("schema-apply.log");
        Process p = new ProcessBuilder(java, "-Xmx256m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                "dev.ballast.cli.BallastCli", "schema", "apply", "--config", config.toString(), "--file", file.toString(),
                "--id", "killed-1").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        OperationStore store = new OperationStore(client, config(1000).failover().clusterPath("shop"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        Operation seen = null;
        while (System.nanoTime() < deadline) {
            seen = store.read("killed-1").map(OperationStore.Versioned::operation).orElse(null);
            if (seen != null && seen.steps().get(0).state() == Step.State.DONE
                    && seen.steps().get(1).state() == Step.State.RUNNING) {
                break;
            }
            if (!p.isAlive()) {
                break;
            }
            Thread.sleep(20);
        }
        assertTrue(p.isAlive(), "the CLI ended before it could be killed: " + Files.readString(log));
        p.destroyForcibly(); // SIGKILL
        p.waitFor(10, TimeUnit.SECONDS);
        Operation killed = store.get("killed-1").operation();
        figures.add("killed at: " + killed.steps().stream().map(s -> s.state().toString()).toList());
        try (SchemaChange sc = change(1000)) {
            Outcome o = underLoad("resume after kill -9", () -> sc.run("killed-1", Progress.plain(System.out)));
            Operation done = (Operation) o.result();
            assertEquals(Operation.State.DONE, done.state(), done.reason() + "\n" + Files.readString(log));
            assertEquals(List.of(), o.errors());
            SchemaDiff.Report diff = sc.diff();
            assertTrue(diff.clean(), diff.render());
            for (int i = 0; i < 4; i++) {
                MariaDbNode master = node(sc.group(i < 2 ? "g0" : "g1").master().toString());
                assertEquals(1, master.query("SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='"
                        + TestBed.DATABASE + "' AND TABLE_NAME='t_item_" + i + "' AND INDEX_NAME='i_k2' AND SEQ_IN_INDEX=1").size());
                assertEquals(1, master.query("SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='"
                        + TestBed.DATABASE + "' AND TABLE_NAME='t_item_" + i + "' AND COLUMN_NAME='note2'").size());
            }
        }
    }
}
