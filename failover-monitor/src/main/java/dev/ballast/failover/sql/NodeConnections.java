package dev.ballast.failover.sql;

import dev.ballast.replication.NodeProbe;
import dev.ballast.replication.ServerDialect;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.Credentials;
import dev.ballast.rules.NodeAddress;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The monitor's admin connections, one per server, opened on first use and replaced after a failure. Probes use
 * {@code failover.probeTimeoutMs} as connect and socket timeout, so a hung server fails its probe in that time.
 */
public final class NodeConnections implements AutoCloseable {

    private final ClusterConfig config;
    private final Credentials admin;
    private final int timeoutMs;
    private final Map<NodeAddress, Connection> open = new ConcurrentHashMap<>();

    public NodeConnections(ClusterConfig config) {
        this.config = config;
        this.admin = config.failover().admin().orElseThrow(() -> new IllegalArgumentException("[cluster=" + config.name()
                + "] failover.admin (user, password) is required to run a monitor or a switchover: the user that "
                + "promotes, repoints and fences servers"));
        this.timeoutMs = config.failover().probeTimeoutMs();
    }

    /** A fresh connection with the probe timeouts; the caller closes it. */
    public Connection connect(NodeAddress node) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", admin.user());
        p.setProperty("password", admin.password());
        p.setProperty("connectTimeout", Integer.toString(timeoutMs));
        p.setProperty("socketTimeout", Integer.toString(timeoutMs));
        p.setProperty("allowPublicKeyRetrieval", "true");
        p.setProperty("useSSL", "false");
        return DriverManager.getConnection("jdbc:mysql://" + node + "/", p);
    }

    /** The kept connection to {@code node}, opened if needed. */
    public Connection of(NodeAddress node) throws SQLException {
        Connection c = open.get(node);
        if (c != null && !c.isClosed()) {
            return c;
        }
        c = connect(node);
        Connection raced = open.put(node, c);
        if (raced != null && raced != c) {
            quietly(raced);
        }
        return c;
    }

    /** Drops the kept connection (after a failure). */
    public void discard(NodeAddress node) {
        Connection c = open.remove(node);
        if (c != null) {
            quietly(c);
        }
    }

    /** Probes {@code node}; never throws: an unreachable or failing server gives an unreachable probe. */
    public NodeProbe probe(NodeAddress node, ServerDialect dialect) {
        try {
            return dialect.probe(of(node), node);
        } catch (SQLException | RuntimeException e) {
            discard(node);
            return NodeProbe.unreachable(node, e.getClass().getSimpleName() + ": " + firstLine(e.getMessage()),
                    System.currentTimeMillis());
        }
    }

    /** Probes {@code node} on a connection of its own, closed afterwards; never throws. */
    public NodeProbe probeOnce(NodeAddress node, ServerDialect dialect) {
        try (Connection c = connect(node)) {
            return dialect.probe(c, node);
        } catch (SQLException | RuntimeException e) {
            return NodeProbe.unreachable(node, e.getClass().getSimpleName() + ": " + firstLine(e.getMessage()),
                    System.currentTimeMillis());
        }
    }

    public ClusterConfig config() {
        return config;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static void quietly(Connection c) {
        try {
            c.abort(Runnable::run);
        } catch (SQLException | RuntimeException ignored) {
            // it is being dropped anyway
        }
    }

    @Override
    public void close() {
        for (NodeAddress n : open.keySet()) {
            discard(n);
        }
    }
}
