package dev.ballast.topology;

import dev.ballast.replication.GroupTopology;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.GroupConfig;
import dev.ballast.rules.NodeAddress;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The cluster's tree in ZooKeeper (DESIGN.md "Topology store"): topology per group, changed only by compare-and-set
 * on the znode version; ephemeral health per node and monitor; the audit log of recoveries. Thin over Curator: every
 * method is one or two ZooKeeper calls and throws what ZooKeeper threw (wrapped in {@link TopologyException} naming
 * the path).
 */
public final class TopologyStore {

    /** A topology with the znode version it was read at (the version to compare-and-set against). */
    public record Versioned(GroupTopology topology, int version) {
    }

    private final CuratorFramework client;
    private final String root;

    public TopologyStore(CuratorFramework client, String clusterPath) {
        this.client = client;
        this.root = clusterPath;
    }

    /**
     * A started Curator client of the control plane (monitor, CLI) for the config's {@code failover.zookeeper}; the caller
     * closes it. Same as {@code connect(config, ZkRole.CONTROL_PLANE)}: data planes use {@link ZkRole#DATA_PLANE}.
     */
    public static CuratorFramework connect(ClusterConfig config) {
        return connect(config, ZkRole.CONTROL_PLANE);
    }

    /**
     * A started Curator client for the config's {@code failover.zookeeper}; the caller closes it. With
     * {@code failover.acl} it authenticates with the {@code role}'s digest credential and gives every node it creates
     * the ACL of {@link TreeAcl}; without, it is unauthenticated and creates open nodes (as before ACLs existed).
     *
     * @throws dev.ballast.rules.ConfigException when the role's password comes from an environment variable that is not set
     */
    public static CuratorFramework connect(ClusterConfig config, ZkRole role) {
        String connect = config.failover().zookeeper().orElseThrow(() -> new IllegalArgumentException(
                "[cluster=" + config.name() + "] failover.zookeeper is not set; the topology is static"));
        CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder()
                .connectString(connect)
                .sessionTimeoutMs(config.failover().zkSessionTimeoutMs())
                .connectionTimeoutMs(config.failover().zkConnectionTimeoutMs())
                .retryPolicy(new ExponentialBackoffRetry(200, 29, 2_000));
        Optional<TreeAcl> acl = TreeAcl.forConfig(config, role);
        if (acl.isPresent()) {
            builder.authorization("digest", TreeAcl.authentication(config.failover().acl().orElseThrow(), role))
                    .aclProvider(acl.get());
        }
        CuratorFramework client = builder.build();
        client.start();
        return client;
    }

    public static TopologyStore of(CuratorFramework client, ClusterConfig config) {
        return new TopologyStore(client, config.failover().clusterPath(config.name()));
    }

    public CuratorFramework client() {
        return client;
    }

    public String topologyPath(String group) {
        return root + "/topology/" + group;
    }

    public String topologyRoot() {
        return root + "/topology";
    }

    public String healthPath(String node, String monitor) {
        return root + "/health/" + node + "/" + monitor;
    }

    public String leaderPath() {
        return root + "/monitor/leader";
    }

    public String recoveriesPath() {
        return root + "/recoveries";
    }

    public String lockPath(String group) {
        return root + "/locks/" + group;
    }

    /** Where maintenance marks live, one child per drained node ({@code host:port}). */
    public String maintenanceRoot() {
        return root + "/maintenance";
    }

    public String maintenancePath(NodeAddress node) {
        return maintenanceRoot() + "/" + node;
    }

    /** The cluster's schema version ({@link SchemaVersion}), raised after each completed schema change. */
    public String schemaPath() {
        return root + "/schema";
    }

    /** The published cluster config ({@code ballast config push}), versioned. */
    public String configPath() {
        return root + "/config";
    }

    /** Waits for the ZooKeeper connection; false when it did not come within the timeout. */
    public boolean awaitConnected(long timeoutMs) throws InterruptedException {
        return client.blockUntilConnected((int) timeoutMs, TimeUnit.MILLISECONDS);
    }

