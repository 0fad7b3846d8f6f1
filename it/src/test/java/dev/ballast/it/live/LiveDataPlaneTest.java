package dev.ballast.it.live;

import dev.ballast.cli.BallastCli;
import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.ReplicaGroupBed;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.it.testbed.ZooKeeperBed;
import dev.ballast.jdbc.BallastDataSource;
import dev.ballast.proxy.ProxyServer;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.topology.PublishedConfig;
import dev.ballast.topology.TopologyStore;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mariadb.jdbc.MariaDbDataSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13, live data planes, on real servers (2 groups x (master + replica) of MariaDB, a real ZooKeeper): a running
 * {@link BallastDataSource} and a running proxy use a column added on the servers as soon as the schema version is
 * bumped, and a table added by {@code ballast config push} (and created on the servers) as soon as the push is seen;
 * the CLI refuses an invalid config; a data plane that gets a config it cannot build (written to ZooKeeper directly,
 * past the CLI) keeps the one in force.
 */
@Timeout(value = 480, unit = TimeUnit.SECONDS)
class LiveDataPlaneTest {

    static final String ORDERS = """
            tables:
              t_order:
                shardingColumn: user_id
                tablesPerGroup: 2
                algorithm: {type: hash-mod}
            """;
    static final String WITH_ITEMS = ORDERS + """
              t_item:
                group: g1
            """;

    TestBed bed;
    ZooKeeperBed zk;
    CuratorFramework admin;
    TopologyStore store;
    BallastDataSource ds;
    ProxyServer proxy;
    Path dir;

    @BeforeEach
    void start() throws Exception {
        bed = TestBed.start(2, 1);
        zk = ZooKeeperBed.start();
        dir = Files.createTempDirectory("ballast-live");
        for (ReplicaGroupBed g : bed.groups()) {
            int first = g.name().equals("g0") ? 0 : 2;
            for (int i = first; i < first + 2; i++) {
                g.master().execute("CREATE TABLE " + bed.database() + ".t_order_" + i
                        + " (order_id BIGINT PRIMARY KEY, user_id INT NOT NULL, v INT NOT NULL)");
            }
        }
        bed.awaitReplication();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (ds != null) {
            ds.close();
        }
        if (admin != null) {
            admin.close();
        }
        if (zk != null) {
            zk.close();
        }
        if (bed != null) {
            bed.close();
        }
    }

    ClusterYaml yaml(String tables) {
        return ClusterYaml.forBed("live", bed).with(tables)
                .with("failover:\n  zookeeper: " + zk.connectString() + "\n  followConfig: true\n")
                .with(ClusterYaml.proxySection("app", "pw", false));
    }

    void startDataPlanes(ClusterConfig config) throws Exception {
        admin = TopologyStore.connect(config);
        store = TopologyStore.of(admin, config);
        assertTrue(store.awaitConnected(10_000));
        ds = new BallastDataSource(config);
        proxy = new ProxyServer(config).start();
    }

    Connection viaProxy() throws SQLException {
        return viaProxy("");
    }

    Connection viaProxy(String options) throws SQLException {
        return new MariaDbDataSource("jdbc:mariadb://127.0.0.1:" + proxy.port() + "/" + bed.database()
                + "?user=app&password=pw&connectTimeout=60000" + options).getConnection();
    }

