package dev.ballast.jdbc.health;

import dev.ballast.rules.Flavour;

/**
 * The SQL a health probe sends, per server family. The position queries need no privilege beyond logging in (any
 * user may read these system variables); the replica status statement needs the monitor user (MariaDB:
 * {@code SLAVE MONITOR}; MySQL: {@code REPLICATION CLIENT}).
 */
public interface ReplicationDialect {

    /** MariaDB 10.x/11.x: positions from {@code gtid_binlog_pos} / {@code gtid_slave_pos}. */
    ReplicationDialect MARIADB = StandardDialect.MARIADB;

    /** MySQL 8.0.22+ / 8.4: positions from {@code gtid_executed}, status from {@code SHOW REPLICA STATUS}. */
    ReplicationDialect MYSQL = StandardDialect.MYSQL;

    static ReplicationDialect of(Flavour flavour) {
        return switch (flavour) {
            case MARIADB -> MARIADB;
            case MYSQL -> MYSQL;
        };
    }

    Flavour flavour();

    /** One row, one column: what the master has written. */
    String masterPositionQuery();

    /** One row, one column: what a replica has applied (not merely received). */
    String appliedPositionQuery();

    /** The replica status statement; no row when the server is not configured as a replica. */
    String replicaStatusQuery();

    /** Status column: the IO (receiver) thread, {@code Yes}, {@code No} or {@code Connecting}. */
    String ioRunningColumn();

    /** Status column: the SQL (applier) thread, {@code Yes} or {@code No}. */
    String sqlRunningColumn();

    /** Status column: the receiver's last error, empty when none. */
    String lastIoErrorColumn();

    /** Status column: the applier's last error, empty when none. */
    String lastSqlErrorColumn();
}