    public Optional<Versioned> read(String group) {
        String path = topologyPath(group);
        try {
            Stat stat = new Stat();
            byte[] data = client.getData().storingStatIn(stat).forPath(path);
            return Optional.of(new Versioned(GroupTopology.fromJson(new String(data, StandardCharsets.UTF_8)), stat.getVersion()));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        } catch (Exception e) {
            throw new TopologyException("reading " + path + ": " + e, e);
        }
    }

    /**
     * Writes {@code next} if the znode is still at {@code expectedVersion} ({@code -1}: only if it does not exist yet).
     *
     * <p>Refuses to lower the epoch, and to give the same epoch another master: the stored topology is read with its
     * stat, and when it is still at {@code expectedVersion}, its epoch is compared with {@code next}'s before writing
     * with that version, so a change between the read and the write fails the write. The same epoch with the same
     * master is accepted (a phase change, a replica rejoining or dropped).
     *
     * @return whether it was written; false when someone else changed it first
     * @throws EpochException when {@code next} would lower the epoch or change the master without raising it; nothing
     *                        is written
     */
    public boolean compareAndSet(GroupTopology next, int expectedVersion) {
        String path = topologyPath(next.group());
        byte[] data = next.toJson().getBytes(StandardCharsets.UTF_8);
        try {
            if (expectedVersion < 0) {
                client.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT).forPath(path, data);
                return true;
            }
            Stat stat = new Stat();
            GroupTopology stored = GroupTopology.fromJson(new String(client.getData().storingStatIn(stat).forPath(path),
                    StandardCharsets.UTF_8));
            if (stat.getVersion() != expectedVersion) {
                return false;
            }
            checkEpoch(path, stored, next);
            client.setData().withVersion(stat.getVersion()).forPath(path, data);
            return true;
        } catch (KeeperException.NodeExistsException | KeeperException.NoNodeException | KeeperException.BadVersionException e) {
            return false;
        } catch (EpochException e) {
            throw e;
        } catch (Exception e) {
            throw new TopologyException("writing " + path + ": " + e, e);
        }
    }

    /** The epoch rule: never lower, and a new master only with a higher epoch. */
    static void checkEpoch(String path, GroupTopology stored, GroupTopology next) {
        if (next.epoch() < stored.epoch()) {
            throw new EpochException(path + ": refusing to lower the epoch from " + stored.epoch() + " (master " + stored.master()
                    + ") to " + next.epoch() + " (master " + next.master() + "); the topology was changed on a stale reading: "
                    + "read it again ('ballast status') and retry");
        }
        if (next.epoch() == stored.epoch() && !next.master().equals(stored.master())) {
            throw new EpochException(path + ": refusing master " + next.master() + " in epoch " + next.epoch() + ", which "
                    + stored.master() + " already holds; a change of master must raise the epoch");
        }
    }

    /** Creates each group's topology from the config where none exists yet (epoch 0); existing ones are kept. */
    public List<GroupTopology> bootstrap(ClusterConfig config) {
        List<GroupTopology> result = new ArrayList<>();
        for (GroupConfig g : config.groups().values()) {
            Optional<Versioned> existing = read(g.name());
            if (existing.isEmpty() && compareAndSet(GroupTopology.of(g), -1)) {
                result.add(GroupTopology.of(g));
            } else {
                result.add(existing.or(() -> read(g.name())).orElseThrow().topology());
            }
        }
        return result;
    }

    /** Appends an audit record (JSON) as {@code recoveries/r-<seq>}; returns the node's path. */
    public String appendRecovery(String json) {
        try {
            return client.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT_SEQUENTIAL)
                    .forPath(recoveriesPath() + "/r-", json.getBytes(StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new TopologyException("appending to " + recoveriesPath() + ": " + e, e);
        }
    }

    /** Replaces an audit record (a recovery's progress is written at each step). */
    public void updateRecovery(String path, String json) {
        try {
            client.setData().forPath(path, json.getBytes(StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new TopologyException("updating " + path + ": " + e, e);
        }
    }

    /** Every audit record, oldest first, as {@code path -> json}. */
    public List<String[]> recoveries() {
        try {
            if (client.checkExists().forPath(recoveriesPath()) == null) {
                return List.of();
            }
            List<String> children = new ArrayList<>(client.getChildren().forPath(recoveriesPath()));
            Collections.sort(children);
            List<String[]> out = new ArrayList<>();
            for (String child : children) {
                String path = recoveriesPath() + "/" + child;
                try {
                    out.add(new String[]{path, new String(client.getData().forPath(path), StandardCharsets.UTF_8)});
                } catch (KeeperException.NoNodeException ignored) {
                    // deleted meanwhile
                }
            }
            return out;
        } catch (Exception e) {
            throw new TopologyException("listing " + recoveriesPath() + ": " + e, e);
        }
    }

    /** Publishes (creates or replaces) an ephemeral health record of one node as seen by one monitor. */
    public void publishHealth(String node, String monitor, String json) {
        String path = healthPath(node, monitor);
        byte[] data = json.getBytes(StandardCharsets.UTF_8);
        try {
            try {
                client.setData().forPath(path, data);
            } catch (KeeperException.NoNodeException e) {
                client.create().creatingParentContainersIfNeeded().withMode(CreateMode.EPHEMERAL).forPath(path, data);
            }
        } catch (KeeperException.NodeExistsException e) {
            // raced with ourselves; the next round replaces it
        } catch (Exception e) {
            throw new TopologyException("publishing " + path + ": " + e, e);
        }
    }

    /** Every monitor's health record of one node: monitor id to JSON. */
    public java.util.Map<String, String> health(String node) {
        String parent = root + "/health/" + node;
        java.util.Map<String, String> out = new java.util.TreeMap<>();
        try {
            if (client.checkExists().forPath(parent) == null) {
                return out;
            }
            for (String monitor : client.getChildren().forPath(parent)) {
                try {
                    out.put(monitor, new String(client.getData().forPath(parent + "/" + monitor), StandardCharsets.UTF_8));
                } catch (KeeperException.NoNodeException ignored) {
                    // its session ended meanwhile
                }
            }
            return out;
        } catch (Exception e) {
            throw new TopologyException("reading " + parent + ": " + e, e);
        }
    }

    /**
     * Drains {@code node}: sets its maintenance mark (DESIGN.md "Topology store"). Data planes stop sending it new reads
     * within one ZooKeeper event; reads in flight finish. Idempotent: a node already drained keeps its {@code since} and
     * takes the new reason and author. Needs the control plane's credential where the tree has ACLs.
     *
     * @return the mark now in force
     */
    public Maintenance drain(NodeAddress node, String reason, String by) {
        String path = maintenancePath(node);
        try {
            for (int attempt = 0; ; attempt++) {
                Stat stat = new Stat();
                Maintenance existing = null;
                try {
                    existing = readMark(node, client.getData().storingStatIn(stat).forPath(path));
                } catch (KeeperException.NoNodeException absent) {
                    // not drained yet
                }
                Maintenance mark = new Maintenance(node, reason, by, existing == null ? System.currentTimeMillis()
                        : existing.sinceMillis());
                byte[] data = mark.toJson().getBytes(StandardCharsets.UTF_8);
                try {
                    if (existing == null) {
                        client.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT).forPath(path, data);
                    } else {
                        client.setData().withVersion(stat.getVersion()).forPath(path, data);
                    }
                    return mark;
                } catch (KeeperException.NodeExistsException | KeeperException.BadVersionException
                         | KeeperException.NoNodeException raced) {
                    if (attempt >= 5) {
                        throw raced;
                    }
                }
            }
        } catch (Exception e) {
            throw new TopologyException("draining " + node + " at " + path + ": " + e, e);
        }
    }

    /** Removes {@code node}'s maintenance mark; false when it had none. Data planes send it reads again once it is healthy. */
    public boolean undrain(NodeAddress node) {
        String path = maintenancePath(node);
        try {
            client.delete().forPath(path);
            return true;
        } catch (KeeperException.NoNodeException e) {
            return false;
        } catch (Exception e) {
            throw new TopologyException("undraining " + node + " at " + path + ": " + e, e);
        }
    }

    /**
     * Every maintenance mark, by node. A mark whose document cannot be read still drains its node (the child's name is
     * the node); its reason says the document was unreadable.
     */
    public java.util.Map<NodeAddress, Maintenance> drained() {
        String parent = maintenanceRoot();
        java.util.Map<NodeAddress, Maintenance> out = new java.util.TreeMap<>(java.util.Comparator.comparing(NodeAddress::toString));
        try {
            if (client.checkExists().forPath(parent) == null) {
                return out;
            }
            for (String child : client.getChildren().forPath(parent)) {
                NodeAddress node;
                try {
                    node = NodeAddress.parse(child);
                } catch (IllegalArgumentException e) {
                    continue; // not a node's mark
                }
                try {
                    out.put(node, readMark(node, client.getData().forPath(parent + "/" + child)));
                } catch (KeeperException.NoNodeException ignored) {
                    // undrained meanwhile
                }
            }
            return out;
        } catch (Exception e) {
            throw new TopologyException("reading " + parent + ": " + e, e);
        }
    }

    /** The mark stored for {@code node}; an unreadable one still counts (see {@link #drained()}). */
    static Maintenance readMark(NodeAddress node, byte[] data) {
        try {
            Maintenance m = Maintenance.fromJson(new String(data == null ? new byte[0] : data, StandardCharsets.UTF_8));
            return m.node().equals(node) ? m : new Maintenance(node, m.reason(), m.by(), m.sinceMillis());
        } catch (IllegalArgumentException e) {
            return new Maintenance(node, "unreadable mark (" + e.getMessage() + ")", "", 0);
        }
    }

    /**
     * Raises the cluster's schema version after a schema change of {@code logicalTables} has completed on every server:
     * every data plane following ZooKeeper then reloads those tables' metadata (ShardingSphere's and the fast path's)
     * without a restart. Writes {@code schema} = {@code {"version": N+1, "tables": [...], "at": ms, "by": "user@host"}},
     * compare-and-set on the znode version (a concurrent bump is retried on the newer version, never lost). Needs the
     * control plane's credential where the tree has ACLs.
     *
     * @param logicalTables the changed tables by their logical names (at least one; a name the config does not list is
     *                      logged and ignored by the data planes)
     * @return the version now stored
     */
    public SchemaVersion bumpSchemaVersion(List<String> logicalTables) {
        return bumpSchemaVersion(logicalTables, defaultAuthor());
    }

    /** {@link #bumpSchemaVersion(List)} naming who bumped it (an operation id, a user). */
    public SchemaVersion bumpSchemaVersion(List<String> logicalTables, String by) {
        if (logicalTables == null || logicalTables.isEmpty() || logicalTables.stream().anyMatch(t -> t == null || t.isBlank())) {
            throw new IllegalArgumentException("bumping " + schemaPath() + ": name at least one changed logical table "
                    + "(got " + logicalTables + ")");
        }
        String path = schemaPath();
        try {
            for (int attempt = 0; ; attempt++) {
                Stat stat = new Stat();
                SchemaVersion before = null;
                boolean exists = true;
                try {
                    before = readSchema(path, client.getData().storingStatIn(stat).forPath(path));
                } catch (KeeperException.NoNodeException absent) {
                    exists = false; // the first bump
                }
                SchemaVersion next = new SchemaVersion(before == null ? 1 : before.version() + 1, logicalTables,
                        System.currentTimeMillis(), by);
                byte[] data = next.toJson().getBytes(StandardCharsets.UTF_8);
                try {
                    if (!exists) {
                        client.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT).forPath(path, data);
                    } else {
                        client.setData().withVersion(stat.getVersion()).forPath(path, data);
                    }
                    return next;
                } catch (KeeperException.NodeExistsException | KeeperException.BadVersionException
                         | KeeperException.NoNodeException raced) {
                    if (attempt >= 20) {
                        throw raced;
                    }
                }
            }
        } catch (Exception e) {
            throw new TopologyException("bumping the schema version at " + path + " for " + logicalTables + ": " + e, e);
        }
    }

    /** The schema version now stored; empty before the first bump. */
    public Optional<SchemaVersion> schemaVersion() {
        String path = schemaPath();
        try {
            return Optional.of(readSchema(path, client.getData().forPath(path)));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        } catch (TopologyException e) {
            throw e;
        } catch (Exception e) {
            throw new TopologyException("reading " + path + ": " + e, e);
        }
    }

    /** An empty node (created by hand) counts as version 0; a document that is not one is an error naming the node. */
    private static SchemaVersion readSchema(String path, byte[] data) {
        if (data == null || data.length == 0) {
            return new SchemaVersion(0, List.of(), 0, "");
        }
        try {
            return SchemaVersion.fromJson(new String(data, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new TopologyException(path + ": " + e.getMessage() + "; fix or delete the node (data planes then reload "
                    + "nothing until the next bump)", e);
        }
    }

    /**
     * Publishes a cluster config's text as the next version at {@code config} (and keeps it at {@code config/v-<N>}), in
     * one ZooKeeper transaction, compare-and-set on the znode version: a push that raced another fails and is retried on
     * the newer version, so versions never repeat. The caller validates the text first ({@code ballast config push}).
     *
     * @return the version now stored
     */
    public PublishedConfig publishConfig(String yaml, String source, String by) {
        String path = configPath();
        try {
            for (int attempt = 0; ; attempt++) {
                Stat stat = new Stat();
                PublishedConfig before = null;
                boolean exists = true;
                try {
                    before = readConfig(path, client.getData().storingStatIn(stat).forPath(path));
                } catch (KeeperException.NoNodeException absent) {
                    exists = false;
                }
                long version = before == null ? 1 : before.version() + 1;
                PublishedConfig next = new PublishedConfig(version, yaml, System.currentTimeMillis(), by, source);
                byte[] data = next.toJson().getBytes(StandardCharsets.UTF_8);
                try {
                    if (!exists) {
                        client.createContainers(root);
                        client.transaction().forOperations(
                                client.transactionOp().create().withMode(CreateMode.PERSISTENT).forPath(path, data),
                                client.transactionOp().create().withMode(CreateMode.PERSISTENT)
                                        .forPath(path + "/v-" + version, data));
                    } else {
                        client.transaction().forOperations(
                                client.transactionOp().setData().withVersion(stat.getVersion()).forPath(path, data),
                                client.transactionOp().create().withMode(CreateMode.PERSISTENT)
                                        .forPath(path + "/v-" + version, data));
                    }
                    return next;
                } catch (KeeperException.NodeExistsException | KeeperException.BadVersionException
                         | KeeperException.NoNodeException raced) {
                    if (attempt >= 20) {
                        throw raced;
                    }
                }
            }
        } catch (Exception e) {
            throw new TopologyException("publishing the config at " + path + ": " + e, e);
        }
    }

    /** The config published now; empty before the first push. */
    public Optional<PublishedConfig> publishedConfig() {
        return publishedConfig(configPath());
    }

    /** A kept version of the published config; empty when it was never pushed. */
    public Optional<PublishedConfig> publishedConfig(long version) {
        return publishedConfig(configPath() + "/v-" + version);
    }

    private Optional<PublishedConfig> publishedConfig(String path) {
        try {
            return Optional.of(readConfig(path, client.getData().forPath(path)));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        } catch (TopologyException e) {
            throw e;
        } catch (Exception e) {
            throw new TopologyException("reading " + path + ": " + e, e);
        }
    }

    private static PublishedConfig readConfig(String path, byte[] data) {
        try {
            return PublishedConfig.fromJson(new String(data == null ? new byte[0] : data, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new TopologyException(path + ": " + e.getMessage() + "; push a valid config ('ballast config push') or "
                    + "delete the node", e);
        }
    }

    static String defaultAuthor() {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "unknown-host";
        }
        return System.getProperty("user.name", "unknown") + "@" + host;
    }

    /** A write refused because it would lower the epoch or change the master within one epoch; nothing was written. */
    public static final class EpochException extends TopologyException {
        public EpochException(String message) {
            super(message, null);
        }
    }

    /** A ZooKeeper failure, naming the path. */
    public static class TopologyException extends RuntimeException {
        public TopologyException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
