package dev.ballast.it.failover;

import dev.ballast.failover.Monitor;
import dev.ballast.failover.Switchover;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.jdbc.BallastDataSource;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import dev.ballast.rules.ConfigException;
import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;
import dev.ballast.topology.LiveTopology;
import dev.ballast.topology.TopologyStore;
import dev.ballast.topology.TreeAcl;
import dev.ballast.topology.ZkRole;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ZooKeeper ACLs (README "ACL set-up") against a real ZooKeeper and a real replica group: who may change a topology,
 * who may read it, and that the control plane and the data plane still do their work with them. Each scenario has its
 * own {@code zkRoot}, so the trees do not meet; the servers are shared, and the one scenario that moves the master runs
 * last.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ZooKeeperAclTest {

    static final String ADMIN_VAR = "BALLAST_IT_ZK_ADMIN_PASSWORD";
    static final String READER_VAR = "BALLAST_IT_ZK_READER_PASSWORD";
    /** A control plane's host: both secrets. */
    static final Map<String, String> CONTROL_ENV = Map.of(ADMIN_VAR, "admin-secret", READER_VAR, "reader-secret");
    /** A data plane's host: the reader's secret only. */
    static final Map<String, String> DATA_ENV = Map.of(READER_VAR, "reader-secret");

    static FailoverBed bed;

    @BeforeAll
    static void start() {
        bed = FailoverBed.start("acl", 1, FailoverChaosTest.TABLES);
    }

    @AfterAll
    static void stop() {
        if (bed != null) {
            bed.close();
        }
    }

    /** The {@code failover:} lines of a tree under {@code zkRoot}, protected by the two credentials. */
    static String[] aclLines(String zkRoot, String... more) {
        List<String> lines = new ArrayList<>(List.of("  zkRoot: " + zkRoot, "  antiFlapWindowMs: 0", "  acl:",
                "    admin:", "      user: ballast-admin", "      password: ${" + ADMIN_VAR + "}",
                "    reader:", "      user: ballast-reader", "      password: ${" + READER_VAR + "}"));
        lines.addAll(List.of(more));
        return lines.toArray(String[]::new);
    }

    static ClusterConfig config(Map<String, String> env, String... failoverLines) {
        return ClusterConfigLoader.parse(bed.yaml(failoverLines).text(), env::get);
    }

    /** A client with no credential at all, as any process that reaches ZooKeeper. */
    static CuratorFramework anonymous() throws InterruptedException {
        CuratorFramework c = CuratorFrameworkFactory.newClient(bed.zookeeper().connectString(), 10_000, 3_000,
                new RetryOneTime(100));
        c.start();
        assertTrue(c.blockUntilConnected(10, TimeUnit.SECONDS));
        return c;
    }

    static CuratorFramework connected(ClusterConfig config, ZkRole role) throws InterruptedException {
        CuratorFramework c = TopologyStore.connect(config, role);
        assertTrue(c.blockUntilConnected(10, TimeUnit.SECONDS));
        return c;
    }

    static void assertNoAuth(String what, Executable change) {
        assertThrows(KeeperException.NoAuthException.class, change, what);
    }

    static byte[] json(GroupTopology t) {
        return t.toJson().getBytes(StandardCharsets.UTF_8);
    }

    /** The default, and the hole: without {@code failover.acl} any client redirects every data plane's writes. */
    @Test
    @Order(1)
    void withoutAclAnUnauthenticatedClientRedirectsTheDataPlanesWrites() throws Exception {
        ClusterConfig open = bed.config("  zkRoot: /acl-open");
        try (CuratorFramework admin = connected(open, ZkRole.CONTROL_PLANE); CuratorFramework anon = anonymous();
             LiveTopology dataPlane = LiveTopology.open(open)) {
            TopologyStore store = TopologyStore.of(admin, open);
            GroupTopology t = store.bootstrap(open).get(0);
            GroupTopology evil = new GroupTopology("g0", NodeAddress.parse("127.0.0.1:9"), t.replicas(), t.epoch() + 1,
                    GroupTopology.Phase.SERVING);
            anon.setData().forPath(store.topologyPath("g0"), json(evil));
            assertEquals(evil, dataPlane.awaitChange("g0", t, 10_000), "the data plane now sends writes to 127.0.0.1:9");
            assertEquals(ZooDefs.Ids.OPEN_ACL_UNSAFE, admin.getACL().forPath(store.topologyPath("g0")));
        }
    }

    /** With ACLs, neither a data plane's credential nor no credential can change, delete or add a topology. */
    @Test
    @Order(2)
    void readerAndUnauthenticatedClientsGetNoAuthOnEveryChangeOfTheTree() throws Exception {
        ClusterConfig control = config(CONTROL_ENV, aclLines("/acl-guarded"));
        ClusterConfig data = config(DATA_ENV, aclLines("/acl-guarded"));
        try (Monitor monitor = new Monitor(control, "m-guarded", null).start();
             CuratorFramework reader = connected(data, ZkRole.DATA_PLANE); CuratorFramework anon = anonymous();
             CuratorFramework admin = connected(control, ZkRole.CONTROL_PLANE)) {
            TopologyStore store = TopologyStore.of(admin, control);
            String topology = store.topologyPath("g0");
            FailoverBed.await("the monitor's bootstrap", Duration.ofSeconds(20), () -> store.read("g0").isPresent());
            TopologyStore.Versioned before = store.read("g0").orElseThrow();
            GroupTopology t = before.topology();
            GroupTopology evil = new GroupTopology("g0", NodeAddress.parse("127.0.0.1:9"), t.replicas(), t.epoch() + 1,
                    GroupTopology.Phase.SERVING);
            String cluster = "/acl-guarded/acl";
            // Maintenance marks (issue 12): the control plane sets them under the cluster's tree, so they get its ACL.
            NodeAddress drainedNode = t.replicas().get(0);
            store.drain(drainedNode, "acl test", "ZooKeeperAclTest");
            String mark = store.maintenancePath(drainedNode);
            String otherMark = store.maintenancePath(NodeAddress.parse("127.0.0.1:9"));
            for (Map.Entry<String, CuratorFramework> e : Map.of("reader", reader, "anonymous", anon).entrySet()) {
                String who = e.getKey() + ": ";
                CuratorFramework c = e.getValue();
                assertNoAuth(who + "drain a node", () -> c.create().forPath(otherMark, json(evil)));
                assertNoAuth(who + "undrain a node", () -> c.delete().forPath(mark));
                assertNoAuth(who + "rewrite a mark", () -> c.setData().forPath(mark, new byte[1]));
            }
            assertEquals(java.util.Set.of(drainedNode), TopologyStore.of(reader, data).drained().keySet(),
                    "the data plane reads the marks");
            assertTrue(store.undrain(drainedNode));
            for (Map.Entry<String, CuratorFramework> e : Map.of("reader", reader, "anonymous", anon).entrySet()) {
                String who = e.getKey() + ": ";
                CuratorFramework c = e.getValue();
                assertNoAuth(who + "setData topology", () -> c.setData().forPath(topology, json(evil)));
                assertNoAuth(who + "setData topology at its version",
                        () -> c.setData().withVersion(before.version()).forPath(topology, json(evil)));
                assertNoAuth(who + "delete topology", () -> c.delete().forPath(topology));
                assertNoAuth(who + "create a sibling topology", () -> c.create().forPath(store.topologyPath("g9"), json(evil)));
                assertNoAuth(who + "open the topology's ACL",
                        () -> c.setACL().withACL(ZooDefs.Ids.OPEN_ACL_UNSAFE).forPath(topology));
                assertNoAuth(who + "delete the topology parent", () -> c.delete().forPath(store.topologyRoot()));
                assertNoAuth(who + "delete the cluster's tree", () -> c.delete().forPath(cluster));
                assertNoAuth(who + "replace the cluster's data", () -> c.setData().forPath(cluster, json(evil)));
                assertNoAuth(who + "create next to the cluster", () -> c.create().forPath("/acl-guarded/acl2"));
                assertNoAuth(who + "join the monitors' election", () -> c.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL)
                        .forPath(store.leaderPath() + "/_c_x-latch-"));
                assertNoAuth(who + "setData on the workers parent", () -> c.setData().forPath(cluster + "/workers", new byte[1]));
            }
            assertEquals(before, store.read("g0").orElseThrow(), "the topology is unchanged");

            // Reading: the reader may (the data plane's watch), a client without credential may not (worldReadable: false).
            assertArrayEquals(admin.getData().forPath(topology), reader.getData().forPath(topology));
            assertTrue(reader.getChildren().forPath(cluster).contains("topology"));
            assertNoAuth("anonymous read", () -> anon.getData().forPath(topology));
            assertNoAuth("anonymous list", () -> anon.getChildren().forPath(cluster));

            // The one thing a data plane creates: ephemeral leases under workers/, which only the reader credential may add.
            String lease = reader.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath(cluster + "/workers/lease-",
                    "7".getBytes(StandardCharsets.UTF_8));
            assertEquals(1, reader.getACL().forPath(lease).size(), "reader ALL, nothing for anyone else");
            assertNoAuth("anonymous lease", () -> anon.create().withMode(CreateMode.EPHEMERAL).forPath(cluster + "/workers/x"));
            assertNoAuth("anonymous rewrites a lease", () -> anon.setData().forPath(lease, new byte[1]));
            assertNoAuth("anonymous deletes a lease", () -> anon.delete().forPath(lease));
            reader.delete().forPath(lease);
            String second = reader.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath(cluster + "/workers/lease-");
            admin.delete().forPath(second); // the control plane may clear a stale lease (DELETE on the parent)
        }
    }

    /** {@code worldReadable: true}: a client without credential reads (host:port only), and still changes nothing. */
    @Test
    @Order(3)
    void aWorldReadableTreeLetsUnauthenticatedClientsReadButNotWrite() throws Exception {
        ClusterConfig control = config(CONTROL_ENV, aclLines("/acl-world", "    worldReadable: true"));
        try (CuratorFramework admin = connected(control, ZkRole.CONTROL_PLANE); CuratorFramework anon = anonymous()) {
            TreeAcl.forConfig(control, ZkRole.CONTROL_PLANE).orElseThrow().secure(admin);
            TopologyStore store = TopologyStore.of(admin, control);
            GroupTopology t = store.bootstrap(control).get(0);
            assertEquals(t, GroupTopology.fromJson(new String(anon.getData().forPath(store.topologyPath("g0")),
                    StandardCharsets.UTF_8)));
            assertNoAuth("anonymous setData", () -> anon.setData().forPath(store.topologyPath("g0"), new byte[1]));
            assertNoAuth("anonymous delete", () -> anon.delete().forPath(store.topologyPath("g0")));
        }
    }

    /** Migration: the open tree of an older Ballast is protected when a monitor with ACLs starts; a second run changes nothing. */
    @Test
    @Order(4)
    void anOpenTreeIsSecuredWhenTheMonitorStartsAndSecuringAgainChangesNothing() throws Exception {
        ClusterConfig legacy = bed.config("  zkRoot: /acl-legacy", "  antiFlapWindowMs: 0");
        ClusterConfig control = config(CONTROL_ENV, aclLines("/acl-legacy"));
        try (Monitor old = new Monitor(legacy, "m-old", null).start(); CuratorFramework plain = connected(legacy, ZkRole.CONTROL_PLANE)) {
            TopologyStore store = TopologyStore.of(plain, legacy);
            FailoverBed.await("the old monitor's tree", Duration.ofSeconds(20), () -> store.read("g0").isPresent()
                    && !store.health(store.read("g0").orElseThrow().topology().master().toString()).isEmpty());
            store.appendRecovery("{\"kind\":\"switchover\",\"group\":\"g0\"}");
        }
        try (CuratorFramework anon = anonymous()) {
            String topology = "/acl-legacy/acl/topology/g0";
            anon.setData().forPath(topology, anon.getData().forPath(topology)); // open: anyone could rewrite it
            try (Monitor monitor = new Monitor(control, "m-new", null).start();
                 CuratorFramework admin = connected(control, ZkRole.CONTROL_PLANE)) {
                assertNoAuth("anonymous setData after securing", () -> anon.setData().forPath(topology, new byte[1]));
                String audit = "/acl-legacy/acl/recoveries/" + admin.getChildren().forPath("/acl-legacy/acl/recoveries").get(0);
                assertNoAuth("anonymous delete of an audit record", () -> anon.delete().forPath(audit));
                TreeAcl acl = TreeAcl.forConfig(control, ZkRole.CONTROL_PLANE).orElseThrow();
                int nodes = 0;
                Deque<String> pending = new ArrayDeque<>(List.of("/acl-legacy", "/acl-legacy/acl"));
                while (!pending.isEmpty()) {
                    String path = pending.pop();
                    if (!path.equals("/acl-legacy")) {
                        admin.getChildren().forPath(path).forEach(c -> pending.push(path + "/" + c));
                    }
                    assertEquals(new HashSet<>(acl.getAclForPath(path)), new HashSet<>(admin.getACL().forPath(path)), path);
                    nodes++;
                }
                assertTrue(nodes >= 8, "root, cluster, topology/g0, recoveries/r-, workers, monitor/leader, ...: " + nodes);
                List<ACL> workers = admin.getACL().forPath("/acl-legacy/acl/workers");
                assertTrue(workers.stream().anyMatch(a -> a.getId().getId().startsWith("ballast-reader:")
                        && a.getPerms() == (ZooDefs.Perms.READ | ZooDefs.Perms.CREATE | ZooDefs.Perms.DELETE)), workers.toString());
                TreeAcl.Secured again = acl.secure(admin);
                assertEquals(0, again.changed(), "idempotent: " + again);
                assertTrue(again.checked() >= nodes - 1, again.toString());
            }
        }
    }

    /** Two clusters on one zkRoot with different admin credentials: the second is refused, and told the way out. */
    @Test
    @Order(5)
    void aSecondAdminCredentialOnASharedRootIsRefusedNamingTheWayOut() throws Exception {
        ClusterConfig first = config(CONTROL_ENV, aclLines("/acl-shared"));
        String[] otherLines = aclLines("/acl-shared");
        otherLines[4] = "      user: other-admin";
        ClusterConfig other = ClusterConfigLoader.parse(dev.ballast.it.ClusterYaml.forBed("other", bed.bed())
                .with(FailoverChaosTest.TABLES).with(bed.failoverSettings(otherLines)).text(), CONTROL_ENV::get);
        try (CuratorFramework a = connected(first, ZkRole.CONTROL_PLANE); CuratorFramework b = connected(other, ZkRole.CONTROL_PLANE)) {
            TreeAcl.forConfig(first, ZkRole.CONTROL_PLANE).orElseThrow().secure(a);
            TopologyStore.TopologyException e = assertThrows(TopologyStore.TopologyException.class,
                    () -> TreeAcl.forConfig(other, ZkRole.CONTROL_PLANE).orElseThrow().secure(b));
            assertTrue(e.getMessage().startsWith("[cluster=other] /acl-shared is protected by another ZooKeeper credential")
                    && e.getMessage().contains("must share failover.acl.admin, or give this cluster its own zkRoot"), e.getMessage());
            assertEquals(null, a.checkExists().forPath("/acl-shared/other"));
        }
    }

    /** A process whose secret is missing from its environment fails at start, naming the key and the variable. */
    @Test
    @Order(6)
    void aMissingSecretNamesTheKeyAndTheVariable() {
        ClusterConfig data = config(Map.of(), aclLines("/acl-guarded"));
        ConfigException e = assertThrows(ConfigException.class, () -> LiveTopology.open(data));
        assertEquals("failover.acl.reader.password: environment variable " + READER_VAR + " is not set; set it or write ${"
                + READER_VAR + ":-default}", e.getMessage());
        ConfigException c = assertThrows(ConfigException.class,
                () -> TopologyStore.connect(config(DATA_ENV, aclLines("/acl-guarded"))).close());
        assertTrue(c.getMessage().startsWith("failover.acl.admin.password: environment variable " + ADMIN_VAR), c.getMessage());
    }

    /**
     * The control plane works under ACLs and a data plane that holds only the reader's secret follows it: a switchover
     * (the CLI's path) and a failover (the monitor's: leader latch, health records, audit log, new epoch), each followed
     * by a write through BallastDataSource that lands on the new master.
     */
    @Test
    @Order(7)
    void controlPlaneSwitchesOverAndFailsOverWhileTheReaderDataPlaneFollows() throws Exception {
        ClusterConfig control = config(CONTROL_ENV, aclLines("/acl-live"));
        ClusterConfig data = config(DATA_ENV, aclLines("/acl-live"));
        try (Monitor monitor = new Monitor(control, "m-live", null).start();
             CuratorFramework admin = connected(control, ZkRole.CONTROL_PLANE)) {
            TopologyStore store = TopologyStore.of(admin, control);
            FailoverBed.await("the monitor's bootstrap and leadership", Duration.ofSeconds(30),
                    () -> store.read("g0").isPresent() && monitor.acting());
            try (BallastDataSource ds = new BallastDataSource(data)) {
                insert(ds, "CREATE TABLE IF NOT EXISTS t_ack (id BIGINT PRIMARY KEY, writer INT NOT NULL)");
                insert(ds, "INSERT INTO t_ack VALUES (1, 1)");
                GroupTopology start = ds.topology().get("g0");

                Switchover.Result r = new Switchover(control, store, "acl-test").run("g0", Optional.empty());
                assertEquals(start.epoch() + 1, r.after().epoch());
                FailoverBed.await("the data plane at the switchover's epoch", Duration.ofSeconds(10),
                        () -> ds.topology().get("g0").epoch() == r.after().epoch());
                insert(ds, "INSERT INTO t_ack VALUES (2, 1)");
                assertEquals("1", count(bed.node(r.after().master()), 2));

                MariaDbNode master = bed.node(r.after().master());
                int audits = store.recoveries().size();
                master.crash();
                FailoverBed.await("the monitor's failover", Duration.ofSeconds(30),
                        () -> store.read("g0").orElseThrow().topology().epoch() == r.after().epoch() + 1);
                GroupTopology failedOver = store.read("g0").orElseThrow().topology();
                assertTrue(store.recoveries().size() > audits, "the failover's audit record was written");
                FailoverBed.await("the data plane at the failover's epoch", Duration.ofSeconds(10),
                        () -> ds.topology().get("g0").epoch() == failedOver.epoch());
                FailoverBed.await("a write after the failover", Duration.ofSeconds(15), () -> {
                    try {
                        insert(ds, "INSERT INTO t_ack VALUES (3, 1)");
                        return true;
                    } catch (Exception retry) {
                        return false;
                    }
                });
                assertEquals("1", count(bed.node(failedOver.master()), 3));
            }
        }
    }

    static void insert(BallastDataSource ds, String sql) throws Exception {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    static String count(MariaDbNode node, long id) {
        return node.query("SELECT COUNT(*) AS n FROM " + bed.bed().database() + ".t_ack WHERE id = " + id).get(0).get("n");
    }
}
