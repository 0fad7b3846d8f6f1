package dev.ballast.samples;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.ReplicaGroupBed;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.it.testbed.TestBedUsers;
import dev.ballast.it.testbed.ZooKeeperBed;
import dev.ballast.it.failover.WriteLoad;
import dev.ballast.failover.Monitor;
import dev.ballast.jdbc.BallastDataSource;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The demo: starts 2 replica groups x (master + 2 replicas) as real MariaDB processes, writes a cluster
 * config for them, and runs {@link DemoWorkload} through {@code jdbc:ballast:}. Everything it started
 * is stopped when it ends.
 */
public final class Demo {

    private static String rowsPerTable(MariaDbNode node) {
        StringBuilder b = new StringBuilder();
        for (var row : node.query("SELECT table_name AS t FROM information_schema.tables "
                + "WHERE table_schema = '" + TestBed.DATABASE + "' ORDER BY table_name")) {
            String table = row.get("t");
            String count = node.query("SELECT COUNT(*) AS n FROM " + TestBed.DATABASE + "." + table).get(0).get("n");
            b.append(table).append('=').append(count).append(' ');
        }
        return b.toString().trim();
    }

    /**
     * Act two: a ZooKeeper and a failover monitor; two writers insert into a table of g0 while its master is killed
     * with SIGKILL. Prints how long the writes paused and checks that every acknowledged insert is on the new master.
     */
    private static void failover(TestBed bed, ClusterYaml yaml, Path dir) throws Exception {
        System.out.println("\nfailover: starting ZooKeeper and a failover monitor, then killing g0's master under 2 writers ...");
        try (ZooKeeperBed zk = ZooKeeperBed.start()) {
            String settings = "failover:\n  zookeeper: " + zk.connectString()
                    + "\n  admin: {user: " + TestBedUsers.ADMIN_USER + ", password: " + TestBedUsers.ADMIN_PASSWORD + "}"
                    + "\n  replication: {user: " + TestBedUsers.REPL_USER + ", password: " + TestBedUsers.REPL_PASSWORD + "}\n";
            Path config = yaml.with("  t_ack:\n    group: g0\n").with(settings).writeTo(dir.resolve("cluster-failover.yaml"));
            ClusterConfig cluster = ClusterConfigLoader.load(config);
            try (Monitor monitor = new Monitor(cluster, "demo-monitor", null).start();
                 BallastDataSource ds = new BallastDataSource(cluster)) {
                try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                    s.execute(WriteLoad.CREATE_TABLE);
                }
                MariaDbNode master = bed.groups().get(0).master();
                WriteLoad load = WriteLoad.start(ds, 2, 60);
                Thread.sleep(1_500);
                long killedAt = System.nanoTime();
                master.crash();
                long deadAt = System.nanoTime(); // inserts sent before this may have been acknowledged by the dying master
                long deadline = System.nanoTime() + 15_000_000_000L;
                while (load.firstSuccessAfter(deadAt) < 0 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                long first = load.firstSuccessAfter(deadAt);
                Thread.sleep(1_000);
                load.stop();
                var now = ds.topology().get("g0");
                MariaDbNode newMaster = bed.nodes().stream().filter(n -> n.address().equals(now.master().toString())).findFirst().orElseThrow();
                long present = 0;
                try (Connection c = newMaster.connect(TestBed.DATABASE); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT id FROM t_ack")) {
                    java.util.Set<Long> ids = new java.util.HashSet<>();
                    while (rs.next()) {
                        ids.add(rs.getLong(1));
                    }
                    present = load.acked().stream().filter(ids::contains).count();
                }
                System.out.printf("  killed g0 master %s; the monitor promoted %s (epoch %d)%n", master.address(), now.master(), now.epoch());
                System.out.printf("  first acknowledged insert sent after the kill: %s%n",
                        first < 0 ? "none within 15 s" : (first - killedAt) / 1_000_000L + " ms after it");
                System.out.printf("  acknowledged inserts: %d, on the new master: %d; inserts in flight at the kill that "
                        + "failed with SQLSTATE 08007 (outcome unknown): %d%n", load.acked().size(), present,
                        load.failures().stream().filter(f -> "08007".equals(f.error().getSQLState())).count());
                System.out.println("  monitor's latest view: " + String.join("; ", monitor.describe()));
            }
        }
    }

    public static void main(String[] args) throws Exception {
        long started = System.nanoTime();
        System.out.println("starting 2 replica groups x (master + 2 replicas) of MariaDB on loopback ...");
        try (TestBed bed = TestBed.start(2, 2)) {
            Map<Long, String> names = new LinkedHashMap<>();
            ClusterYaml yaml = ClusterYaml.forBed("demo", bed);
            for (int g = 0; g < bed.groups().size(); g++) {
                ReplicaGroupBed group = bed.groups().get(g);
                names.put((long) group.master().serverId(), "g" + g + " master  " + group.master().address());
                for (MariaDbNode r : group.replicas()) {
                    names.put((long) r.serverId(), "g" + g + " replica " + r.address());
                }
            }
            names.forEach((id, name) -> System.out.println("  server_id " + id + ": " + name));
            Path dir = Files.createTempDirectory("ballast-demo");
            Path config = yaml.with(DemoWorkload.TABLES_YAML).writeTo(dir.resolve("cluster.yaml"));
            System.out.println("cluster config: " + config + "\n" + Files.readString(config).indent(2));
            try (Connection c = DriverManager.getConnection("jdbc:ballast:" + config)) {
                new DemoWorkload(System.out, names, bed::awaitReplication).run(c);
            }
            bed.awaitReplication();
            System.out.println("where the writes landed (rows per physical table, asked of each server directly):");
            for (int g = 0; g < bed.groups().size(); g++) {
                for (MariaDbNode node : bed.groups().get(g).nodes()) {
                    System.out.printf("  %-32s %s%n", names.get((long) node.serverId()), rowsPerTable(node));
                }
            }
            dev.ballast.jdbc.BallastDriver.close("jdbc:ballast:" + config);
            failover(bed, yaml, dir);
        }
        System.out.printf("demo finished in %.1f s; every server it started is stopped%n", (System.nanoTime() - started) / 1e9);
    }
}
