package dev.ballast.schema;

import java.util.Locale;

/** How a statement is rolled out; see docs/schema.md. */
public enum Strategy {
    /** A metadata change the server accepts with {@code ALGORITHM=INSTANT}: run on each group's master, replicated. */
    INSTANT,
    /** In place with {@code LOCK=NONE} on the master, one physical table at a time, throttled on replica lag. */
    ONLINE,
    /** Replicas first (drained, {@code sql_log_bin=0}), then a planned switchover, then the old master. */
    ROLLING;

    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Strategy parse(String text) {
        for (Strategy s : values()) {
            if (s.configName().equalsIgnoreCase(text)) {
                return s;
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not a strategy (instant, online, rolling)");
    }
}
