package dev.ballast.it.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.ballast.jdbc.BallastDataSource;
import dev.ballast.jdbc.internal.NodeDataSource;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.GroupConfig;
import dev.ballast.rules.NodeAddress;
import dev.ballast.rules.shardingsphere.ShardingSphereRules;
import org.apache.shardingsphere.driver.api.ShardingSphereDataSourceFactory;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * One way of reaching MariaDB that is measured. Every contender's pools are HikariCP pools built by
 * {@code NodeDataSource.hikariConfig}, so all talk to the servers with the same Connector/J properties and pool sizes.
 * Inserted ids are {@code idBase + n}, so contenders that share servers never collide.
 */
final class Contender implements AutoCloseable {

    static final String RAW = "raw";
    static final String PLAIN = "plain-SS";
    static final String BALLAST = "Ballast";
    /** raw JDBC on one group of the sharded topology: reads on its replica, writes on its master (which replicates). */
    static final String RAW_REPLICATED = "raw-repl";
    /** raw JDBC on the sharded topology itself, routed by hand: the application computing shard and table. */
    static final String RAW_SHARDED = "raw-2g";

    /** One shard of the hand-routed contender: where its reads and writes go, and its physical table. */
    record Shard(DataSource reads, DataSource writes, String table) {
    }

    private final String name;
    private final DataSource dataSource;
    private final List<AutoCloseable> resources;
    private final long idBase;
    private final AtomicLong seq = new AtomicLong();
    private DataSource readSource;
    /** for {@link #RAW_SHARDED}: the shards in hash-mod order (user_id mod n picks one), else null */
    private Shard[] shards;

    private Contender(String name, DataSource dataSource, List<AutoCloseable> resources, long idBase) {
        this.name = name;
        this.dataSource = dataSource;
        this.resources = resources;
        this.idBase = idBase;
    }

    /**
     * HikariCP + Connector/J on one group of the sharded contenders' topology, table unsharded: selects on the
     * group's replica, inserts on its master, which replicates them as the shards' masters do. Like for like with
     * the sharded contenders on the server side, so the ratio to it isolates what the middleware costs.
     */
    static Contender rawReplicated(ClusterConfig config, NodeAddress master, NodeAddress replica, long idBase) {
        HikariDataSource writes = new HikariDataSource(hikariConfig(config, "raw-repl", "master", master));
        HikariDataSource reads = new HikariDataSource(hikariConfig(config, "raw-repl", "replica", replica));
        Contender c = new Contender(RAW_REPLICATED, writes, List.of(reads, writes), idBase);
        c.readSource = reads;
        return c;
    }

    /**
     * HikariCP + Connector/J on the sharded contenders' servers, with the application doing the routing: user_id mod
     * n picks the data node (as Ballast's hash-mod does for integral values), the statement names its physical
     * table, reads go to the node's group replica, writes to its master. No middleware at all: what the sharded
     * topology itself allows on this machine.
     */
    static Contender rawSharded(ClusterConfig config, List<dev.ballast.rules.DataNode> nodes, long idBase) {
        List<AutoCloseable> resources = new ArrayList<>();
        Map<String, DataSource[]> byGroup = new LinkedHashMap<>();
        Shard[] shards = new Shard[nodes.size()];
        try {
            for (int i = 0; i < nodes.size(); i++) {
                dev.ballast.rules.DataNode node = nodes.get(i);
                DataSource[] pools = byGroup.computeIfAbsent(node.group(), g -> {
                    GroupConfig group = config.group(g);
                    HikariDataSource master = new HikariDataSource(hikariConfig(config, "raw-2g-" + g, "master", group.master()));
                    resources.add(master);
                    HikariDataSource replica = new HikariDataSource(
                            hikariConfig(config, "raw-2g-" + g, "replica", group.replicas().get(0)));
                    resources.add(replica);
                    return new DataSource[]{replica, master};
                });
                shards[i] = new Shard(pools[0], pools[1], node.table());
            }
        } catch (RuntimeException e) {
            closeAll(resources);
            throw e;
        }
        Contender c = new Contender(RAW_SHARDED, shards[0].writes(), resources, idBase);
        c.shards = shards;
        return c;
    }

    /** The hand-routed contender's shards, or null for a contender that takes one data source. */
    Shard[] shards() {
        return shards;
    }

