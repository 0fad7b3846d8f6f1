package dev.ballast.schema;

import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.Credentials;
import dev.ballast.rules.NodeAddress;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * Connections for schema changes, as {@code failover.admin} (it may set {@code sql_log_bin} and read every table).
 * DDL runs without a socket timeout: an online ALTER of a large table takes as long as it takes.
 */
final class Servers {

    private final ClusterConfig config;
    private final Credentials admin;

    Servers(ClusterConfig config) {
        this.config = config;
        this.admin = config.failover().admin().orElseThrow(() -> new SchemaException("[cluster=" + config.name()
                + "] failover.admin (user, password) is required for schema changes: the user that runs DDL on every"
                + " master and reads every server's tables"));
    }

    ClusterConfig config() {
        return config;
    }

    /** A new connection to {@code node} in the cluster's database; the caller closes it. */
    Connection open(NodeAddress node, int socketTimeoutMs) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", admin.user());
        p.setProperty("password", admin.password());
        p.setProperty("connectTimeout", Integer.toString(config.pool().connectTimeoutMs()));
        p.setProperty("socketTimeout", Integer.toString(socketTimeoutMs));
        p.setProperty("allowPublicKeyRetrieval", "true");
        p.setProperty("useSSL", "false");
        // DDL must replicate to 10.11 replicas of any server: a collation they know (see docs/operations.md)
        p.setProperty("connectionCollation", "utf8mb4_general_ci");
        try {
            return DriverManager.getConnection("jdbc:mysql://" + node + "/" + config.database(), p);
        } catch (SQLException e) {
            throw new SQLException(ctx(node) + " cannot connect as failover.admin user " + admin.user() + ": "
                    + e.getMessage(), e.getSQLState(), e.getErrorCode(), e);
        }
    }

    String ctx(NodeAddress node) {
        return "[cluster=" + config.name() + " node=" + node + "]";
    }
}
