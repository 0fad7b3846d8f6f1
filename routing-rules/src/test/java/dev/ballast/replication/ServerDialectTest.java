package dev.ballast.replication;

import dev.ballast.rules.Flavour;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class ServerDialectTest {

    @Test
    void eachFlavourHasItsDialect() {
        for (Flavour f : Flavour.values()) {
            assertEquals(f, ServerDialect.of(f).flavour());
        }
        assertSame(ServerDialect.of(Flavour.MARIADB), ServerDialect.of(Flavour.MARIADB));
        assertSame(ServerDialect.of(Flavour.MYSQL), ServerDialect.of(Flavour.MYSQL));
    }

    @Test
    void mariaDbReadsBinlogAndSlavePositionsAndSlaveColumns() {
        ServerDialect d = ServerDialect.of(Flavour.MARIADB);
        assertEquals("SELECT @@gtid_binlog_pos", d.masterPositionQuery());
        assertEquals("SELECT @@gtid_slave_pos", d.appliedPositionQuery());
        assertEquals("SHOW SLAVE STATUS", d.replicaStatusQuery());
        assertEquals("Slave_IO_Running", d.ioRunningColumn());
        assertEquals("Slave_SQL_Running", d.sqlRunningColumn());
        assertEquals("Last_SQL_Error", d.lastSqlErrorColumn());
    }

    @Test
    void mySqlReadsGtidExecutedAndReplicaColumns() {
        ServerDialect d = ServerDialect.of(Flavour.MYSQL);
        assertEquals("SELECT @@gtid_executed", d.masterPositionQuery());
        assertEquals("SELECT @@gtid_executed", d.appliedPositionQuery());
        assertEquals("SHOW REPLICA STATUS", d.replicaStatusQuery());
        assertEquals("Replica_IO_Running", d.ioRunningColumn());
        assertEquals("Replica_SQL_Running", d.sqlRunningColumn());
        assertEquals("Last_IO_Error", d.lastIoErrorColumn());
    }
}
