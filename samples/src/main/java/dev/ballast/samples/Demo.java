package dev.ballast.samples;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.ReplicaGroupBed;
import dev.ballast.it.testbed.TestBed;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
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
        }
        System.out.printf("demo finished in %.1f s; every server it started is stopped%n", (System.nanoTime() - started) / 1e9);
    }
}