    /** Where a worker of this workload gets its connection. */
    DataSource dataSource(Workload workload) {
        return workload.isSelect() && readSource != null ? readSource : dataSource;
    }

    /** HikariCP + Connector/J against one server, which holds {@code t_bench} unsharded. */
    static Contender raw(ClusterConfig config, NodeAddress server, long idBase) {
        HikariConfig h = hikariConfig(config, "raw", "standalone", server);
        h.setPoolName("bench-raw-" + server);
        HikariDataSource pool = new HikariDataSource(h);
        return new Contender(RAW, pool, List.of(pool), idBase);
    }

    /** ShardingSphere-JDBC as it is, with Ballast's rules over one HikariCP pool per server. */
    static Contender plainShardingSphere(ClusterConfig config, long idBase) throws SQLException {
        Map<String, DataSource> units = new LinkedHashMap<>();
        List<AutoCloseable> resources = new ArrayList<>();
        try {
            for (GroupConfig group : config.groups().values()) {
                HikariDataSource master = new HikariDataSource(hikariConfig(config, group.name(), "master", group.master()));
                resources.add(master);
                units.put(ShardingSphereRules.masterUnit(group.name()), master);
                for (int i = 0; i < group.replicas().size(); i++) {
                    HikariDataSource replica = new HikariDataSource(
                            hikariConfig(config, group.name(), "replica", group.replicas().get(i)));
                    resources.add(replica);
                    units.put(ShardingSphereRules.replicaUnit(group.name(), i), replica);
                }
            }
            Properties props = new Properties();
            props.setProperty("sql-show", "false");
            DataSource ss = ShardingSphereDataSourceFactory.createDataSource(config.database(), null, units,
                    ShardingSphereRules.rules(config), props);
            if (ss instanceof AutoCloseable c) {
                resources.add(0, c);
            }
            return new Contender(PLAIN, ss, resources, idBase);
        } catch (SQLException | RuntimeException e) {
            closeAll(resources);
            throw e;
        }
    }

    static Contender ballast(ClusterConfig config, long idBase) throws SQLException {
        BallastDataSource ds = new BallastDataSource(config);
        return new Contender(BALLAST, ds, List.of(ds), idBase);
    }

    /** Builds the named contender; used by the probes, which run one contender per JVM. */
    static Contender build(String name, ClusterConfig config, NodeAddress rawServer, long idBase) throws SQLException {
        return switch (name) {
            case RAW -> raw(config, rawServer, idBase);
            case PLAIN -> plainShardingSphere(config, idBase);
            case BALLAST -> ballast(config, idBase);
            default -> throw new IllegalArgumentException("unknown contender '" + name + "'; expected "
                    + RAW + ", " + PLAIN + " or " + BALLAST);
        };
    }

    /**
     * The pool settings Ballast gives each server. Read through reflection on purpose: a copy here would drift
     * from the driver's and the comparison would stop being like for like.
     */
    static HikariConfig hikariConfig(ClusterConfig config, String group, String role, NodeAddress address) {
        try {
            Method m = NodeDataSource.class.getDeclaredMethod("hikariConfig", ClusterConfig.class, String.class,
                    String.class, NodeAddress.class);
            m.setAccessible(true);
            HikariConfig h = (HikariConfig) m.invoke(null, config, group, role, address);
            h.setPoolName("bench-" + group + "-" + role + "-" + address);
            return h;
        } catch (InvocationTargetException e) {
            throw new IllegalStateException("NodeDataSource.hikariConfig failed for " + group + "/" + role + " "
                    + address + ": " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the benchmark builds every pool with NodeDataSource.hikariConfig(ClusterConfig, "
                    + "String, String, NodeAddress), which is gone (" + e + "); point Contender.hikariConfig at its "
                    + "replacement so that all contenders keep the driver's Connector/J properties", e);
        }
    }

    String name() {
        return name;
    }

    DataSource dataSource() {
        return dataSource;
    }

    long idBase() {
        return idBase;
    }

    long nextSeq() {
        return seq.getAndIncrement();
    }

    @Override
    public void close() {
        closeAll(resources);
    }

    private static void closeAll(List<AutoCloseable> resources) {
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                RouteBenchmark.progress("closing " + r + ": " + e);
            }
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
