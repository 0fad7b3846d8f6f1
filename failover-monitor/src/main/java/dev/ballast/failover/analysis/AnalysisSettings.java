package dev.ballast.failover.analysis;

/**
 * The limits {@link Analysis} applies, and the time it applies them at.
 *
 * @param maxLagSeconds    a replica further behind than this ({@code Seconds_Behind_Master}) is a
 *                         {@link dev.ballast.failover.model.Problem.Kind#LAGGING_REPLICA}
 * @param staleProbeMillis a probe taken before {@code nowMillis - staleProbeMillis} is ignored, as if the monitor had
 *                         not probed that node at all
 * @param nowMillis        wall-clock time of the analysis, comparable with
 *                         {@link dev.ballast.replication.NodeProbe#probedAtMillis()}
 */
public record AnalysisSettings(long maxLagSeconds, long staleProbeMillis, long nowMillis) {

    public static final long DEFAULT_MAX_LAG_SECONDS = 10;

    public AnalysisSettings {
        if (maxLagSeconds < 0) {
            throw new IllegalArgumentException("maxLagSeconds " + maxLagSeconds + " is negative");
        }
        if (staleProbeMillis < 0) {
            throw new IllegalArgumentException("staleProbeMillis " + staleProbeMillis + " is negative");
        }
    }

    /** The default lag limit ({@value #DEFAULT_MAX_LAG_SECONDS} s). */
    public static AnalysisSettings of(long staleProbeMillis, long nowMillis) {
        return new AnalysisSettings(DEFAULT_MAX_LAG_SECONDS, staleProbeMillis, nowMillis);
    }

    /** The same limits at another time: one settings value per monitor, a new time per analysis. */
    public AnalysisSettings at(long newNowMillis) {
        return new AnalysisSettings(maxLagSeconds, staleProbeMillis, newNowMillis);
    }

    /** Whether a probe taken at {@code probedAtMillis} still counts (probes from a clock ahead of ours do). */
    boolean fresh(long probedAtMillis) {
        return probedAtMillis >= nowMillis - staleProbeMillis;
    }
}
