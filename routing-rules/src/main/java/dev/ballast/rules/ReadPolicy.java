package dev.ballast.rules;

/**
 * How autocommit reads are routed within a replica group.
 *
 * @param loadBalance        how reads spread over the replicas that qualify
 * @param maxReplicaLagMs    a replica further behind its master than this gets no new reads
 * @param fallback           what a read does when no replica qualifies
 * @param probeIntervalMs    how often each server's replication position is probed
 * @param readYourWrites     how a connection's reads after its own writes avoid stale replicas
 * @param masterAfterWriteMs {@link ReadYourWrites#MASTER_AFTER_WRITE}: how long reads stay on the master after a write
 */
public record ReadPolicy(LoadBalance loadBalance, long maxReplicaLagMs, Fallback fallback, long probeIntervalMs,
                         ReadYourWrites readYourWrites, long masterAfterWriteMs) {

    public static final ReadPolicy DEFAULTS = new ReadPolicy(LoadBalance.ROUND_ROBIN, 1_000, Fallback.MASTER, 500,
            ReadYourWrites.GTID_WAIT, 2_000);

    public enum LoadBalance {
        ROUND_ROBIN("round-robin"), RANDOM("random");

        private final String configName;

        LoadBalance(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }
    }

    /** When no replica qualifies: read from the master, or fail the read with a clear error. */
    public enum Fallback { MASTER, FAIL }

    public enum ReadYourWrites {
        /** no guarantee: a read right after a write may miss it. */
        OFF("off"),
        /** after a write, the connection reads from the master for {@code masterAfterWriteMs}. */
        MASTER_AFTER_WRITE("master-after-write"),
        /** after a write, the connection reads only from replicas that have applied its last GTID, else the master. */
        GTID_WAIT("gtid-wait");

        private final String configName;

        ReadYourWrites(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }
    }
}
