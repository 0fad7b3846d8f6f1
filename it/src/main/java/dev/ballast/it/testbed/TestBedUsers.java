package dev.ballast.it.testbed;

/**
 * The accounts that exist on every test-bed node. They are created once in the template data directory, so
 * every node has the same ones without any binlog event (no GTIDs are spent on them).
 *
 * <ul>
 *   <li>admin: {@code ALL PRIVILEGES WITH GRANT OPTION}, from {@code 127.0.0.1} and {@code localhost}. This includes
 *       {@code READ_ONLY ADMIN}, so admin writes go through {@code read_only}: writing as admin on a replica
 *       creates an errant GTID that later stops its SQL thread under {@code gtid_strict_mode}.</li>
 *   <li>replication: {@code REPLICATION SLAVE}; what replicas log in to their master with.</li>
 *   <li>application: data privileges on every database but not {@code READ_ONLY ADMIN}, so {@code read_only=ON}
 *       refuses its writes with ERROR 1290. Send application traffic through this one.</li>
 *   <li>monitor: {@code SLAVE MONITOR, BINLOG MONITOR, PROCESS, REPLICATION CLIENT}; enough for
 *       {@code SHOW SLAVE STATUS}, {@code SHOW MASTER STATUS} and the semi-sync status variables.</li>
 * </ul>
 * All of them are limited to loopback hosts.
 */
public final class TestBedUsers {

    public static final String ADMIN_USER = "ballast_admin";
    public static final String ADMIN_PASSWORD = "admin_pw";
    public static final String REPL_USER = "repl";
    public static final String REPL_PASSWORD = "repl_pw";
    public static final String APP_USER = "app";
    public static final String APP_PASSWORD = "app_pw";
    public static final String MONITOR_USER = "monitor";
    public static final String MONITOR_PASSWORD = "monitor_pw";

    /** The application user's privileges, on {@code *.*}. */
    public static final String APP_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER, "
            + "CREATE TEMPORARY TABLES, LOCK TABLES, CREATE VIEW, SHOW VIEW, TRIGGER, REFERENCES, EXECUTE";

    /** The monitor user's privileges, on {@code *.*}. */
    public static final String MONITOR_PRIVILEGES = "SLAVE MONITOR, BINLOG MONITOR, PROCESS, REPLICATION CLIENT";

    private TestBedUsers() {
    }

    /**
     * The {@code mariadb-install-db --extra-file} that creates the users. It runs under
     * {@code --skip-grant-tables}, where {@code CREATE USER} fails with ERROR 1290 until the grant tables are
     * loaded: hence the leading {@code FLUSH PRIVILEGES}.
     */
    static String bootstrapSql() {
        StringBuilder sql = new StringBuilder("FLUSH PRIVILEGES;\n");
        for (String host : new String[]{"127.0.0.1", "localhost"}) {
            user(sql, ADMIN_USER, host, ADMIN_PASSWORD, "ALL PRIVILEGES", " WITH GRANT OPTION");
        }
        user(sql, REPL_USER, "127.0.0.1", REPL_PASSWORD, "REPLICATION SLAVE", "");
        user(sql, APP_USER, "127.0.0.1", APP_PASSWORD, APP_PRIVILEGES, "");
        user(sql, MONITOR_USER, "127.0.0.1", MONITOR_PASSWORD, MONITOR_PRIVILEGES, "");
        return sql.toString();
    }

    private static void user(StringBuilder sql, String user, String host, String password, String privileges, String option) {
        sql.append("CREATE USER '").append(user).append("'@'").append(host).append("' IDENTIFIED BY '").append(password).append("';\n");
        sql.append("GRANT ").append(privileges).append(" ON *.* TO '").append(user).append("'@'").append(host).append('\'')
                .append(option).append(";\n");
    }
}
