package dev.ballast.replication;

import dev.ballast.rules.Credentials;
import dev.ballast.rules.Flavour;
import dev.ballast.rules.NodeAddress;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;

/**
 * MySQL 8.0.23+ / 8.4: GTID sets, {@code REPLICA}/{@code SOURCE} statements, {@code super_read_only}. Written from the
 * MySQL 8.4 manual; not exercised on this machine (no MySQL server and no Docker here).
 */
final class MySqlDialect implements ServerDialect {

    static final MySqlDialect INSTANCE = new MySqlDialect();

    private MySqlDialect() {
    }

    @Override
    public Flavour flavour() {
        return Flavour.MYSQL;
    }

    // gtid_executed (global only); on a replica it holds what was applied (plus any local writes).
    @Override
    public String masterPositionQuery() {
        return "SELECT @@gtid_executed";
    }

    @Override
    public String appliedPositionQuery() {
        return "SELECT @@gtid_executed";
    }

    @Override
    public String replicaStatusQuery() {
        return "SHOW REPLICA STATUS";
    }

    @Override
    public String ioRunningColumn() {
        return "Replica_IO_Running";
    }

    @Override
    public String sqlRunningColumn() {
        return "Replica_SQL_Running";
    }

    @Override
    public NodeProbe probe(Connection c, NodeAddress node) throws SQLException {
        long now = System.currentTimeMillis();
        try (Statement s = c.createStatement()) {
            long serverId;
            boolean readOnly;
            String executed;
            boolean semiSyncMaster = false;
            String version;
            try (ResultSet rs = s.executeQuery("SELECT @@server_id, @@read_only OR @@super_read_only, @@gtid_executed, VERSION()")) {
                rs.next();
                serverId = rs.getLong(1);
                readOnly = rs.getBoolean(2);
                executed = SqlSteps.nz(rs.getString(3));
                version = SqlSteps.nz(rs.getString(4));
            }
            try (ResultSet rs = s.executeQuery("SHOW VARIABLES LIKE 'rpl_semi_sync_source_enabled'")) {
                semiSyncMaster = rs.next() && "ON".equalsIgnoreCase(rs.getString(2));
            }
            Optional<ReplicaThreads> replication = Optional.empty();
            try (ResultSet rs = s.executeQuery("SHOW REPLICA STATUS")) {
                if (rs.next() && !SqlSteps.nz(rs.getString("Source_Host")).isEmpty()) {
                    long behind = rs.getLong("Seconds_Behind_Source");
                    if (rs.wasNull()) {
                        behind = -1;
                    }
                    String retrieved = SqlSteps.nz(rs.getString("Retrieved_Gtid_Set"));
                    String applied = SqlSteps.nz(rs.getString("Executed_Gtid_Set"));
                    String received = applied.isBlank() ? retrieved : retrieved.isBlank() ? applied : applied + "," + retrieved;
                    replication = Optional.of(new ReplicaThreads(
                            new NodeAddress(rs.getString("Source_Host"), rs.getInt("Source_Port")),
                            ReplicaThreads.IoState.parse(rs.getString("Replica_IO_Running")),
                            "Yes".equalsIgnoreCase(rs.getString("Replica_SQL_Running")),
                            Position.parse(Flavour.MYSQL, received), Position.parse(Flavour.MYSQL, applied),
                            rs.getInt("Last_IO_Errno"), SqlSteps.nz(rs.getString("Last_IO_Error")),
                            rs.getInt("Last_SQL_Errno"), SqlSteps.nz(rs.getString("Last_SQL_Error")), behind));
                }
            }
            if (replication.isPresent()) {
                replication = Optional.of(withReceipt(s, replication.get()));
            }
            return new NodeProbe(node, true, "", serverId, readOnly, Position.parse(Flavour.MYSQL, executed), replication,
                    semiSyncMaster, now, version);
        }
    }

