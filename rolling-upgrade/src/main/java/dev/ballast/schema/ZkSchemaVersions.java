package dev.ballast.schema;

import dev.ballast.rules.ClusterConfig;
import dev.ballast.topology.PlaneRegistration;
import dev.ballast.topology.SchemaVersion;
import dev.ballast.topology.TopologyStore;
import org.apache.curator.framework.CuratorFramework;

import java.util.ArrayList;
import java.util.List;

/**
 * The schema version znode, and the wait for the data planes: after the bump, every data plane registered under
 * {@code planes/} (a {@code BallastDataSource} or proxy following ZooKeeper) reports the version it has reloaded; this
 * waits until all report the new one, at most {@code schema.reloadWaitMs}. A plane that does not (reload failed, stuck,
 * or gone without closing) is named in the step's output; the change itself is done either way.
 */
public final class ZkSchemaVersions implements SchemaVersions {

    private static final long POLL_MS = 20;

    private final CuratorFramework client;
    private final ClusterConfig config;
    private final String by;

    public ZkSchemaVersions(CuratorFramework client, ClusterConfig config, String by) {
        this.client = client;
        this.config = config;
        this.by = by;
    }

    @Override
    public String bump(List<String> logicalTables) throws Exception {
        SchemaVersion v = TopologyStore.of(client, config).bumpSchemaVersion(logicalTables, by);
        long waitMs = config.schema().reloadWaitMs();
        String clusterPath = config.failover().clusterPath(config.name());
        if (waitMs == 0) {
            return "schema version " + v.version() + " published; not waiting for the data planes (schema.reloadWaitMs=0)";
        }
        long start = System.nanoTime();
        long deadline = start + waitMs * 1_000_000L;
        while (true) {
            List<PlaneRegistration.Plane> planes = PlaneRegistration.list(client, clusterPath);
            List<PlaneRegistration.Plane> behind = new ArrayList<>();
            for (PlaneRegistration.Plane p : planes) {
                if (p.schemaVersion() < v.version()) {
                    behind.add(p);
                }
            }
            long ms = (System.nanoTime() - start) / 1_000_000;
            if (planes.isEmpty()) {
                return "schema version " + v.version() + " published; no data plane is registered under "
                        + PlaneRegistration.planesPath(clusterPath);
            }
            if (behind.isEmpty()) {
                return "schema version " + v.version() + ": " + planes.size() + " data plane" + (planes.size() == 1 ? "" : "s")
                        + " reloaded " + logicalTables + " within " + ms + " ms";
            }
            if (System.nanoTime() >= deadline) {
                StringBuilder b = new StringBuilder("schema version " + v.version() + ": WARNING " + behind.size() + " of "
                        + planes.size() + " data planes had not reloaded " + logicalTables + " within schema.reloadWaitMs="
                        + waitMs + " ms:");
                for (PlaneRegistration.Plane p : behind) {
                    b.append(' ').append(p.describe()).append(" at version ").append(p.schemaVersion())
                            .append(p.failure().isEmpty() ? "" : " (" + p.failure() + ")").append(';');
                }
                return b.append(" statements through them see the old definition until they reload: restart them").toString();
            }
            Thread.sleep(POLL_MS);
        }
    }
}
