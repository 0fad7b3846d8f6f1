package dev.ballast.jdbc;

import dev.ballast.jdbc.health.HealthProbe;
import dev.ballast.sysschema.SystemSchema;
import dev.ballast.jdbc.internal.BallastLoadBalancer;
import dev.ballast.jdbc.internal.BallastContextManagerBuilder;
import dev.ballast.jdbc.internal.MergeGuard;
import dev.ballast.jdbc.internal.ReadRouter;
import dev.ballast.jdbc.internal.NodeDataSource;
import dev.ballast.jdbc.internal.Wrappers;
import dev.ballast.keys.BallastSnowflakeAlgorithm;
import dev.ballast.keys.Snowflake;
import dev.ballast.keys.WorkerIds;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import dev.ballast.rules.GroupConfig;
import dev.ballast.rules.TableRule;
import dev.ballast.rules.shardingsphere.ShardingSphereRules;
import dev.ballast.replication.GroupTopology;
import dev.ballast.topology.LiveTopology;
import org.apache.shardingsphere.driver.api.ShardingSphereDataSourceFactory;
import org.apache.shardingsphere.infra.algorithm.core.config.AlgorithmConfiguration;
import org.apache.shardingsphere.infra.config.mode.ModeConfiguration;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * Ballast's data plane as a {@link DataSource}: sharding and scatter-gather by ShardingSphere over one
 * logical data source per replica group; writes, locking reads and transactions on the group's master,
 * autocommit reads on its replicas. One HikariCP pool per physical server. Thread-safe; close it when done.
 */
public final class BallastDataSource implements DataSource, AutoCloseable, io.micrometer.core.instrument.binder.MeterBinder {

    private final ClusterConfig config;
    private final DataSource shardingSphere;
    private final LiveTopology topology;
    private final ReadRouter router;
    private final ExecutorService followers;
    private final Wrappers.Plane plane;
    private final WorkerIds workers;
    private final String keyGenerator;
    private volatile boolean closed;

