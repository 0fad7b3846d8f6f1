package dev.ballast.jdbc.internal;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A storage unit as ShardingSphere sees it: a group's master ({@code <group>__master}) or one of its read slots
 * ({@code <group>__replica<i>}). ShardingSphere's set of units is fixed when it starts; which server stands behind a unit
 * is not: each connection goes to the server the {@link ReadRouter} names for the unit now, so a new master or a
 * changed replica set needs no rebuild.
 */
public final class UnitDataSource implements DataSource {

    private final ReadRouter router;
    private final String group;
    private final String unit;
    private final boolean master;
    private final String url;
    private final String username;
    private final dev.ballast.metrics.DataPlaneMetrics.StatementCounters statements;

    UnitDataSource(ReadRouter router, String group, String unit, boolean master) {
        this.router = router;
        this.group = group;
        this.unit = unit;
        this.master = master;
        NodeDataSource initial = master ? router.master(group) : router.unitPool(group, unit);
        this.url = initial.getUrl();
        this.username = initial.getUsername();
        this.statements = router.metrics().statements(group, master ? NodeDataSource.MASTER : NodeDataSource.REPLICA);
    }

    /** What ShardingSphere's statements to this unit count in. */
    dev.ballast.metrics.DataPlaneMetrics.StatementCounters statements() {
        return statements;
    }

    /** Builds every unit of the router's config, by unit name. */
    static java.util.Map<String, DataSource> all(dev.ballast.rules.ClusterConfig config, ReadRouter router) {
        java.util.Map<String, DataSource> units = new java.util.LinkedHashMap<>();
        for (dev.ballast.rules.GroupConfig g : config.groups().values()) {
            String m = dev.ballast.rules.shardingsphere.ShardingSphereRules.masterUnit(g.name());
            units.put(m, new UnitDataSource(router, g.name(), m, true));
            for (int i = 0; i < g.replicas().size(); i++) {
                String r = dev.ballast.rules.shardingsphere.ShardingSphereRules.replicaUnit(g.name(), i);
                units.put(r, new UnitDataSource(router, g.name(), r, false));
            }
        }
        return units;
    }

    @Override
    public Connection getConnection() throws SQLException {
        if (master) {
            // Inside a call of a Ballast logical connection, ShardingSphere uses that connection's own master connection,
            // the one the fast path uses too: a transaction stays one transaction per master whichever path runs it.
            Wrappers.ConnectionHandler owner = Wrappers.owner();
            if (owner != null && owner.plane.router() == router) {
                return owner.sharedMaster(group);
            }
            return router.masterConnection(group);
        }
        return router.slotConnection(group, unit);
    }

    /** ShardingSphere reads the URL and user of a storage unit to learn its type and schema. */
    public String getUrl() {
        return url;
    }

    public String getUsername() {
        return username;
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException("[group=" + group + " unit=" + unit + "] per-call credentials are not "
                + "supported; set credentials in the cluster config");
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
        return "UnitDataSource[group=" + group + " unit=" + unit + "]";
    }
}
