package dev.ballast.topology;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ballast.replication.Documents;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A running data plane's entry under {@code <cluster>/planes}: an ephemeral, sequential znode holding the schema version
 * whose metadata it has loaded. {@code ballast schema apply} reads them after it bumps the schema version and waits until
 * every data plane has reloaded, so that a statement using a new column works through any of them once apply returns.
 *
 * <p>Curator's {@link PersistentNode} keeps the entry present across reconnections and a lost session (it creates it
 * again); {@link #close()} deletes it, and a process that dies loses it when its session expires.
 */
public final class PlaneRegistration implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PlaneRegistration.class);

    /** What a data plane published: its znode name, its process, and the schema version it has loaded. */
    public record Plane(String name, String process, String main, long schemaVersion, String failure, long atMillis) {

        /** {@code p-0000000003 (1234@host, dev.ballast.cli.BallastCli)}. */
        public String describe() {
            return name + " (" + process + (main.isEmpty() ? "" : ", " + main) + ")";
        }
    }

    private final String cluster;
    private final PersistentNode node;
    private final String process;
    private final String main;
    private volatile long schemaVersion;

    private PlaneRegistration(CuratorFramework client, String cluster, String clusterPath, long schemaVersion) {
        this.cluster = cluster;
        this.process = ManagementFactory.getRuntimeMXBean().getName();
        String command = System.getProperty("sun.java.command", "");
        this.main = command.isBlank() ? "" : command.split(" ", 2)[0];
        this.schemaVersion = schemaVersion;
        this.node = new PersistentNode(client, CreateMode.EPHEMERAL_SEQUENTIAL, true, planesPath(clusterPath) + "/p-",
                json(schemaVersion, ""));
    }

    public static String planesPath(String clusterPath) {
        return clusterPath + "/" + TreeAcl.PLANES;
    }

    /**
     * Registers a data plane that has loaded {@code schemaVersion}; waits up to {@code waitMs} for the entry. Never fails
     * for ZooKeeper: without the entry, schema changes cannot wait for this plane and say so.
     */
    public static PlaneRegistration start(CuratorFramework client, String cluster, String clusterPath, long schemaVersion,
                                          long waitMs) {
        PlaneRegistration r = new PlaneRegistration(client, cluster, clusterPath, schemaVersion);
        r.node.start();
        try {
            // not connected: no wait (start-up must not stall on ZooKeeper); the node is created once it is
            long wait = client.getZookeeperClient().isConnected() ? waitMs : 0;
            if (!r.node.waitForInitialCreate(wait, TimeUnit.MILLISECONDS)) {
                log.warn("[cluster={}] this data plane is not registered under {} yet (ZooKeeper slow or refusing; with"
                        + " failover.acl the monitor creates that node when it starts): 'ballast schema apply' cannot wait"
                        + " for it to reload changed tables", cluster, planesPath(clusterPath));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return r;
    }

    /** Publishes that the metadata of {@code version} is loaded, or that reloading it failed ({@code failure} not empty). */
    public void loaded(long version, String failure) {
        if (failure.isEmpty()) {
            schemaVersion = Math.max(schemaVersion, version);
        }
        try {
            node.setData(json(schemaVersion, failure.isEmpty() ? "" : "reloading schema version " + version + " failed: "
                    + failure));
        } catch (Exception e) {
            log.warn("[cluster={}] publishing schema version {} of this data plane: {}", cluster, version, e.toString());
        }
    }

    public long schemaVersion() {
        return schemaVersion;
    }

    private byte[] json(long version, String failure) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("process", process);
        o.put("main", main);
        o.put("schemaVersion", version);
        o.put("failure", failure);
        o.put("at", System.currentTimeMillis());
        return Documents.write(o).getBytes(StandardCharsets.UTF_8);
    }

    /** Every registered data plane of the cluster (none when the node does not exist); unreadable entries are skipped. */
    public static List<Plane> list(CuratorFramework client, String clusterPath) throws Exception {
        String dir = planesPath(clusterPath);
        List<Plane> planes = new ArrayList<>();
        List<String> children;
        try {
            children = client.getChildren().forPath(dir);
        } catch (KeeperException.NoNodeException none) {
            return planes;
        }
        for (String child : children.stream().sorted(java.util.Comparator.comparing(PlaneRegistration::sequence)).toList()) {
            byte[] data;
            try {
                data = client.getData().forPath(dir + "/" + child);
            } catch (KeeperException.NoNodeException gone) {
                continue; // closed meanwhile
            }
            try {
                JsonNode o = Documents.readObject(new String(data, StandardCharsets.UTF_8), "data plane " + child);
                planes.add(new Plane(sequence(child), o.path("process").asText(""), o.path("main").asText(""),
                        o.path("schemaVersion").asLong(0), o.path("failure").asText(""), o.path("at").asLong(0)));
            } catch (IllegalArgumentException e) {
                log.debug("skipping {}: {}", child, e.getMessage());
            }
        }
        return planes;
    }

    /** {@code p-0000000003} from Curator's protected name {@code _c_<uuid>-p-0000000003}. */
    private static String sequence(String child) {
        int at = child.lastIndexOf("p-");
        return at >= 0 ? child.substring(at) : child;
    }

    @Override
    public void close() {
        try {
            node.close();
        } catch (Exception e) {
            log.debug("[cluster={}] closing the data plane's registration: {}", cluster, e.toString());
        }
    }
}
