package dev.ballast.replication;

import dev.ballast.rules.Credentials;
import dev.ballast.rules.Flavour;
import dev.ballast.rules.NodeAddress;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;

/** MariaDB 10.10+ (MASTER_DEMOTE_TO_SLAVE needs 10.10): GTID {@code domain-server-seq} positions. */
final class MariaDbDialect implements ServerDialect {

    static final MariaDbDialect INSTANCE = new MariaDbDialect();

    private MariaDbDialect() {
    }

    @Override
    public Flavour flavour() {
        return Flavour.MARIADB;
    }

    // gtid_binlog_pos is the master's last GTID per domain; gtid_slave_pos what the SQL thread applied.
    @Override
    public String masterPositionQuery() {
        return "SELECT @@gtid_binlog_pos";
    }

    @Override
    public String appliedPositionQuery() {
        return "SELECT @@gtid_slave_pos";
    }

    // SHOW REPLICA STATUS works too but still names the columns Slave_*.
    @Override
    public String replicaStatusQuery() {
        return "SHOW SLAVE STATUS";
    }

    @Override
    public String ioRunningColumn() {
        return "Slave_IO_Running";
    }

    @Override
    public String sqlRunningColumn() {
        return "Slave_SQL_Running";
    }

    @Override
    public NodeProbe probe(Connection c, NodeAddress node) throws SQLException {
        long now = System.currentTimeMillis();
        try (Statement s = c.createStatement()) {
            long serverId;
            boolean readOnly;
            String binlogPos;
            String slavePos;
            boolean semiSyncMaster;
            try (ResultSet rs = s.executeQuery("SELECT @@server_id, @@read_only, @@gtid_binlog_pos, @@gtid_slave_pos, "
                    + "@@rpl_semi_sync_master_enabled")) {
                rs.next();
                serverId = rs.getLong(1);
                readOnly = rs.getBoolean(2);
                binlogPos = SqlSteps.nz(rs.getString(3));
                slavePos = SqlSteps.nz(rs.getString(4));
                semiSyncMaster = rs.getBoolean(5);
            }
            Optional<ReplicaThreads> replication = Optional.empty();
            try (ResultSet rs = s.executeQuery("SHOW SLAVE STATUS")) {
                if (rs.next() && !SqlSteps.nz(rs.getString("Master_Host")).isEmpty()) {
                    long behind = rs.getLong("Seconds_Behind_Master");
                    if (rs.wasNull()) {
                        behind = -1;
                    }
                    replication = Optional.of(new ReplicaThreads(
                            new NodeAddress(rs.getString("Master_Host"), rs.getInt("Master_Port")),
                            ReplicaThreads.IoState.parse(rs.getString("Slave_IO_Running")),
                            "Yes".equalsIgnoreCase(rs.getString("Slave_SQL_Running")),
                            Position.parse(Flavour.MARIADB, SqlSteps.nz(rs.getString("Gtid_IO_Pos"))),
                            Position.parse(Flavour.MARIADB, slavePos),
                            rs.getInt("Last_IO_Errno"), SqlSteps.nz(rs.getString("Last_IO_Error")),
                            rs.getInt("Last_SQL_Errno"), SqlSteps.nz(rs.getString("Last_SQL_Error")), behind));
                }
            }
            return new NodeProbe(node, true, "", serverId, readOnly, Position.parse(Flavour.MARIADB, binlogPos),
                    replication, semiSyncMaster, now);
        }
    }

    @Override
    public void stopReceiving(Connection c) throws SQLException {
        SqlSteps.ignoringNotReplica(c, "STOP SLAVE IO_THREAD");
    }

    @Override
    public void startReplication(Connection c) throws SQLException {
        SqlSteps.ignoringNotReplica(c, "START SLAVE");
    }

    @Override
    public boolean awaitApplied(Connection c, String position, long timeoutMs) throws SQLException {
        if (position.isBlank()) {
            return true;
        }
        int old = c.getNetworkTimeout();
        try (PreparedStatement ps = c.prepareStatement("SELECT MASTER_GTID_WAIT(?, ?)")) {
            c.setNetworkTimeout(Runnable::run, (int) Math.min(Integer.MAX_VALUE, timeoutMs + 5_000));
            ps.setString(1, position);
            ps.setDouble(2, timeoutMs / 1000.0);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1) == 0 && !rs.wasNull();
            }
        } finally {
            c.setNetworkTimeout(Runnable::run, old);
        }
    }

    @Override
    public void promote(Connection c) throws SQLException {
        SqlSteps.ignoringNotReplica(c, "STOP SLAVE");
        try (Statement s = c.createStatement()) {
            s.execute("RESET SLAVE ALL");
            s.execute("SET GLOBAL rpl_semi_sync_slave_enabled = OFF");
            s.execute("SET GLOBAL rpl_semi_sync_master_enabled = ON");
            s.execute("SET GLOBAL read_only = OFF");
        }
    }

    @Override
    public void replicateFrom(Connection c, NodeAddress master, Credentials replication, boolean wasMaster) throws SQLException {
        SqlSteps.ignoringNotReplica(c, "STOP SLAVE");
        try (Statement s = c.createStatement()) {
            s.execute("SET GLOBAL read_only = ON");
            s.execute("SET GLOBAL rpl_semi_sync_master_enabled = OFF");
            s.execute("SET GLOBAL rpl_semi_sync_slave_enabled = ON");
            // MASTER_DEMOTE_TO_SLAVE copies an old master's binlog position into gtid_slave_pos, so it asks its new
            // master for what follows its own writes, not for the whole history.
            s.execute("CHANGE MASTER TO MASTER_HOST=" + SqlSteps.quote(master.host()) + ", MASTER_PORT=" + master.port()
                    + ", MASTER_USER=" + SqlSteps.quote(replication.user()) + ", MASTER_PASSWORD=" + SqlSteps.quote(replication.password())
                    + ", MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1" + (wasMaster ? ", MASTER_DEMOTE_TO_SLAVE=1" : ""));
            s.execute("START SLAVE");
        }
    }

    @Override
    public void fence(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET GLOBAL read_only = ON");
            s.execute("SET GLOBAL rpl_semi_sync_master_enabled = OFF");
        }
    }

    @Override
    public void unfence(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET GLOBAL rpl_semi_sync_master_enabled = ON");
            s.execute("SET GLOBAL read_only = OFF");
        }
    }
}
