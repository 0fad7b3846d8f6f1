package dev.ballast.jdbc.health;

import dev.ballast.replication.Position;
import dev.ballast.rules.NodeAddress;

import java.util.Objects;

/**
 * What the latest probe round found on one replica.
 *
 * @param node          the replica
 * @param reachable     its applied position was read in the latest attempt, and it is not {@linkplain
 *                      HealthProbe#eject ejected}
 * @param replicating   {@code FALSE} when the monitor user saw a stopped IO or SQL thread (or no replication
 *                      configured); {@code TRUE} when both run (IO {@code Connecting} counts as running: lag decides);
 *                      {@code null} = unknown (no monitor user, or the node was not reachable)
 * @param lagMillis     how long ago the master had data this replica still lacks (see {@link LagTracker}); {@code 0}
 *                      = up to date, {@code -1} = unknown
 * @param applied       its applied position as last read (the empty position if never read)
 * @param probedAtNanos {@link System#nanoTime()} when the latest attempt (successful or not) sent its query
 * @param problem       {@code ""} when it qualifies, else a short reason naming the node
 */
public record ReplicaStatus(NodeAddress node, boolean reachable, Boolean replicating, long lagMillis, Position applied,
                            long probedAtNanos, String problem) {

    public ReplicaStatus {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(applied, "applied");
        Objects.requireNonNull(problem, "problem");
    }

    /** Whether this replica may take new reads: reachable, not known to be stopped, lag known and at most {@code maxLagMs}. */
    public boolean qualifies(long maxLagMs) {
        return reachable && !Boolean.FALSE.equals(replicating) && lagMillis >= 0 && lagMillis <= maxLagMs;
    }
}
