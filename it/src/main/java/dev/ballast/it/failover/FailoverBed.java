package dev.ballast.it.failover;

import dev.ballast.failover.Monitor;
import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.it.testbed.TestBedUsers;
import dev.ballast.it.testbed.ZooKeeperBed;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.replication.GroupTopology;
import dev.ballast.topology.TopologyStore;
import org.apache.curator.framework.CuratorFramework;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A replica group of real MariaDB servers, a real ZooKeeper, a cluster config with a {@code failover:} section, and the
 * monitors started for it (in this JVM, or as separate {@code java} processes that a test may {@code kill -9}). Closes all
 * of it; processes it started are stopped by PID.
 */
public final class FailoverBed implements AutoCloseable {

    private final TestBed bed;
    private final ZooKeeperBed zk;
    private final String cluster;
    private final String extraYaml;
    private final List<Monitor> monitors = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private CuratorFramework client;

    private FailoverBed(TestBed bed, ZooKeeperBed zk, String cluster, String extraYaml) {
        this.bed = bed;
        this.zk = zk;
        this.cluster = cluster;
        this.extraYaml = extraYaml;
    }

    /**
     * One group (master + {@code replicas}) and ZooKeeper. {@code extraYaml} is appended to every config (tables, pool);
     * failover keys beyond the ones this bed sets are given per config, as lines such as {@code "  writeHoldMs: 3000"}.
     */
    public static FailoverBed start(String cluster, int replicas, String extraYaml) {
        TestBed bed = TestBed.start(1, replicas);
        ZooKeeperBed zk;
        try {
            zk = ZooKeeperBed.start();
        } catch (RuntimeException e) {
            bed.close();
            throw e;
        }
        return new FailoverBed(bed, zk, cluster, extraYaml);
    }

    public TestBed bed() {
        return bed;
    }

    public ZooKeeperBed zookeeper() {
        return zk;
    }

    /** The config's {@code failover:} section; {@code more} are extra lines such as {@code "  writeHoldMs: 3000"}. */
    public String failoverSettings(String... more) {
        StringBuilder b = new StringBuilder("failover:\n")
                .append("  zookeeper: ").append(zk.connectString()).append('\n')
                .append("  admin:\n    user: ").append(TestBedUsers.ADMIN_USER).append("\n    password: ")
                .append(TestBedUsers.ADMIN_PASSWORD).append('\n')
                .append("  replication:\n    user: ").append(TestBedUsers.REPL_USER).append("\n    password: ")
                .append(TestBedUsers.REPL_PASSWORD).append('\n');
        for (String line : more) {
            b.append(line).append('\n');
        }
        return b.toString();
    }

    /** The cluster config with the default failover settings plus {@code more}. */
    public ClusterConfig config(String... more) {
        return yaml(more).config();
    }

    public ClusterYaml yaml(String... more) {
        return ClusterYaml.forBed(cluster, bed).with(extraYaml).with(failoverSettings(more));
    }

    /** Starts a monitor in this JVM. */
    public Monitor startMonitor(String id, String... more) throws Exception {
        Monitor m = new Monitor(config(more), id, null).start();
        monitors.add(m);
        return m;
    }

    /** Starts a monitor as its own JVM ({@code ballast monitor}), output to {@code <bed dir>/<id>.log}. */
    public Process startMonitorProcess(String id, String... more) throws IOException {
        Path dir = bed.directory();
        Path config = yaml(more).writeTo(dir.resolve("cluster-" + id + ".yaml"));
        Path log = dir.resolve(id + ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx128m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                "dev.ballast.cli.BallastCli", "monitor", "--config", config.toString(), "--id", id)
                .redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    /** {@code kill -9} of a monitor process this bed started. */
    public void kill9(Process p) throws InterruptedException {
        p.destroyForcibly(); // SIGKILL on Linux, to this process's PID
        p.waitFor(10, TimeUnit.SECONDS);
    }

    public synchronized TopologyStore store() {
        if (client == null) {
            client = TopologyStore.connect(config());
        }
        return TopologyStore.of(client, config());
    }

    /** The topology in ZooKeeper, or the config's before a monitor wrote it there. */
    public GroupTopology topology() {
        return store().read("g0").map(TopologyStore.Versioned::topology)
                .orElseGet(() -> GroupTopology.of(config().group("g0")));
    }

    /** The node of the bed at {@code address} ({@code host:port}). */
    public MariaDbNode node(Object address) {
        String a = address.toString();
        return bed.nodes().stream().filter(n -> n.address().equals(a)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + a + " in " + bed.describe()));
    }

    public MariaDbNode master() {
        return node(topology().master());
    }

    /** Waits until {@code condition} holds, polling every 20 ms. */
    public static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /** Tail of a monitor process's log, for failure messages. */
    public String log(String id) {
        try {
            List<String> lines = Files.readAllLines(bed.directory().resolve(id + ".log"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() {
        for (Monitor m : monitors) {
            m.close();
        }
        for (Process p : processes) {
            p.destroyForcibly();
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (client != null) {
            client.close();
        }
        zk.close();
        bed.close();
    }
}