    /** Builds the data plane of a validated config. Connections to the servers are made lazily. */
    public BallastDataSource(ClusterConfig config) throws SQLException {
        this.config = config;
        MergeGuard mergeGuard = new MergeGuard(config.tables().values().stream()
                .filter(t -> t instanceof TableRule.Sharded && t.dataNodes().size() > 1)
                .map(t -> t.name().toLowerCase(java.util.Locale.ROOT)).toList());
        LiveTopology createdTopology = null;
        HealthProbe startedProbe = null;
        ReadRouter createdRouter = null;
        WorkerIds createdWorkers = null;
        String registered = null;
        try {
            createdTopology = LiveTopology.open(config);
            AlgorithmConfiguration snowflake = new AlgorithmConfiguration("SNOWFLAKE", new Properties());
            if (WorkerIds.needed(config)) {
                createdWorkers = WorkerIds.open(config, createdTopology.zookeeper(), System::getenv);
                registered = BallastSnowflakeAlgorithm.register(new Snowflake(config.name(), createdWorkers,
                        Snowflake.Clock.SYSTEM, Snowflake.MAX_BACKWARDS_WAIT_MS));
                Properties keys = new Properties();
                keys.setProperty(BallastSnowflakeAlgorithm.GENERATOR, registered);
                snowflake = new AlgorithmConfiguration(BallastSnowflakeAlgorithm.TYPE, keys);
            }
            dev.ballast.metrics.DataPlaneMetrics[] metrics = new dev.ballast.metrics.DataPlaneMetrics[1];
            startedProbe = new HealthProbe(forTopology(config, createdTopology), (g, n, ok, nanos) -> {
                if (metrics[0] != null) {
                    metrics[0].probed(g, n, ok, nanos);
                }
            });
            startedProbe.start();
            createdRouter = new ReadRouter(config, startedProbe, createdTopology);
            metrics[0] = createdRouter.metrics();
            startedProbe.addListener(createdRouter.metrics()::health);
            Properties balancer = new Properties();
            balancer.setProperty(BallastLoadBalancer.ROUTER, createdRouter.id());
            Properties props = new Properties();
            props.setProperty("sql-show", "false");
            ModeConfiguration mode = new ModeConfiguration(BallastContextManagerBuilder.TYPE, null);
            shardingSphere = ShardingSphereDataSourceFactory.createDataSource(config.database(), mode,
                    new LinkedHashMap<>(createdRouter.storageUnits()),
                    ShardingSphereRules.rules(config, new AlgorithmConfiguration(BallastLoadBalancer.TYPE, balancer), snowflake),
                    props);
        } catch (SQLException | RuntimeException e) {
            if (createdRouter != null) {
                createdRouter.close();
                createdRouter.pools().forEach(NodeDataSource::shutdown);
            }
            if (startedProbe != null) {
                startedProbe.close();
            }
            if (registered != null) {
                BallastSnowflakeAlgorithm.unregister(registered);
            }
            if (createdWorkers != null) {
                createdWorkers.close();
            }
            if (createdTopology != null) {
                createdTopology.close();
            }
            throw e;
        }
        this.topology = createdTopology;
        this.router = createdRouter;
        this.workers = createdWorkers;
        this.keyGenerator = registered;
        this.plane = new Wrappers.Plane(config, mergeGuard, createdRouter, shardingSphere, new SystemSchema(config,
                new SystemSchema.Servers() {
                    @Override
                    public Connection connect(String group) throws SQLException {
                        return serverConnection(group);
                    }

                    @Override
                    public String describe(String group) {
                        return group + " (" + topology.get(group).master() + ")";
                    }
                }));
        this.followers = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "ballast-topology-" + config.name());
            t.setDaemon(true);
            return t;
        });
        ReadRouter r = createdRouter;
        createdTopology.addListener(t -> {
            r.follow(t); // writes and reads move at once; the replicas' health follows below
            followers.execute(this::reprobe);
        });
    }

    /** Probes the servers of the topology now in force, then hands the new view to the router. */
    private void reprobe() {
        if (closed) {
            return;
        }
        HealthProbe fresh = new HealthProbe(forTopology(config, topology), router.metrics()::probed);
        fresh.addListener(router.metrics()::health);
        try {
            fresh.start();
        } catch (RuntimeException e) {
            fresh.close();
            Logger.getLogger("dev.ballast").warning("[cluster=" + config.name() + "] probing the new topology: " + e);
            return;
        }
        if (closed) {
            fresh.close();
            return;
        }
        router.useProbe(fresh);
    }

    /** The config with each group's servers as the topology has them now (what the health probe watches). */
    private static ClusterConfig forTopology(ClusterConfig config, LiveTopology topology) {
        Map<String, GroupConfig> groups = new LinkedHashMap<>();
        for (GroupConfig g : config.groups().values()) {
            GroupTopology t = topology.get(g.name());
            groups.put(g.name(), new GroupConfig(g.name(), t.master(), t.replicas(), g.flavour()));
        }
        return config.withGroups(groups);
    }

    /** The fast-path route of {@code sql}, or null when it needs ShardingSphere (used by the proxy's relay). */
    public dev.ballast.jdbc.fastpath.RouteTemplate routeTemplate(String sql) {
        return plane.templates().of(sql);
    }

    /** Where each group's statements go now (used by the proxy's relay). */
    public ReadRouter router() {
        return router;
    }

    /**
     * Reports this data source to an application's registry: Ballast's meters (statements by route, group and role;
     * errors by SQLSTATE class; replica lag, ejections, write holds, epochs, probe latency; see docs/metrics.md) and
     * every pool's own through HikariCP's Micrometer tracker. Call it once (again with the same registry is a no-op).
     *
     * @throws IllegalStateException when already bound to another registry (bind a CompositeMeterRegistry instead)
     */
    @Override
    public void bindTo(io.micrometer.core.instrument.MeterRegistry registry) {
        router.bindTo(registry);
    }

    /** The registry this data source reports to, or null when it is not bound. */
    public io.micrometer.core.instrument.MeterRegistry meterRegistry() {
        return router.metrics().registry();
    }

    /** Loads and validates a cluster config file, then builds the data source. */
    public static BallastDataSource fromYaml(Path file) throws SQLException {
        return new BallastDataSource(ClusterConfigLoader.load(file));
    }

    public ClusterConfig config() {
        return config;
    }

    /**
     * A connection to the current master of {@code group} itself, outside sharding and splitting: for statements that
     * read no table (server variables, functions) and for statement metadata. The caller closes it.
     */
    public Connection serverConnection(String group) throws SQLException {
        config.group(group);
        return router.masterConnection(group);
    }

    /** The latest health probe of a group's servers. */
    public dev.ballast.jdbc.health.GroupHealth health(String group) {
        return router.probe().group(group);
    }

    /** Where this data source's snowflake worker id comes from; empty when no table has a snowflake key. */
    public java.util.Optional<WorkerIds> workerIds() {
        return java.util.Optional.ofNullable(workers);
    }

    /** Who serves each group, as this data source sees it now. */
    public LiveTopology topology() {
        return topology;
    }

    @Override
    public Connection getConnection() throws SQLException {
        if (closed) {
            throw new SQLException("[cluster=" + config.name() + "] this BallastDataSource is closed", "08003");
        }
        return Wrappers.connection(null, plane);
    }

    /**
     * A connection that continues {@code session}: read-your-writes then holds across every connection made for the
     * same session (the proxy makes one per statement for each client, and one session per client).
     */
    public Connection getConnection(dev.ballast.jdbc.internal.Session session) throws SQLException {
        if (closed) {
            throw new SQLException("[cluster=" + config.name() + "] this BallastDataSource is closed", "08003");
        }
        return Wrappers.connection(null, plane, session);
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException("[cluster=" + config.name()
                + "] per-call credentials are not supported; set credentials in the cluster config");
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (shardingSphere instanceof AutoCloseable c) {
                c.close();
            }
        } catch (Exception e) {
            Logger.getLogger("dev.ballast").warning("[cluster=" + config.name() + "] closing ShardingSphere: " + e);
        } finally {
            followers.shutdownNow();
            if (keyGenerator != null) {
                BallastSnowflakeAlgorithm.unregister(keyGenerator);
            }
            if (workers != null) {
                workers.close(); // before the ZooKeeper client it uses
            }
            topology.close();
            router.close();
            router.probe().close();
            router.pools().forEach(NodeDataSource::shutdown);
        }
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
    }

    @Override
    public void setLoginTimeout(int seconds) {
    }

    @Override
    public int getLoginTimeout() {
        return 0;
    }

    @Override
    public Logger getParentLogger() {
        return Logger.getLogger("dev.ballast");
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException("not a wrapper for " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }

    @Override
    public String toString() {
        return "BallastDataSource[cluster=" + config.name() + ", groups=" + config.groups().keySet() + "]";
    }
}
