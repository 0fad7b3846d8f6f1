package dev.ballast.jdbc.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.NodeAddress;
import dev.ballast.rules.PoolSettings;

import java.io.PrintWriter;
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

    public NodeDataSource(ClusterConfig config, String group, String role, NodeAddress address) {
        this.cluster = config.name();
        this.group = group;
        this.role = role;
        this.address = address;
        this.pool = new HikariDataSource(hikariConfig(config, group, role, address));
    }

    static HikariConfig hikariConfig(ClusterConfig config, String group, String role, NodeAddress address) {
        PoolSettings p = config.pool();
        HikariConfig h = new HikariConfig();
        h.setPoolName("ballast-" + config.name() + "-" + group + "-" + role + "-" + address);
        h.setJdbcUrl("jdbc:mysql://" + address + "/" + config.database());
        h.setUsername(config.credentials().user());
        h.setPassword(config.credentials().password());
        h.setMaximumPoolSize(p.maxPoolSize());
        h.setMinimumIdle(p.minIdle());
        h.setConnectionTimeout(p.connectionTimeoutMs());
        h.setIdleTimeout(p.idleTimeoutMs());
        h.setMaxLifetime(p.maxLifetimeMs());
        // Checking an idle connection must not take longer than opening a new one would.
        h.setValidationTimeout(Math.max(250, Math.min(p.connectTimeoutMs(), p.connectionTimeoutMs() - 1)));
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
        try {
            return pool.getConnection();
        } catch (SQLException e) {
            throw Errors.unreachable(this, e);
        }
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
