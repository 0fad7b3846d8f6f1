package dev.ballast.jdbc.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.NodeAddress;
import dev.ballast.rules.PoolSettings;

import com.mysql.cj.jdbc.JdbcConnection;
import com.mysql.cj.protocol.ServerSessionStateController;
import dev.ballast.rules.Flavour;
import dev.ballast.rules.ReadPolicy;

import java.io.PrintWriter;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * The pool of one physical server in one role of one group. This is the storage unit ShardingSphere
 * sees; failing to connect turns into an error that names the cluster, group, role and node.
 */
public final class NodeDataSource implements DataSource {

    private final String cluster;
    private final String group;
    private final String role;
    private final NodeAddress address;
    private final HikariDataSource pool;
    private final boolean trackCommits;
    private final Flavour flavour;
    private final Map<Object, CommitTracker> trackers = Collections.synchronizedMap(new WeakHashMap<>());
    private final dev.ballast.metrics.DataPlaneMetrics.StatementCounters statements;
    private boolean tracked;
    private volatile ReadRouter router;

    public NodeDataSource(ClusterConfig config, String group, String role, NodeAddress address) {
        this(config, group, role, address, new dev.ballast.metrics.DataPlaneMetrics(config));
    }

    /** A pool whose statements count in {@code metrics}; HikariCP's tracker reports to its registry once bound. */
    public NodeDataSource(ClusterConfig config, String group, String role, NodeAddress address,
                          dev.ballast.metrics.DataPlaneMetrics metrics) {
        this.cluster = config.name();
        this.group = group;
        this.role = role;
        this.address = address;
        this.flavour = config.group(group).flavour();
        this.trackCommits = MASTER.equals(role) && config.readPolicy().readYourWrites() == ReadPolicy.ReadYourWrites.GTID_WAIT;
        HikariConfig h = hikariConfig(config, group, role, address);
        if (trackCommits) {
            // The server then reports each commit's GTID in its OK packet: read-your-writes at no extra round trip.
            h.addDataSourceProperty("trackSessionState", "true");
            h.setConnectionInitSql(config.group(group).flavour() == Flavour.MYSQL
                    ? "SET SESSION session_track_gtids = OWN_GTID"
                    : "SET SESSION session_track_system_variables = CONCAT_WS(',', @@session_track_system_variables, 'last_gtid')");
        }
        this.statements = metrics.statements(group, role);
        io.micrometer.core.instrument.MeterRegistry registry = metrics.registry();
        if (registry != null) {
            h.setMetricsTrackerFactory(new com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory(registry));
            tracked = true;
        }
        this.pool = new HikariDataSource(h);
    }

    /** The statement counters of this pool's group and role (the statement paths increment them). */
    public dev.ballast.metrics.DataPlaneMetrics.StatementCounters statements() {
        return statements;
    }

    /** Reports the pool's own meters (HikariCP's Micrometer tracker) to {@code registry}; once per pool. */
    synchronized void track(io.micrometer.core.instrument.MeterRegistry registry) {
        if (tracked) {
            return;
        }
        tracked = true;
        pool.setMetricsTrackerFactory(new com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory(registry));
    }

    public static final String MASTER = "master";
    public static final String REPLICA = "replica";

    /** Replicas hand reads elsewhere through the router when they cannot connect. */
    public void routeFailuresThrough(ReadRouter router) {
        this.router = router;
    }

    public static HikariConfig hikariConfig(ClusterConfig config, String group, String role, NodeAddress address) {
        PoolSettings p = config.pool();
        HikariConfig h = new HikariConfig();
        h.setPoolName("ballast-" + config.name() + "-" + group + "-" + role + "-" + address);
        h.setJdbcUrl("jdbc:mysql://" + address + "/" + config.database());
        h.setUsername(config.credentials().user());
        h.setPassword(config.credentials().password());
        h.setMaximumPoolSize(p.maxPoolSize());
        h.setMinimumIdle(p.minIdle());
        // A read waits at most 1 s for a replica connection before it goes to another server.
        // With a live topology a write waits for a master in rounds of at most 500 ms, each time checking whether a new
        // master was published meanwhile (failover.writeHoldMs bounds the whole wait).
        long connectionTimeout = REPLICA.equals(role) ? Math.max(500, Math.min(p.connectionTimeoutMs(), 1_000))
                : config.failover().zookeeper().isPresent() ? 500 : p.connectionTimeoutMs();
        h.setConnectionTimeout(connectionTimeout);
        h.setIdleTimeout(p.idleTimeoutMs());
        h.setMaxLifetime(p.maxLifetimeMs());
        // Checking an idle connection must not take longer than opening a new one would.
        h.setValidationTimeout(Math.max(250, Math.min(p.connectTimeoutMs(), connectionTimeout - 250)));
        // A server that is down at start must not stop the cluster from starting: the pool fills when it is back.
        h.setInitializationFailTimeout(-1);
        h.addDataSourceProperty("connectTimeout", String.valueOf(p.connectTimeoutMs()));
        h.addDataSourceProperty("socketTimeout", String.valueOf(p.socketTimeoutMs()));
        // Connector/J settings that ShardingSphere would add to pools it builds itself.
        h.addDataSourceProperty("cachePrepStmts", "true");
        h.addDataSourceProperty("prepStmtCacheSize", "250");
        h.addDataSourceProperty("prepStmtCacheSqlLimit", "2048");
        h.addDataSourceProperty("useServerPrepStmts", "true");
        h.addDataSourceProperty("useLocalSessionState", "true");
        h.addDataSourceProperty("rewriteBatchedStatements", "true");
        h.addDataSourceProperty("cacheResultSetMetadata", "true");
        h.addDataSourceProperty("cacheServerConfiguration", "true");
        h.addDataSourceProperty("elideSetAutoCommits", "true");
        h.addDataSourceProperty("maintainTimeStats", "false");
        h.addDataSourceProperty("tcpKeepAlive", "true");
        p.jdbcProperties().forEach(h::addDataSourceProperty);
        // MariaDB 10.x's "5.5.5-" version prefix would make Connector/J drop fractions of a second (see the class)
        Object own = h.getDataSourceProperties().get(MariaDbFractionalSeconds.PROPERTY);
        h.addDataSourceProperty(MariaDbFractionalSeconds.PROPERTY, MariaDbFractionalSeconds.class.getName()
                + (own == null || own.toString().isBlank() ? "" : "," + own));
        return h;
    }

