package dev.ballast.failover.analysis;

/**
 * The limits {@link Analysis} applies, and the time it applies them at.
 *
 * @param maxLagSeconds       a replica further behind than this ({@code Seconds_Behind_Master}) is a
 *                            {@link dev.ballast.failover.model.Problem.Kind#LAGGING_REPLICA}
 * @param staleProbeMillis    a probe taken before {@code nowMillis - staleProbeMillis} is ignored, as if the monitor had
 *                            not probed that node at all
 * @param nowMillis           wall-clock time of the analysis, comparable with
 *                            {@link dev.ballast.replication.NodeProbe#probedAtMillis()}
 * @param heartbeatPeriodMs   the heartbeat period replicas should have ({@code failover.heartbeatPeriodMs}); a replica
 *                            with a longer one (or none) is a {@link dev.ballast.failover.model.Problem.Kind#SLOW_HEARTBEAT}
 * @param deadAfterHeartbeats a replica that received nothing for this many of its heartbeat periods no longer hears its
 *                            master ({@code failover.deadAfterHeartbeats})
 */
public record AnalysisSettings(long maxLagSeconds, long staleProbeMillis, long nowMillis, long heartbeatPeriodMs,
                               int deadAfterHeartbeats) {

    public static final long DEFAULT_MAX_LAG_SECONDS = 10;
    public static final long DEFAULT_HEARTBEAT_PERIOD_MS = 500;
    public static final int DEFAULT_DEAD_AFTER_HEARTBEATS = 3;

    public AnalysisSettings {
        if (maxLagSeconds < 0) {
            throw new IllegalArgumentException("maxLagSeconds " + maxLagSeconds + " is negative");
        }
        if (staleProbeMillis < 0) {
            throw new IllegalArgumentException("staleProbeMillis " + staleProbeMillis + " is negative");
        }
        if (heartbeatPeriodMs < 1) {
            throw new IllegalArgumentException("heartbeatPeriodMs " + heartbeatPeriodMs + " must be at least 1");
        }
        if (deadAfterHeartbeats < 2) {
            throw new IllegalArgumentException("deadAfterHeartbeats " + deadAfterHeartbeats + " must be at least 2");
        }
    }

    /** The default heartbeat limits ({@value #DEFAULT_HEARTBEAT_PERIOD_MS} ms, {@value #DEFAULT_DEAD_AFTER_HEARTBEATS} periods). */
    public AnalysisSettings(long maxLagSeconds, long staleProbeMillis, long nowMillis) {
        this(maxLagSeconds, staleProbeMillis, nowMillis, DEFAULT_HEARTBEAT_PERIOD_MS, DEFAULT_DEAD_AFTER_HEARTBEATS);
    }

    /** The default lag limit ({@value #DEFAULT_MAX_LAG_SECONDS} s). */
    public static AnalysisSettings of(long staleProbeMillis, long nowMillis) {
        return new AnalysisSettings(DEFAULT_MAX_LAG_SECONDS, staleProbeMillis, nowMillis);
    }

    /** The same limits at another time: one settings value per monitor, a new time per analysis. */
    public AnalysisSettings at(long newNowMillis) {
        return new AnalysisSettings(maxLagSeconds, staleProbeMillis, newNowMillis, heartbeatPeriodMs, deadAfterHeartbeats);
    }

    /** Whether a probe taken at {@code probedAtMillis} still counts (probes from a clock ahead of ours do). */
    boolean fresh(long probedAtMillis) {
        return probedAtMillis >= nowMillis - staleProbeMillis;
    }
}
