package dev.ballast.rules;

/**
 * The {@code schema:} section: how {@code ballast schema apply} paces online changes.
 *
 * @param maxLagMs     an online step starts only when every replica of its group is at most this far behind its master,
 *                     as Ballast measures lag (GTID positions, see the read policy); 0 = no throttle. Default 1000.
 * @param reloadWaitMs after a statement completed and the schema version rose, how long apply waits for every registered
 *                     data plane (driver or proxy following ZooKeeper) to report that it reloaded the table's metadata;
 *                     0 = do not wait. Default 10000.
 */
public record SchemaSettings(long maxLagMs, long reloadWaitMs) {

    public static final SchemaSettings DEFAULTS = new SchemaSettings(1000, 10_000);

    public SchemaSettings {
        if (maxLagMs < 0) {
            throw new IllegalArgumentException("schema.maxLagMs must be >= 0, got " + maxLagMs);
        }
        if (reloadWaitMs < 0) {
            throw new IllegalArgumentException("schema.reloadWaitMs must be >= 0, got " + reloadWaitMs);
        }
    }

    /** Settings with the default {@code reloadWaitMs}. */
    public SchemaSettings(long maxLagMs) {
        this(maxLagMs, DEFAULTS.reloadWaitMs());
    }
}
