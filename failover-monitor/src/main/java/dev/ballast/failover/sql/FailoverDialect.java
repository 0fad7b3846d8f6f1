package dev.ballast.failover.sql;

import dev.ballast.failover.model.NodeProbe;
import dev.ballast.rules.Credentials;
import dev.ballast.rules.Flavour;
import dev.ballast.rules.NodeAddress;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * The SQL of probing, promoting, repointing and fencing, per server family (facts: shared/notes/mariadb-replication.md).
 * Every method runs on a connection of the admin user and either completes or throws; each step is safe to repeat,
 * so that a recovery interrupted half-way can be run again by the next leader.
 */
public interface FailoverDialect {

    static FailoverDialect of(Flavour flavour) {
        return switch (flavour) {
            case MARIADB -> new MariaDbFailoverDialect();
            case MYSQL -> new MySqlFailoverDialect();
        };
    }

    Flavour flavour();

    /**
     * Reads what the monitor needs of one server; a replica's {@link dev.ballast.failover.model.ReplicaThreads} carries
     * its heartbeat period and a receive mark that changes whenever anything, heartbeats included, arrives from its
     * master (its silence is left unknown: the monitor derives it across probes).
     */
    NodeProbe probe(Connection c, NodeAddress node) throws SQLException;

    /**
     * Stops the receiver thread; the applier keeps applying what was received. No-op on a server that is no replica.
     * Must not wait for a hung master longer than necessary: the receivers of a hung master's replicas are stopped in
     * every failover from it.
     */
    void stopReceiving(Connection c) throws SQLException;

    /** Starts the replication threads again (undoing {@link #stopReceiving} after an aborted recovery). */
    void startReplication(Connection c) throws SQLException;

    /**
     * Waits until the server has applied {@code position}.
     *
     * @return true when applied, false on timeout
     */
    boolean awaitApplied(Connection c, String position, long timeoutMs) throws SQLException;

    /** Makes the server a master: replication off and forgotten, semi-sync master side on, writable. */
    void promote(Connection c) throws SQLException;

    /**
     * Points a replica at {@code master} by GTID with a heartbeat every {@code heartbeatPeriodMs} and starts it (a node
     * that was master is demoted first). The heartbeat lets the monitor tell a hung master (its replicas hear nothing)
     * from one that only refuses the monitor (they still receive heartbeats).
     */
    void replicateFrom(Connection c, NodeAddress master, Credentials replication, boolean wasMaster, long heartbeatPeriodMs)
            throws SQLException;

    /** Makes the server read-only for the application (and stops it acting as semi-sync master). */
    void fence(Connection c) throws SQLException;

    /** Makes a fenced master writable again (a switchover that failed before anything moved). */
    void unfence(Connection c) throws SQLException;
}
