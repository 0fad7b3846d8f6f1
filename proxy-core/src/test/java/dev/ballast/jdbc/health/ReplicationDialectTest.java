package dev.ballast.jdbc.health;

import dev.ballast.rules.Flavour;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class ReplicationDialectTest {

    @Test
    void eachFlavourHasItsDialect() {
        for (Flavour f : Flavour.values()) {
            assertEquals(f, ReplicationDialect.of(f).flavour());
        }
        assertSame(ReplicationDialect.MARIADB, ReplicationDialect.of(Flavour.MARIADB));
        assertSame(ReplicationDialect.MYSQL, ReplicationDialect.of(Flavour.MYSQL));
    }

    @Test
    void mariaDbReadsBinlogAndSlavePositionsAndSlaveColumns() {
        ReplicationDialect d = ReplicationDialect.MARIADB;
        assertEquals("SELECT @@gtid_binlog_pos", d.masterPositionQuery());
        assertEquals("SELECT @@gtid_slave_pos", d.appliedPositionQuery());
        assertEquals("SHOW SLAVE STATUS", d.replicaStatusQuery());
        assertEquals("Slave_IO_Running", d.ioRunningColumn());
        assertEquals("Slave_SQL_Running", d.sqlRunningColumn());
        assertEquals("Last_SQL_Error", d.lastSqlErrorColumn());
    }

    @Test
    void mySqlReadsGtidExecutedAndReplicaColumns() {
        ReplicationDialect d = ReplicationDialect.MYSQL;
        assertEquals("SELECT @@gtid_executed", d.masterPositionQuery());
        assertEquals("SELECT @@gtid_executed", d.appliedPositionQuery());
        assertEquals("SHOW REPLICA STATUS", d.replicaStatusQuery());
        assertEquals("Replica_IO_Running", d.ioRunningColumn());
        assertEquals("Replica_SQL_Running", d.sqlRunningColumn());
        assertEquals("Last_IO_Error", d.lastIoErrorColumn());
    }
}
