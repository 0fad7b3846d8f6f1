package dev.ballast.replication;

import dev.ballast.rules.Credentials;
import dev.ballast.rules.Flavour;
import dev.ballast.rules.NodeAddress;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
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
            String version;
            try (ResultSet rs = s.executeQuery("SELECT @@server_id, @@read_only, @@gtid_binlog_pos, @@gtid_slave_pos, "
                    + "@@rpl_semi_sync_master_enabled, VERSION()")) {
                rs.next();
                serverId = rs.getLong(1);
                readOnly = rs.getBoolean(2);
                binlogPos = SqlSteps.nz(rs.getString(3));
                slavePos = SqlSteps.nz(rs.getString(4));
                semiSyncMaster = rs.getBoolean(5);
                version = SqlSteps.nz(rs.getString(6));
            }
            Optional<ReplicaThreads> replication = Optional.empty();
            // SHOW ALL SLAVES STATUS, not SHOW SLAVE STATUS: only it has the heartbeat columns (10.11). Ballast uses
            // the default connection (named '').
            try (ResultSet rs = s.executeQuery("SHOW ALL SLAVES STATUS")) {
                boolean found = false;
                while (!found && rs.next()) {
                    found = SqlSteps.nz(rs.getString("Connection_name")).isEmpty();
                }
                if (found && !SqlSteps.nz(rs.getString("Master_Host")).isEmpty()) {
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
                            rs.getInt("Last_SQL_Errno"), SqlSteps.nz(rs.getString("Last_SQL_Error")), behind,
                            SqlSteps.millis(rs.getString("Slave_heartbeat_period")), receiveMark(rs), -1));
                }
            }
            return new NodeProbe(node, true, "", serverId, readOnly, Position.parse(Flavour.MARIADB, binlogPos),
                    replication, semiSyncMaster, now, version);
        }
    }

    /**
     * Changes whenever the receiver gets anything: an event moves {@code Read_Master_Log_Pos} (and the GTID), a
     * heartbeat bumps {@code Slave_received_heartbeats}, a rotation changes the file.
     */
    private static String receiveMark(ResultSet rs) throws SQLException {
        return SqlSteps.nz(rs.getString("Master_Log_File")) + ":" + SqlSteps.nz(rs.getString("Read_Master_Log_Pos"))
                + " gtid " + SqlSteps.nz(rs.getString("Gtid_IO_Pos")) + " hb " + SqlSteps.nz(rs.getString("Slave_received_heartbeats"));
    }

    @Override
    public void stopReceiving(Connection c) throws SQLException {
        // A receiver stuck on a hung master makes STOP SLAVE IO_THREAD wait ~2 s: on its way out the semi-sync receiver
        // connects to the master to kill its dump thread, and waits for the master's greeting until STOP's retry
        // (measured on 10.11). KILLing the receiver first often (not always) ends it at once; the STOP then finds it
        // stopped. Only with one receiver: with several (multi-source) we cannot tell which one is ours.
        List<Long> receivers = new ArrayList<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND = 'Slave_IO'")) {
            while (rs.next()) {
                receivers.add(rs.getLong(1));
            }
        }
        // The semi-sync receiver's connection to kill the dump thread waits rpl_semi_sync_slave_kill_conn_timeout
        // (default 5 s, cut short by STOP's 2 s retry): 1 s is plenty for a master that answers at all.
        long killConnTimeout = -1;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT @@rpl_semi_sync_slave_kill_conn_timeout")) {
            if (rs.next()) {
                killConnTimeout = rs.getLong(1);
            }
        }
        boolean shortened = killConnTimeout > 1 || killConnTimeout == 0;   // 0 waits for ever
        try (Statement s = c.createStatement()) {
            if (shortened) {
                s.execute("SET GLOBAL rpl_semi_sync_slave_kill_conn_timeout = 1");
            }
            if (receivers.size() == 1) {
                try {
                    s.execute("KILL " + receivers.get(0));
                } catch (SQLException e) {
                    // gone meanwhile (1094), or the admin user may not kill system threads (1095): STOP does it
                }
            }
            SqlSteps.ignoringNotReplica(c, "STOP SLAVE IO_THREAD");
        } finally {
            if (shortened) {
                try (Statement s = c.createStatement()) {
                    s.execute("SET GLOBAL rpl_semi_sync_slave_kill_conn_timeout = " + killConnTimeout);
                }
            }
        }
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
        return SqlSteps.awaitGtid(c, "SELECT MASTER_GTID_WAIT(?, ?)", position, timeoutMs);
    }

    @Override
    public void promote(Connection c, boolean followed) throws SQLException {
        SqlSteps.ignoringNotReplica(c, "STOP SLAVE");
        try (Statement s = c.createStatement()) {
            s.execute("RESET SLAVE ALL");
            s.execute("SET GLOBAL rpl_semi_sync_slave_enabled = OFF");
            s.execute("SET GLOBAL rpl_semi_sync_master_enabled = " + (followed ? "ON" : "OFF"));
            s.execute("SET GLOBAL read_only = OFF");
        }
    }

    @Override
    public void semiSyncMaster(Connection c, boolean on) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET GLOBAL rpl_semi_sync_master_enabled = " + (on ? "ON" : "OFF"));
        }
    }

    @Override
    public void replicateFrom(Connection c, NodeAddress master, Credentials replication, boolean wasMaster,
                              long heartbeatPeriodMs) throws SQLException {
        SqlSteps.ignoringNotReplica(c, "STOP SLAVE");
        try (Statement s = c.createStatement()) {
            s.execute("SET GLOBAL read_only = ON");
            s.execute("SET GLOBAL rpl_semi_sync_master_enabled = OFF");
            s.execute("SET GLOBAL rpl_semi_sync_slave_enabled = ON");
            // MASTER_DEMOTE_TO_SLAVE copies an old master's binlog position into gtid_slave_pos, so it asks its new
            // master for what follows its own writes, not for the whole history.
            s.execute("CHANGE MASTER TO MASTER_HOST=" + SqlSteps.quote(master.host()) + ", MASTER_PORT=" + master.port()
                    + ", MASTER_USER=" + SqlSteps.quote(replication.user()) + ", MASTER_PASSWORD=" + SqlSteps.quote(replication.password())
                    + ", MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, MASTER_HEARTBEAT_PERIOD="
                    + SqlSteps.seconds(heartbeatPeriodMs) + (wasMaster ? ", MASTER_DEMOTE_TO_SLAVE=1" : ""));
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

    /** {@inheritDoc} MariaDB takes {@code lock_wait_timeout = 0} as "do not wait". */
    @Override
    public int depose(Connection c, long timeoutMs) throws SQLException {
        int killed = SqlSteps.deposeKillingClients(c, "SET GLOBAL read_only = ON", 0, timeoutMs);
        try (Statement s = c.createStatement()) {
            s.execute("SET GLOBAL rpl_semi_sync_master_enabled = OFF");
        }
        return killed;
    }

    @Override
    public void unfence(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET GLOBAL rpl_semi_sync_master_enabled = ON");
            s.execute("SET GLOBAL read_only = OFF");
        }
    }
}
