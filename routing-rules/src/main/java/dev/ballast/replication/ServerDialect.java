package dev.ballast.replication;

import dev.ballast.rules.Credentials;
import dev.ballast.rules.Flavour;
import dev.ballast.rules.NodeAddress;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Everything Ballast says to a server about replication, per server family (facts: shared/notes/mariadb-replication.md):
 * the queries of the data plane's lag probe, which need no privilege beyond logging in (the replica status statement
 * needs the monitor user: MariaDB {@code SLAVE MONITOR}, MySQL {@code REPLICATION CLIENT}), and the monitor's probing,
 * promoting, repointing and fencing. The monitor's methods run on a connection of the admin user and either complete
 * or throw; each step is safe to repeat, so that a recovery interrupted half-way can be run again by the next leader.
 * The driver and the monitor share this one dialect, so a server family is described in one place.
 */
public interface ServerDialect {

    static ServerDialect of(Flavour flavour) {
        return switch (flavour) {
            case MARIADB -> MariaDbDialect.INSTANCE;
            case MYSQL -> MySqlDialect.INSTANCE;
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
    default String lastIoErrorColumn() {
        return "Last_IO_Error";
    }

    /** Status column: the applier's last error, empty when none. */
    default String lastSqlErrorColumn() {
        return "Last_SQL_Error";
    }

    /**
     * Reads what the monitor needs of one server; a replica's {@link ReplicaThreads} carries its heartbeat period and a
     * receive mark that changes whenever anything, heartbeats included, arrives from its master (its silence is left
     * unknown: the monitor derives it across probes).
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

    /**
     * Makes the server a master: replication off and forgotten, writable, and the semi-sync master side on when
     * {@code followed} (a replica will replicate from it). Without one, a semi-sync master would hold every commit for the
     * whole {@code rpl_semi_sync_master_timeout} waiting for an acknowledgement no replica can send.
     */
    void promote(Connection c, boolean followed) throws SQLException;

    /**
     * Turns the semi-sync master side on or off: on once a replica follows the master again (a rejoin), off when the last
     * one could not be made to follow it. A server family whose semi-sync Ballast does not manage ignores it.
     */
    void semiSyncMaster(Connection c, boolean on) throws SQLException;

    /**
     * Points a replica at {@code master} by GTID with a heartbeat every {@code heartbeatPeriodMs} and starts it (a node
     * that was master is demoted first). The heartbeat lets the monitor tell a hung master (its replicas hear nothing)
     * from one that only refuses the monitor (they still receive heartbeats).
     */
    void replicateFrom(Connection c, NodeAddress master, Credentials replication, boolean wasMaster, long heartbeatPeriodMs)
            throws SQLException;

    /** Makes the server read-only for the application (and stops it acting as semi-sync master). */
    void fence(Connection c) throws SQLException;

    /**
     * Fences a master that a failover replaces (or has replaced): every client connection is killed, then the server is
     * made read-only for the application (retried while a commit holds that off, up to {@code timeoutMs}), then it stops
     * acting as semi-sync master. A commit still waiting for a replica's acknowledgement is therefore never acknowledged
     * to its client: read-only alone would wait for it and the server would acknowledge it after its semi-sync timeout,
     * although the new master does not hold it. A planned switchover uses {@link #fence}, which keeps connections.
     *
     * @return how many client connections were killed
     */
    int depose(Connection c, long timeoutMs) throws SQLException;

    /** Makes a fenced master writable again (a switchover that failed before anything moved). */
    void unfence(Connection c) throws SQLException;
}
