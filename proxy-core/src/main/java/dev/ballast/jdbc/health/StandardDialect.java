package dev.ballast.jdbc.health;

import dev.ballast.rules.Flavour;

/**
 * The two dialects Ballast knows. No default methods in {@link ReplicationDialect}: with them, initialising this
 * enum first would initialise the interface, whose constants would then read this enum's fields as null.
 */
enum StandardDialect implements ReplicationDialect {

    // MariaDB: gtid_binlog_pos is the master's last GTID per domain; gtid_slave_pos what the SQL thread applied.
    // SHOW REPLICA STATUS works too but still names the columns Slave_*.
    MARIADB(Flavour.MARIADB, "SELECT @@gtid_binlog_pos", "SELECT @@gtid_slave_pos", "SHOW SLAVE STATUS",
            "Slave_IO_Running", "Slave_SQL_Running"),
    // MySQL: gtid_executed (global only); on a replica it holds what was applied (plus any local writes).
    MYSQL(Flavour.MYSQL, "SELECT @@gtid_executed", "SELECT @@gtid_executed", "SHOW REPLICA STATUS",
            "Replica_IO_Running", "Replica_SQL_Running");

    private final Flavour flavour;
    private final String masterPosition;
    private final String appliedPosition;
    private final String replicaStatus;
    private final String ioRunning;
    private final String sqlRunning;

    StandardDialect(Flavour flavour, String masterPosition, String appliedPosition, String replicaStatus,
                    String ioRunning, String sqlRunning) {
        this.flavour = flavour;
        this.masterPosition = masterPosition;
        this.appliedPosition = appliedPosition;
        this.replicaStatus = replicaStatus;
        this.ioRunning = ioRunning;
        this.sqlRunning = sqlRunning;
    }

    @Override
    public Flavour flavour() {
        return flavour;
    }

    @Override
    public String masterPositionQuery() {
        return masterPosition;
    }

    @Override
    public String appliedPositionQuery() {
        return appliedPosition;
    }

    @Override
    public String replicaStatusQuery() {
        return replicaStatus;
    }

    @Override
    public String lastIoErrorColumn() {
        return "Last_IO_Error";
    }

    @Override
    public String lastSqlErrorColumn() {
        return "Last_SQL_Error";
    }

    @Override
    public String ioRunningColumn() {
        return ioRunning;
    }

    @Override
    public String sqlRunningColumn() {
        return sqlRunning;
    }
}
