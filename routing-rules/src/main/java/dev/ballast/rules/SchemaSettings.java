package dev.ballast.rules;

/**
 * The {@code schema:} section: how {@code ballast schema apply} paces online changes.
 *
 * @param maxLagMs an online step starts only when every replica of its group is at most this far behind its master,
 *                 as Ballast measures lag (GTID positions, see the read policy); 0 = no throttle. Default 1000.
 */
public record SchemaSettings(long maxLagMs) {

    public static final SchemaSettings DEFAULTS = new SchemaSettings(1000);

    public SchemaSettings {
        if (maxLagMs < 0) {
            throw new IllegalArgumentException("schema.maxLagMs must be >= 0, got " + maxLagMs);
        }
    }
}