    /**
     * The receiver's heartbeat period and what it has received (performance_schema, on by default in MySQL 8): heartbeats
     * counted, the last transaction queued and when its queueing ended, the transaction being queued. Without
     * performance_schema both stay unknown and the receiver's state alone decides, as before heartbeats were used.
     */
    private static ReplicaThreads withReceipt(Statement s, ReplicaThreads r) {
        String sql = "SELECT cf.HEARTBEAT_INTERVAL, st.COUNT_RECEIVED_HEARTBEATS, st.LAST_QUEUED_TRANSACTION, "
                + "st.LAST_QUEUED_TRANSACTION_END_QUEUE_TIMESTAMP, st.QUEUEING_TRANSACTION "
                + "FROM performance_schema.replication_connection_status st "
                + "JOIN performance_schema.replication_connection_configuration cf ON cf.CHANNEL_NAME = st.CHANNEL_NAME "
                + "WHERE st.CHANNEL_NAME = ''";
        try (ResultSet rs = s.executeQuery(sql)) {
            if (!rs.next()) {
                return r;
            }
            String mark = "hb " + SqlSteps.nz(rs.getString(2)) + " last " + SqlSteps.nz(rs.getString(3)) + " at "
                    + SqlSteps.nz(rs.getString(4)) + " queueing " + SqlSteps.nz(rs.getString(5));
            return new ReplicaThreads(r.master(), r.io(), r.sqlRunning(), r.received(), r.applied(), r.lastIoErrno(),
                    r.lastIoError(), r.lastSqlErrno(), r.lastSqlError(), r.secondsBehind(),
                    SqlSteps.millis(rs.getString(1)), mark, -1);
        } catch (SQLException e) {
            return r;
        }
    }

    @Override
    public void stopReceiving(Connection c) throws SQLException {
        SqlSteps.ignoringNotReplica(c, "STOP REPLICA IO_THREAD");
    }

    @Override
    public void startReplication(Connection c) throws SQLException {
        SqlSteps.ignoringNotReplica(c, "START REPLICA");
    }

    @Override
    public boolean awaitApplied(Connection c, String position, long timeoutMs) throws SQLException {
        if (position.isBlank()) {
            return true;
        }
        // A timeout of 0 would make the server wait for ever.
        long waitMs = Math.max(1, timeoutMs);
        return SqlSteps.awaitGtid(c, "SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?)", position, waitMs);
    }

    @Override
    public void promote(Connection c, boolean followed) throws SQLException {
        SqlSteps.ignoringNotReplica(c, "STOP REPLICA");
        try (Statement s = c.createStatement()) {
            s.execute("RESET REPLICA ALL");
            s.execute("SET GLOBAL super_read_only = OFF");
            s.execute("SET GLOBAL read_only = OFF");
        }
    }

    @Override
    public void replicateFrom(Connection c, NodeAddress master, Credentials replication, boolean wasMaster,
                              long heartbeatPeriodMs) throws SQLException {
        SqlSteps.ignoringNotReplica(c, "STOP REPLICA");
        try (Statement s = c.createStatement()) {
            s.execute("SET GLOBAL super_read_only = ON");
            s.execute("CHANGE REPLICATION SOURCE TO SOURCE_HOST=" + SqlSteps.quote(master.host())
                    + ", SOURCE_PORT=" + master.port() + ", SOURCE_USER=" + SqlSteps.quote(replication.user())
                    + ", SOURCE_PASSWORD=" + SqlSteps.quote(replication.password())
                    + ", SOURCE_AUTO_POSITION=1, GET_SOURCE_PUBLIC_KEY=1, SOURCE_CONNECT_RETRY=1, SOURCE_HEARTBEAT_PERIOD="
                    + SqlSteps.seconds(heartbeatPeriodMs));
            s.execute("START REPLICA");
        }
    }

    /** Semi-sync on MySQL is the user's (its plugin is not managed here): nothing to do. */
    @Override
    public void semiSyncMaster(Connection c, boolean on) {
    }

    @Override
    public void fence(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET GLOBAL super_read_only = ON");
        }
    }

    /** {@inheritDoc} MySQL's shortest {@code lock_wait_timeout} is 1 s. */
    @Override
    public int depose(Connection c, long timeoutMs) throws SQLException {
        return SqlSteps.deposeKillingClients(c, "SET GLOBAL super_read_only = ON", 1, timeoutMs);
    }

    @Override
    public void unfence(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET GLOBAL super_read_only = OFF");
            s.execute("SET GLOBAL read_only = OFF");
        }
    }
}
