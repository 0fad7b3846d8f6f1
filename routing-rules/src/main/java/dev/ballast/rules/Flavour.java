package dev.ballast.rules;

import java.util.Locale;

/** Which server family a replica group runs; replication and failover SQL differ between them. */
public enum Flavour {
    MARIADB, MYSQL;

    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
