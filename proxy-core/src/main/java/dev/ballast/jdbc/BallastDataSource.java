package dev.ballast.jdbc;

import dev.ballast.jdbc.health.HealthProbe;
import dev.ballast.sysschema.SystemSchema;
import dev.ballast.jdbc.internal.BallastLoadBalancer;
import dev.ballast.jdbc.internal.BallastContextManagerBuilder;
import dev.ballast.jdbc.internal.MergeGuard;
import dev.ballast.jdbc.internal.MetadataReload;
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

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(BallastDataSource.class);

    /**
     * What a config's servers need, below ShardingSphere: the topology watch, the pools and health probe (the router),
     * the worker-id lease. Shared by the generations of configs that differ only in tables and rules (a pushed config
     * that adds a table reuses it: the proxy's relay keeps its router); closed when the last generation using it closes.
     */
    private static final class Base {
        final ClusterConfig config;
        final LiveTopology topology;
        final ReadRouter router;
        final WorkerIds workers;
        final String keyGenerator;
        final AlgorithmConfiguration snowflake;
        final ExecutorService followers;
        /** this data plane's entry under {@code planes/} (the schema version it has loaded); null without ZooKeeper */
        final dev.ballast.topology.PlaneRegistration registration;
        final java.util.concurrent.CopyOnWriteArrayList<Generation> users = new java.util.concurrent.CopyOnWriteArrayList<>();
        /** breaks deadlocks between this data plane's transactions over several groups; null when off */
        final dev.ballast.jdbc.internal.Deadlocks deadlocks;
        volatile boolean closed;

        Base(ClusterConfig config) {
            this.config = config;
            LiveTopology createdTopology = null;
            HealthProbe startedProbe = null;
            ReadRouter createdRouter = null;
            WorkerIds createdWorkers = null;
            String registered = null;
            try {
                createdTopology = LiveTopology.open(config);
                AlgorithmConfiguration keys = new AlgorithmConfiguration("SNOWFLAKE", new Properties());
                if (WorkerIds.needed(config)) {
                    createdWorkers = WorkerIds.open(config, createdTopology.zookeeper(), System::getenv);
                    registered = BallastSnowflakeAlgorithm.register(new Snowflake(config.name(), createdWorkers,
                            Snowflake.Clock.SYSTEM, Snowflake.MAX_BACKWARDS_WAIT_MS));
                    Properties p = new Properties();
                    p.setProperty(BallastSnowflakeAlgorithm.GENERATOR, registered);
                    keys = new AlgorithmConfiguration(BallastSnowflakeAlgorithm.TYPE, p);
                }
                this.snowflake = keys;
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
            } catch (RuntimeException e) {
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
            long loadedSchema = createdTopology.schemaVersion().version();
            this.registration = createdTopology.zookeeper().map(zk -> dev.ballast.topology.PlaneRegistration.start(zk,
                    config.name(), config.failover().clusterPath(config.name()), loadedSchema, 2_000)).orElse(null);
            this.router = createdRouter;
            this.deadlocks = dev.ballast.jdbc.internal.Deadlocks.wanted(config) ? new dev.ballast.jdbc.internal.Deadlocks(config) : null;
            if (deadlocks != null) {
                deadlocks.start();
            }
            this.workers = createdWorkers;
            this.keyGenerator = registered;
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
            createdTopology.addSchemaListener(v -> followers.execute(() -> {
                List<String> failures = new ArrayList<>();
                for (Generation g : users) {
                    String failure = g.reload(v.version(), v.tables(), v.atMillis());
                    if (!failure.isEmpty()) {
                        failures.add(failure);
                    }
                }
                if (registration != null && !closed) {
                    registration.loaded(v.version(), String.join("; ", failures));
                }
            }));
        }

        /** Whether a generation of {@code next} can run on this base: same servers, settings and key generation. */
        boolean serves(ClusterConfig next) {
            return !closed && config.name().equals(next.name()) && config.database().equals(next.database())
                    && config.credentials().equals(next.credentials()) && config.monitor().equals(next.monitor())
                    && config.pool().equals(next.pool()) && config.readPolicy().equals(next.readPolicy())
                    && config.groups().equals(next.groups()) && config.failover().equals(next.failover())
                    && config.workerId().equals(next.workerId()) && WorkerIds.needed(next) == (workers != null);
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

        /** Called when a generation using it closed: closes the base after its last one. */
        synchronized void released(Generation g) {
            users.remove(g);
            if (!users.isEmpty() || closed) {
                return;
            }
            closed = true;
            followers.shutdownNow();
            if (deadlocks != null) {
                deadlocks.close();
            }
            if (keyGenerator != null) {
                BallastSnowflakeAlgorithm.unregister(keyGenerator);
            }
            if (workers != null) {
                workers.close(); // before the ZooKeeper client it uses
            }
            if (registration != null) {
                registration.close();
            }
            topology.close();
            router.close();
            router.probe().close();
            router.pools().forEach(NodeDataSource::shutdown);
        }
    }

    /** What one config builds on a base: ShardingSphere, the fast path, the plane; replaced whole by a pushed config. */
    private static final class Generation {
        final Base base;
        final ClusterConfig config;
        /** the published config version it was built from; 0 = the file's */
        final long configVersion;
        final DataSource shardingSphere;
        final LiveTopology topology;
        final ReadRouter router;
        final Wrappers.Plane plane;
        final WorkerIds workers;
        final MetadataReload reload;
        volatile boolean closed;

        Generation(Base base, ClusterConfig config, long configVersion) throws SQLException {
            this.base = base;
            this.config = config;
            this.configVersion = configVersion;
            this.topology = base.topology;
            this.router = base.router;
            this.workers = base.workers;
            MergeGuard mergeGuard = new MergeGuard(config.tables().values().stream()
                    .filter(t -> t instanceof TableRule.Sharded && t.dataNodes().size() > 1)
                    .map(t -> t.name().toLowerCase(java.util.Locale.ROOT)).toList());
            long schemaBase = topology.schemaVersion().version(); // ShardingSphere loads the tables as they are after it
            Properties balancer = new Properties();
            balancer.setProperty(BallastLoadBalancer.ROUTER, router.id());
            Properties props = new Properties();
            props.setProperty("sql-show", "false");
            ModeConfiguration mode = new ModeConfiguration(BallastContextManagerBuilder.TYPE, null);
            BallastContextManagerBuilder.takeBuilt(); // nothing left over on this thread
            this.shardingSphere = ShardingSphereDataSourceFactory.createDataSource(config.database(), mode,
                    new LinkedHashMap<>(router.storageUnits()),
                    ShardingSphereRules.rules(config, new AlgorithmConfiguration(BallastLoadBalancer.TYPE, balancer), base.snowflake),
                    props);
            org.apache.shardingsphere.mode.manager.ContextManager context = BallastContextManagerBuilder.takeBuilt();
            LiveTopology live = topology;
            ReadRouter routes = router;
            this.plane = new Wrappers.Plane(config, mergeGuard, router, shardingSphere, new SystemSchema(config,
                    new SystemSchema.Servers() {
                        @Override
                        public Connection connect(String group) throws SQLException {
                            config.group(group);
                            return routes.masterConnection(group);
                        }

                        @Override
                        public String describe(String group) {
                            return group + " (" + live.get(group).master() + ")";
                        }
                    }), base.deadlocks);
            this.reload = context == null ? null : new MetadataReload(config, context, plane.templates());
            base.users.add(this);
            dev.ballast.topology.SchemaVersion now = topology.schemaVersion();
            if (now.version() > schemaBase) {
                // bumped while ShardingSphere loaded: one bump's tables, or every table when several were missed
                List<String> tables = now.version() == schemaBase + 1 ? now.tables() : List.copyOf(config.tables().keySet());
                base.followers.execute(() -> {
                    String failure = reload(now.version(), tables, now.atMillis());
                    if (base.registration != null) {
                        base.registration.loaded(now.version(), failure);
                    }
                });
            }
        }

        /**
         * Reloads the changed tables' metadata (on the base's followers' thread: it reads the servers). Returns why it
         * failed, or "" when it reloaded (or this generation is closed).
         */
        String reload(long version, List<String> tables, long bumpedAt) {
            if (closed) {
                return "";
            }
            if (reload == null) {
                return "this data source cannot reload ShardingSphere's metadata (not built by Ballast's context builder)";
            }
            long start = System.nanoTime();
            try {
                MetadataReload.Result result = reload.reload(tables);
                log.info("[cluster={}] schema version {}: reloaded {} in {} ms ({} ms after the bump by this host's clock); "
                                + "{} fast-path texts analysed again{}{}", config.name(), version, result.reloaded(),
                        (System.nanoTime() - start) / 1_000_000, System.currentTimeMillis() - bumpedAt,
                        result.templatesForgotten(),
                        result.unknown().isEmpty() ? "" : "; not in the config, ignored: " + result.unknown(),
                        result.missing().isEmpty() ? "" : "; not on the servers: " + result.missing());
                return "";
            } catch (SQLException | RuntimeException e) {
                log.warn("[cluster={}] schema version {}: reloading {} failed: {}; statements through ShardingSphere see the "
                        + "old definition until the next bump", config.name(), version, tables, e.toString());
                return "reloading " + tables + ": " + e;
            }
        }

        void close() {
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
                base.released(this);
            }
        }
    }

    /** A generation of {@code config} on {@code base} when it serves it, else on a new base; nothing left open on failure. */
    private static Generation build(Base reuse, ClusterConfig config, long configVersion) throws SQLException {
        if (reuse != null && reuse.serves(config)) {
            synchronized (reuse) {
                if (!reuse.closed) {
                    return new Generation(reuse, config, configVersion);
                }
            }
        }
        Base base = new Base(config);
        try {
            return new Generation(base, config, configVersion);
        } catch (SQLException | RuntimeException e) {
            base.released(null);
            throw e;
        }
    }

    private final String cluster;
    private volatile Generation current;
    /** follows the published config; null unless failover.followConfig */
    private final dev.ballast.topology.ConfigWatch configWatch;
    private final ExecutorService swaps;
    private volatile io.micrometer.core.instrument.MeterRegistry registry;
    private volatile boolean closed;

    /**
     * Builds the data plane of a validated config. Connections to the servers are made lazily. With
     * {@code failover.followConfig}, the config published in ZooKeeper ({@code ballast config push}) is used instead
     * when there is one that builds, and each newer one replaces it whole while the data source runs.
     */
    public BallastDataSource(ClusterConfig config) throws SQLException {
        this.cluster = config.name();
        dev.ballast.topology.ConfigWatch watch = null;
        Generation first = null;
        if (config.failover().followConfig()) {
            watch = dev.ballast.topology.ConfigWatch.open(config);
            java.util.Optional<dev.ballast.topology.PublishedConfig> published = watch.current();
            if (published.isPresent()) {
                try {
                    first = build(null, parsePublished(config, published.get()), published.get().version());
                    log.info("[cluster={}] using the published config version {} (pushed by {} from {})", cluster,
                            published.get().version(), published.get().by(), published.get().source());
                } catch (SQLException | RuntimeException e) {
                    log.error("[cluster={}] the published config version {} cannot be used: {}; starting on the file's "
                            + "config", cluster, published.get().version(), e.getMessage());
                }
            }
        }
        try {
            this.current = first != null ? first : build(null, config, 0);
        } catch (SQLException | RuntimeException e) {
            if (watch != null) {
                watch.close();
            }
            throw e;
        }
        this.configWatch = watch;
        this.swaps = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "ballast-config-" + cluster);
            t.setDaemon(true);
            return t;
        });
        if (watch != null) {
            ClusterConfig bootstrap = config;
            watch.start(p -> swaps.execute(() -> take(bootstrap, p)));
        }
    }

    /** A published config's text, validated as every config is, with this process's environment. */
    private static ClusterConfig parsePublished(ClusterConfig bootstrap, dev.ballast.topology.PublishedConfig published) {
        ClusterConfig parsed = ClusterConfigLoader.parse(published.yaml(), System::getenv);
        if (!parsed.name().equals(bootstrap.name())) {
            throw new IllegalArgumentException("it is the config of cluster '" + parsed.name() + "', not '"
                    + bootstrap.name() + "'");
        }
        return parsed;
    }

    /**
     * Takes a newer published config: builds its data plane whole, then swaps it in; connections already open finish
     * on the old one, which closes after its last connection. A config that does not parse or build is logged and
     * the one in force kept.
     */
    private void take(ClusterConfig bootstrap, dev.ballast.topology.PublishedConfig published) {
        Generation before = current;
        if (closed || published.version() <= before.configVersion) {
            return;
        }
        long start = System.nanoTime();
        Generation next;
        try {
            next = build(before.base, parsePublished(bootstrap, published), published.version());
        } catch (SQLException | RuntimeException e) {
            log.error("[cluster={}] published config version {} (pushed by {}) not taken: {}; keeping version {}", cluster,
                    published.version(), published.by(), e.getMessage(), before.configVersion);
            return;
        }
        io.micrometer.core.instrument.MeterRegistry r = registry;
        if (r != null && next.base != before.base) {
            try {
                next.router.bindTo(r);
            } catch (RuntimeException e) {
                log.warn("[cluster={}] binding the new config's meters: {}", cluster, e.toString());
            }
        }
        synchronized (this) {
            if (closed) {
                next.close();
                return;
            }
            current = next;
        }
        log.info("[cluster={}] config version {} in force ({} ms to build{}; pushed by {}); version {} closes after its "
                + "last connection ({} open)", cluster, published.version(), (System.nanoTime() - start) / 1_000_000,
                next.base == before.base ? ", same servers: pools, probes and topology kept" : ", new pools and probes",
                published.by(), before.configVersion, before.plane.open().get());
        retire(before);
    }

    /** Closes a replaced generation once no connection of it is open (checked every 100 ms, on a daemon thread). */
    private void retire(Generation old) {
        Thread t = new Thread(() -> {
            try {
                while (old.plane.open().get() > 0 && !closed) {
                    Thread.sleep(100);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            old.close();
            log.info("[cluster={}] config version {} closed", cluster, old.configVersion);
        }, "ballast-retire-" + cluster);
        t.setDaemon(true);
        t.start();
    }

    /** The published config version in force: 0 for the file's config. */
    public long configVersion() {
        return current.configVersion;
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
        return current.plane.templates().of(sql);
    }

    /** The scatter-and-merge plan of {@code sql}, or null when ShardingSphere must run it (used by the proxy's relay). */
    public dev.ballast.jdbc.fastpath.ScatterTemplate scatterTemplate(String sql) {
        return current.plane.templates().scatter(sql);
    }

    /** Where each group's statements go now (used by the proxy's relay). */
    public ReadRouter router() {
        return current.router;
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
        current.router.bindTo(registry);
        dev.ballast.jdbc.internal.Deadlocks d = current.base.deadlocks;
        if (d != null) {
            io.micrometer.core.instrument.FunctionCounter.builder("ballast.deadlock.victims", d,
                            dev.ballast.jdbc.internal.Deadlocks::victims)
                    .description("Transactions over several groups rolled back to end a deadlock that no server saw whole")
                    .tags("cluster", current.config.name()).register(registry);
        }
        this.registry = registry;
    }

    /** The check that breaks deadlocks between this data source's transactions over several groups; null when off. */
    public dev.ballast.jdbc.internal.Deadlocks deadlocks() {
        return current.base.deadlocks;
    }

    /** The registry this data source reports to, or null when it is not bound. */
    public io.micrometer.core.instrument.MeterRegistry meterRegistry() {
        return current.router.metrics().registry();
    }

    /** Loads and validates a cluster config file, then builds the data source. */
    public static BallastDataSource fromYaml(Path file) throws SQLException {
        return new BallastDataSource(ClusterConfigLoader.load(file));
    }

    public ClusterConfig config() {
        return current.config;
    }

    /**
     * A connection to the current master of {@code group} itself, outside sharding and splitting: for statements that
     * read no table (server variables, functions) and for statement metadata. The caller closes it.
     */
    public Connection serverConnection(String group) throws SQLException {
        Generation g = current;
        g.config.group(group);
        return g.router.masterConnection(group);
    }

    /** The latest health probe of a group's servers. */
    public dev.ballast.jdbc.health.GroupHealth health(String group) {
        return current.router.probe().group(group);
    }

    /** Where this data source's snowflake worker id comes from; empty when no table has a snowflake key. */
    public java.util.Optional<WorkerIds> workerIds() {
        return java.util.Optional.ofNullable(current.workers);
    }

    /** Who serves each group, as this data source sees it now. */
    public LiveTopology topology() {
        return current.topology;
    }

    @Override
    public Connection getConnection() throws SQLException {
        if (closed) {
            throw new SQLException("[cluster=" + cluster + "] this BallastDataSource is closed", "08003");
        }
        return Wrappers.connection(null, current.plane);
    }

    /**
     * A connection that continues {@code session}: read-your-writes then holds across every connection made for the
     * same session (the proxy makes one per statement for each client, and one session per client).
     */
    public Connection getConnection(dev.ballast.jdbc.internal.Session session) throws SQLException {
        if (closed) {
            throw new SQLException("[cluster=" + cluster + "] this BallastDataSource is closed", "08003");
        }
        return Wrappers.connection(null, current.plane, session);
    }

    /**
     * As {@link #getConnection(dev.ballast.jdbc.internal.Session)}, with each group's master connection taken from
     * {@code masters} (group → connection) instead of the pools: for the proxy's relayed transactions over several groups.
     */
    public Connection getConnection(dev.ballast.jdbc.internal.Session session,
                                    java.util.function.Function<String, Connection> masters) throws SQLException {
        if (closed) {
            throw new SQLException("[cluster=" + cluster + "] this BallastDataSource is closed", "08003");
        }
        return Wrappers.connection(current.plane, session, masters);
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException("[cluster=" + cluster
                + "] per-call credentials are not supported; set credentials in the cluster config");
    }

    @Override
    public void close() {
        Generation g;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            g = current;
        }
        if (configWatch != null) {
            configWatch.close();
        }
        swaps.shutdownNow();
        g.close();
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
        return "BallastDataSource[cluster=" + cluster + ", groups=" + current.config.groups().keySet() + "]";
    }
}
