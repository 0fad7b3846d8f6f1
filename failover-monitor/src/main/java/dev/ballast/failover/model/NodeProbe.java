package dev.ballast.failover.model;

import dev.ballast.jdbc.health.Position;
import dev.ballast.rules.NodeAddress;

import java.util.Optional;

/**
 * What one monitor saw of one server in one probe.
 *
 * @param node         the server
 * @param reachable    connected and answered within the probe's connect and socket timeouts (a hung server is not)
 * @param error        why not reachable (empty when reachable)
 * @param serverId     {@code @@server_id}, 0 when unknown
 * @param readOnly     {@code @@read_only}
 * @param executed     what the server has in its binlog: MariaDB {@code @@gtid_binlog_pos}, MySQL {@code @@gtid_executed}
 * @param replication  its replica status, empty when it is not configured as a replica (or not reachable)
 * @param semiSyncMaster whether the semi-sync master side is on
 * @param probedAtMillis wall-clock time of the probe
 */
public record NodeProbe(NodeAddress node, boolean reachable, String error, long serverId, boolean readOnly,
                        Position executed, Optional<ReplicaThreads> replication, boolean semiSyncMaster,
                        long probedAtMillis) {

    public static NodeProbe unreachable(NodeAddress node, String error, long atMillis) {
        return new NodeProbe(node, false, error, 0, false, null, Optional.empty(), false, atMillis);
    }

    /** The same probe with {@code replication} replaced (the monitor adds the silence it derived). */
    public NodeProbe withReplication(Optional<ReplicaThreads> threads) {
        return new NodeProbe(node, reachable, error, serverId, readOnly, executed, threads, semiSyncMaster, probedAtMillis);
    }

    /** Whether it is writable (not read_only): a master, or a node that should not be. */
    public boolean writable() {
        return reachable && !readOnly;
    }
}