    /** A point read prepared on the server: the proxy relays it (proxy.relay) to the data node. */
    static int relayedRead(Connection c, int userId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM t_order WHERE user_id = ?")) {
            ps.setInt(1, userId);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                return rs.getInt(1);
            }
        }
    }

    /** Runs {@code sql} (a plain statement: ShardingSphere's path); null when it worked, else the error. */
    static String attempt(Connection c, String sql) {
        try (Statement s = c.createStatement()) {
            if (s.execute(sql)) {
                try (ResultSet rs = s.getResultSet()) {
                    while (rs.next()) {
                        rs.getObject(1);
                    }
                }
            }
            return null;
        } catch (SQLException e) {
            return e.getSQLState() + " " + e.getMessage();
        }
    }

    /** Polls {@code sql} every 2 ms until it works (at most 60 s: the test machine is shared and loaded); the milliseconds from {@code sinceNanos}. */
    static long untilItWorks(Connection c, String sql, long sinceNanos) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        String last = null;
        while (System.nanoTime() < deadline) {
            last = attempt(c, sql);
            if (last == null) {
                return (System.nanoTime() - sinceNanos) / 1_000_000;
            }
            Thread.sleep(2);
        }
        throw new AssertionError("still failing 60 s later: " + sql + ": " + last);
    }

    @Test
    void aColumnAddedOnTheServersIsUsableThroughShardingSphereAsSoonAsTheSchemaVersionIsBumped() throws Exception {
        startDataPlanes(yaml(ORDERS).config());
        List<String> before = new ArrayList<>();
        try (Connection c = ds.getConnection(); Connection p = viaProxy()) {
            for (int u = 0; u < 8; u++) {
                assertNull(attempt(c, "INSERT INTO t_order (order_id, user_id, v) VALUES (" + u + ", " + u + ", " + u + ")"));
            }
            for (ReplicaGroupBed g : bed.groups()) {
                int first = g.name().equals("g0") ? 0 : 2;
                for (int i = first; i < first + 2; i++) {
                    g.master().execute("ALTER TABLE " + bed.database() + ".t_order_" + i + " ADD COLUMN note VARCHAR(32) NULL");
                }
            }
            bed.awaitReplication();
            String insert = "INSERT INTO t_order (order_id, user_id, v, note) VALUES (%d, %d, 1, 'n%d')";
            String insertDs = String.format(insert, 100, 1, 100);
            String insertProxy = String.format(insert, 101, 2, 101);
            String[] uses = {"SELECT note FROM t_order WHERE user_id = 3", "SELECT user_id, note FROM t_order ORDER BY note, user_id",
                    "UPDATE t_order SET note = 'u' WHERE user_id = 4"};
            // what ShardingSphere, which loaded t_order before the ALTER, makes of the new column without a bump
            String refused = attempt(c, insertDs);
            before.add("INSERT: " + refused);
            for (String sql : uses) {
                before.add(sql + ": " + attempt(c, sql));
            }
            System.out.println("LIVE before the bump, through the data source: " + before);
            assertNotNull(refused, "ShardingSphere refuses an INSERT naming the new column until it reloads t_order");
            assertNotNull(attempt(p, insertProxy), "the proxy too");

            long bumped = System.nanoTime();
            assertEquals(1, store.bumpSchemaVersion(List.of("t_order"), "LiveDataPlaneTest").version());
            long dsMs = untilItWorks(c, insertDs, bumped);
            long proxyMs = untilItWorks(p, insertProxy, bumped);
            System.out.printf("LIVE bump -> first INSERT with the new column working: data source %d ms, proxy %d ms%n",
                    dsMs, proxyMs);
            for (String sql : uses) {
                assertNull(attempt(c, sql), sql);
                assertNull(attempt(p, sql), sql);
            }
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT order_id, note FROM t_order WHERE note IS NOT NULL ORDER BY order_id")) {
                List<String> rows = new ArrayList<>();
                while (rs.next()) {
                    rows.add(rs.getLong(1) + "=" + rs.getString(2));
                }
                assertEquals(List.of("4=u", "100=n100", "101=n101"), rows);
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT note FROM t_order WHERE user_id = ? AND order_id = 100")) {
                ps.setInt(1, 1);
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals("n100", rs.getString(1), "the fast path reads the new column too");
                }
            }

            // a second change, to measure again on a warm data plane
            for (ReplicaGroupBed g : bed.groups()) {
                int first = g.name().equals("g0") ? 0 : 2;
                for (int i = first; i < first + 2; i++) {
                    g.master().execute("ALTER TABLE " + bed.database() + ".t_order_" + i + " ADD COLUMN tag INT NULL");
                }
            }
            bed.awaitReplication();
            String tagged = "SELECT tag FROM t_order WHERE user_id = 5";
            assertNotNull(attempt(c, tagged), "unknown before its bump");
            long again = System.nanoTime();
            assertEquals(2, store.bumpSchemaVersion(List.of("t_order"), "LiveDataPlaneTest").version());
            long dsMs2 = untilItWorks(c, tagged, again);
            long proxyMs2 = untilItWorks(p, tagged, again);
            System.out.printf("LIVE second bump -> first SELECT of the new column working: data source %d ms, proxy %d ms%n",
                    dsMs2, proxyMs2);

            // a bump naming a table the config does not list is ignored (logged); the data plane goes on
            assertEquals(3, store.bumpSchemaVersion(List.of("t_nope"), "LiveDataPlaneTest").version());
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (ds.topology().schemaVersion().version() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(3, ds.topology().schemaVersion().version());
            assertNull(attempt(c, "SELECT note FROM t_order WHERE user_id = 1"));
        }
    }

    int cli(ByteArrayOutputStream out, ByteArrayOutputStream err, String... args) {
        return BallastCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void aTableAddedByAPushIsUsableAtOnceAndAConfigThatCannotBeBuiltIsRefusedOrKeptOut() throws Exception {
        startDataPlanes(yaml(ORDERS).config());
        bed.group(1).master().execute("CREATE TABLE " + bed.database() + ".t_item (id INT PRIMARY KEY, name VARCHAR(20))",
                "INSERT INTO " + bed.database() + ".t_item VALUES (1, 'one')");
        bed.awaitReplication();
        String select = "SELECT name FROM t_item WHERE id = 1";
        try (Connection held = ds.getConnection(); Connection p = viaProxy();
             Connection relayed = viaProxy("&useServerPrepStmts=true")) {
            assertNull(attempt(held, "INSERT INTO t_order (order_id, user_id, v) VALUES (7, 7, 7)"));
            assertEquals(1, relayedRead(relayed, 7));
            String unknown = attempt(held, select);
            assertNotNull(unknown);
            assertTrue(unknown.startsWith("42S02"), unknown);
            assertEquals(0, ds.configVersion());

            // an invalid config: refused by the CLI (exit 2, naming the key); nothing published
            Path bad = yaml(ORDERS.replace("hash-mod", "hsah")).writeTo(dir.resolve("bad.yaml"));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            assertEquals(BallastCli.USAGE, cli(out, err, "config", "push", bad.toString()));
            assertTrue(err.toString(StandardCharsets.UTF_8).contains("tables.t_order.algorithm.type"), err.toString(StandardCharsets.UTF_8));
            assertTrue(store.publishedConfig().isEmpty(), "nothing published");

            // the new table, pushed
            Path good = yaml(WITH_ITEMS).writeTo(dir.resolve("cluster.yaml"));
            out.reset();
            err.reset();
            long pushed = System.nanoTime();
            assertEquals(BallastCli.OK, cli(out, err, "config", "push", good.toString()), err.toString(StandardCharsets.UTF_8));
            long cliMs = (System.nanoTime() - pushed) / 1_000_000;
            assertTrue(out.toString(StandardCharsets.UTF_8).contains("config version 1 published"), out.toString(StandardCharsets.UTF_8));
            {
                long dsMs = -1;
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (System.nanoTime() < deadline) {
                    try (Connection c = ds.getConnection()) {
                        if (attempt(c, select) == null) {
                            dsMs = (System.nanoTime() - pushed) / 1_000_000;
                            break;
                        }
                    }
                    Thread.sleep(5);
                }
                assertTrue(dsMs >= 0, "the data source never took the pushed config");
                long proxyMs = untilItWorks(p, select, pushed);
                System.out.printf("LIVE push (CLI, %d ms) -> first SELECT of the new table working: data source %d ms, proxy %d ms%n",
                        cliMs, dsMs, proxyMs);
                assertEquals(1, ds.configVersion());
            }
            // the connection opened before the push finishes on the config it started with
            assertNull(attempt(held, "SELECT COUNT(*) FROM t_order"), "a connection of the old config still works");
            // a proxy session opened before the push goes on relaying (same servers: the router is kept)
            assertEquals(1, relayedRead(relayed, 7));

            // a config that cannot be built, written past the CLI: the data planes keep version 1
            String broken = yaml(WITH_ITEMS).text().replace("followConfig: true", "followConfig: true\n  noSuchKey: 1");
            PublishedConfig v2 = store.publishConfig(broken, "written by the test", "LiveDataPlaneTest");
            String otherCluster = yaml(WITH_ITEMS).text().replace("name: live", "name: elsewhere");
            PublishedConfig v3 = store.publishConfig(otherCluster, "written by the test", "LiveDataPlaneTest");
            assertEquals(3, v3.version());
            Thread.sleep(1_000);
            assertEquals(1, ds.configVersion(), "neither version 2 (" + v2.version() + ") nor 3 was taken");
            try (Connection c = ds.getConnection()) {
                assertNull(attempt(c, select));
            }
            assertNull(attempt(p, select));

            // and the watch is still alive: a good version 4 is taken
            assertEquals(BallastCli.OK, cli(out, err, "config", "push", good.toString()));
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (ds.configVersion() != 4 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(4, ds.configVersion());
            assertEquals(1, relayedRead(relayed, 7), "still relaying after two swaps");
            held.close();
            Thread.sleep(500); // the old configs close once their last connection has
            assertEquals(1, relayedRead(relayed, 7), "and after the old configs closed");
            try (Connection c = ds.getConnection()) {
                assertNull(attempt(c, select));
            }
            out.reset();
            assertEquals(BallastCli.OK, cli(out, err, "config", "show", "--config", good.toString()));
            assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("# version 4, pushed "), out.toString(StandardCharsets.UTF_8));
            assertTrue(out.toString(StandardCharsets.UTF_8).contains("t_item:"));
            out.reset();
            assertEquals(BallastCli.OK, cli(out, err, "config", "show", "--config", good.toString(), "--version", "2"));
            assertTrue(out.toString(StandardCharsets.UTF_8).contains("noSuchKey"), "every version is kept");
            assertFalse(out.toString(StandardCharsets.UTF_8).contains("name: elsewhere"));
        }
    }
}