    /** The server's JDBC URL. ShardingSphere reads it (with the user name) to learn the storage type and schema. */
    public String getUrl() {
        return pool.getJdbcUrl();
    }

    public String getUsername() {
        return pool.getUsername();
    }

    public String describe() {
        return "cluster=" + cluster + " group=" + group + " node=" + address + " role=" + role;
    }

    public NodeAddress address() {
        return address;
    }

    public String group() {
        return group;
    }

    @Override
    public Connection getConnection() throws SQLException {
        ReadRouter r = router;
        if (r == null) {
            return getConnectionNoFallback();
        }
        try {
            return getConnectionNoFallback();
        } catch (SQLException e) {
            return r.connectionInsteadOf(this, e);
        }
    }

    /** A connection to this very server, or an error naming it. */
    Connection getConnectionNoFallback() throws SQLException {
        Connection c;
        try {
            c = pool.getConnection();
        } catch (SQLException e) {
            throw Errors.unreachable(this, e);
        }
        if (trackCommits) {
            track(c);
        }
        return c;
    }

    /** Points the connection's commit reports at the session that borrows it now. */
    private void track(Connection c) throws SQLException {
        JdbcConnection physical = c.unwrap(JdbcConnection.class);
        CommitTracker tracker = trackers.get(physical);
        if (tracker == null) {
            tracker = new CommitTracker(group);
            trackers.put(physical, tracker);
            physical.getServerSessionStateController().addSessionStateChangesListener(tracker);
        }
        tracker.session = Session.current();
    }

    /** Receives the GTID of each commit from the server's OK packets. */
    private static final class CommitTracker implements ServerSessionStateController.SessionStateChangesListener {
        private final String group;
        volatile Session session;

        CommitTracker(String group) {
            this.group = group;
        }

        @Override
        public void handleSessionStateChanges(ServerSessionStateController.ServerSessionStateChanges changes) {
            Session s = session;
            if (s == null) {
                return;
            }
            for (ServerSessionStateController.SessionStateChange change : changes.getSessionStateChangesList()) {
                List<String> values = change.getValues();
                if (change.getType() == ServerSessionStateController.SESSION_TRACK_SYSTEM_VARIABLES
                        && values.size() >= 2 && "last_gtid".equals(values.get(0)) && !values.get(1).isEmpty()) {
                    s.committed(group, values.get(1));
                } else if (change.getType() == ServerSessionStateController.SESSION_TRACK_GTIDS && !values.isEmpty()) {
                    s.committed(group, values.get(values.size() - 1));
                }
            }
        }
    }

    public String role() {
        return role;
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException("[" + describe() + "] per-call credentials are not supported; "
                + "set credentials in the cluster config");
    }

    /** Closes the pool; idempotent. */
    public void shutdown() {
        pool.close();
    }

    /** Whether the pool was closed: the server left this role (connections made elsewhere for it must go too). */
    public boolean isShutdown() {
        return pool.isClosed();
    }

    /** The group's flavour, for the session settings of connections the proxy makes itself. */
    public Flavour flavour() {
        return flavour;
    }

    /** Whether connections in this role report each commit's GTID (read-your-writes by gtid-wait on a master). */
    public boolean tracksCommits() {
        return trackCommits;
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return pool.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        pool.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        pool.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return pool.getLoginTimeout();
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
        return pool.unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || pool.isWrapperFor(iface);
    }

    @Override
    public String toString() {
        return "NodeDataSource[" + describe() + "]";
    }
}
