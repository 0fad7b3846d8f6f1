package dev.ballast.rules;

import java.util.Map;
import java.util.Optional;

/**
 * The {@code failover:} section: where the topology lives and how the monitor and the data plane behave during a
 * change of master. Without {@code zookeeper} the topology is the config's, fixed (no monitor can act).
 *
 * @param zookeeper           ZooKeeper connect string ({@code host:port[,host:port]}); empty = static topology
 * @param zkRoot              root path of Ballast's trees, default {@code /ballast}
 * @param zkSessionTimeoutMs  ZooKeeper session timeout, default 10000 ms: a monitor that dies loses leadership after it
 * @param zkConnectionTimeoutMs how long to wait for ZooKeeper at start, default 3000 ms
 * @param writeHoldMs         how long the data plane holds a new write while the master changes, default 5000 ms
 * @param admin               the user the monitor promotes, repoints and fences with (needs SUPER or, on MariaDB,
 *                            READ_ONLY ADMIN + CONNECTION ADMIN + REPLICATION SLAVE ADMIN + SLAVE MONITOR)
 * @param replication         the user replicas connect to their master as ({@code CHANGE MASTER TO MASTER_USER})
 * @param probeIntervalMs     the monitor's probe interval, default 500 ms
 * @param probeTimeoutMs      connect and socket timeout of one probe, default 1000 ms: a server hung longer is dead
 * @param applyTimeoutMs      how long the candidate may take to apply its relay log before the recovery gives up,
 *                            default 30000 ms
 * @param antiFlapWindowMs    after an automatic recovery of a group, no other for this long unless acknowledged,
 *                            default 600000 ms
 * @param promotion           per node: prefer, neutral (default), prefer_not, must_not
 * @param acl                 ZooKeeper digest credentials of the control plane and the data planes; empty = the tree is
 *                            open to every client that reaches ZooKeeper (unsafe, the default)
 * @param heartbeatPeriodMs   the {@code MASTER_HEARTBEAT_PERIOD} (MySQL {@code SOURCE_HEARTBEAT_PERIOD}) Ballast gives a
 *                            replica whenever it points one at a master, default 500 ms: an idle master sends a
 *                            heartbeat this often, so a replica that receives nothing for a few periods has a hung or
 *                            cut-off master
 * @param deadAfterHeartbeats how many heartbeat periods (each replica's own) without receiving anything make a replica
 *                            count as cut off from its master, default 3: a master no monitor reaches is dead once every
 *                            reachable replica is cut off
 * @param metrics             where the monitor answers {@code GET /metrics} (Prometheus text); empty = no endpoint
 *                            (the default: several monitors may share a host, and a fixed port would refuse the second)
 * @param switchoverDrainMs   how long a planned switchover, new writes already held, waits for the transactions open on the
 *                            old master to end before it makes that master read-only, default 700 ms (so that a
 *                            switchover holds writes under a second); when some are still open then, the switchover
 *                            gives way (nothing changes, writes go on) and may be run again; 0 = do not wait: open
 *                            transactions fail at their next write (error 1290)
 * @param followConfig        whether data planes (BallastDataSource, proxy) take the cluster config published in
 *                            ZooKeeper ({@code ballast config push}, {@code <cluster>/config}) over their file, at start
 *                            and whenever a new version is pushed, default false (the file's config, fixed)
 */
public record FailoverSettings(Optional<String> zookeeper, String zkRoot, int zkSessionTimeoutMs,
                               int zkConnectionTimeoutMs, long writeHoldMs, Optional<Credentials> admin,
                               Optional<Credentials> replication, long probeIntervalMs, int probeTimeoutMs,
                               long applyTimeoutMs, long antiFlapWindowMs, Map<NodeAddress, String> promotion,
                               Optional<ZkAclSettings> acl, long heartbeatPeriodMs, int deadAfterHeartbeats,
                               Optional<ProxySettings.Endpoint> metrics, long switchoverDrainMs, boolean followConfig) {

    public static final FailoverSettings STATIC = new FailoverSettings(Optional.empty(), "/ballast", 10_000, 3_000,
            5_000, Optional.empty(), Optional.empty(), 500, 1_000, 30_000, 600_000, Map.of(), Optional.empty(), 500, 3);

    public FailoverSettings {
        promotion = Map.copyOf(promotion);
        if (heartbeatPeriodMs < 1) {
            throw new IllegalArgumentException("heartbeatPeriodMs " + heartbeatPeriodMs + " must be at least 1 ms");
        }
        if (deadAfterHeartbeats < 2) {
            throw new IllegalArgumentException("deadAfterHeartbeats " + deadAfterHeartbeats + " must be at least 2");
        }
    }

    /** How long a replica may receive nothing (heartbeats included) before it counts as cut off, at the configured period. */
    public long silenceLimitMs() {
        return heartbeatPeriodMs * deadAfterHeartbeats;
    }

    /** Settings that do not follow a pushed config. */
    public FailoverSettings(Optional<String> zookeeper, String zkRoot, int zkSessionTimeoutMs, int zkConnectionTimeoutMs,
                            long writeHoldMs, Optional<Credentials> admin, Optional<Credentials> replication,
                            long probeIntervalMs, int probeTimeoutMs, long applyTimeoutMs, long antiFlapWindowMs,
                            Map<NodeAddress, String> promotion, Optional<ZkAclSettings> acl, long heartbeatPeriodMs,
                            int deadAfterHeartbeats, Optional<ProxySettings.Endpoint> metrics, long switchoverDrainMs) {
        this(zookeeper, zkRoot, zkSessionTimeoutMs, zkConnectionTimeoutMs, writeHoldMs, admin, replication, probeIntervalMs,
                probeTimeoutMs, applyTimeoutMs, antiFlapWindowMs, promotion, acl, heartbeatPeriodMs, deadAfterHeartbeats,
                metrics, switchoverDrainMs, false);
    }

    /** Settings without a metrics endpoint. */
    public FailoverSettings(Optional<String> zookeeper, String zkRoot, int zkSessionTimeoutMs, int zkConnectionTimeoutMs,
                            long writeHoldMs, Optional<Credentials> admin, Optional<Credentials> replication,
                            long probeIntervalMs, int probeTimeoutMs, long applyTimeoutMs, long antiFlapWindowMs,
                            Map<NodeAddress, String> promotion, Optional<ZkAclSettings> acl, long heartbeatPeriodMs,
                            int deadAfterHeartbeats) {
        this(zookeeper, zkRoot, zkSessionTimeoutMs, zkConnectionTimeoutMs, writeHoldMs, admin, replication, probeIntervalMs,
                probeTimeoutMs, applyTimeoutMs, antiFlapWindowMs, promotion, acl, heartbeatPeriodMs, deadAfterHeartbeats,
                Optional.empty(), 700, false);
    }

    /** The ZooKeeper path of this cluster's tree. */
    public String clusterPath(String cluster) {
        return (zkRoot.endsWith("/") ? zkRoot : zkRoot + "/") + cluster;
    }
}
