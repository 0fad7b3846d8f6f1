package dev.ballast.it.testbed;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code mariadb-upgrade} would do for a MariaDB 10.11 data directory now served by 11.4, done over JDBC: the
 * Maven artifact of 11.4.5 has no {@code mariadb-upgrade} and no {@code mysql_system_tables_fix.sql} (that script is
 * compiled into the {@code mariadb-upgrade} binary).
 *
 * <p>Measured on this machine by comparing every {@code SHOW CREATE TABLE mysql.*} and the {@code sys} objects of a
 * Debian 10.11.19 data directory served by 11.4.5 with those of a data directory made by 11.4.5's own
 * {@code mariadb-install-db}, the only differences are:
 * <ul>
 *   <li>{@code mysql.db} lacks {@code Show_create_routine_priv} (the 11.3 privilege {@code SHOW CREATE ROUTINE},
 *       MDEV-29167), and {@code mysql.procs_priv.Proc_priv} lacks the set member {@code 'Show Create Routine'}.
 *       Until fixed, {@code GRANT SHOW CREATE ROUTINE ON db.*} succeeds but is silently not stored;</li>
 *   <li>the {@code sys} schema is 10.11's: it lacks the view {@code privileges_by_table_by_level} and the procedures
 *       {@code optimizer_switch_choice}, {@code optimizer_switch_on}, {@code optimizer_switch_off}.</li>
 * </ul>
 * The server starts without complaint (no upgrade warning in the error log). This class adds the column and the set
 * member ({@code ALTER TABLE}), runs 11.4's {@code share/mariadb_sys_schema.sql} statement by statement, and writes
 * {@code mariadb_upgrade_info} (the file {@code mariadb-upgrade} leaves) into the data directory. Every statement
 * runs with {@code sql_log_bin=0}: the node's own system tables are not the group's data, and a binlogged
 * {@code ALTER} would be an errant GTID on a replica (and break 10.11 replicas of an 11.4 master). Running it twice
 * is safe.
 */
public final class SystemTablesUpgrade {

    /** One statement that the server refused, with its error. */
    public record Failure(String statement, int errorCode, String message) {
    }

    /** What {@link #run} did. */
    public record Result(String version, int executed, List<Failure> failures) {
        public Result {
            failures = List.copyOf(failures);
        }
    }

    static final List<String> PRIVILEGE_TABLES = List.of(
            "ALTER TABLE mysql.db ADD COLUMN IF NOT EXISTS Show_create_routine_priv enum('N','Y') CHARACTER SET utf8mb3"
                    + " COLLATE utf8mb3_general_ci NOT NULL DEFAULT 'N' AFTER Delete_history_priv",
            "ALTER TABLE mysql.procs_priv MODIFY Proc_priv set('Execute','Alter Routine','Grant','Show Create Routine')"
                    + " CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci NOT NULL DEFAULT ''",
            "FLUSH PRIVILEGES");

    private SystemTablesUpgrade() {
    }

    /**
     * Brings the system tables of {@code node} (running) up to the version of its binaries.
     *
     * @throws IllegalStateException if a privilege-table statement fails, the node's binaries have no
     *                               {@code share/mariadb_sys_schema.sql}, or the node cannot be reached
     */
    public static Result run(MariaDbNode node) {
        MariaDbBinaries binaries = node.binaries();
        Path sysSchema = binaries.shareDir().map(s -> s.resolve("mariadb_sys_schema.sql")).filter(Files::isRegularFile)
                .orElseThrow(() -> node.failure("no share/mariadb_sys_schema.sql beside " + binaries.mariadbd()
                        + "; start the node from a full MariaDB install (e.g. MariaDbBinaries.fromMavenArtifact)", null));
        List<String> sys;
        try {
            sys = statements(Files.readString(sysSchema, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw node.failure("cannot read " + sysSchema + ": " + e.getMessage(), e);
        }
        int executed = 0;
        List<Failure> failures = new ArrayList<>();
        String version;
        try (Connection c = node.adminConnection(); Statement s = c.createStatement()) {
            s.execute("SET SESSION sql_log_bin = 0");
            for (String sql : PRIVILEGE_TABLES) {
                try {
                    s.execute(sql);
                    executed++;
                } catch (SQLException e) {
                    throw node.failure("system table upgrade statement failed: " + sql + ": " + e.getMessage(), e);
                }
            }
            for (String sql : sys) {
                try {
                    s.execute(sql);
                    executed++;
                } catch (SQLException e) {
                    failures.add(new Failure(sql, e.getErrorCode(), e.getMessage()));
                }
            }
            s.execute("SET SESSION sql_log_bin = 1");
            try (var rs = s.executeQuery("SELECT VERSION()")) {
                rs.next();
                version = rs.getString(1);
            }
        } catch (SQLException e) {
            throw node.failure("system table upgrade: " + e.getMessage(), e);
        }
        try {
            // what mariadb-upgrade writes: the server version without suffix such as -log
            Files.writeString(node.dataDir().resolve("mariadb_upgrade_info"),
                    version.replaceFirst("-MariaDB.*", "-MariaDB"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw node.failure("cannot write mariadb_upgrade_info: " + e.getMessage(), e);
        }
        return new Result(version, executed, failures);
    }

    /**
     * Splits a script for the {@code mariadb} client into statements: {@code DELIMITER x} lines change the
     * terminator, which ends a statement at the end of a line; lines of only a {@code --} comment outside a statement
     * are dropped.
     */
    static List<String> statements(String script) {
        List<String> out = new ArrayList<>();
        String delimiter = ";";
        StringBuilder current = new StringBuilder();
        for (String line : script.split("\n", -1)) {
            String trimmed = line.strip();
            if (current.isEmpty() && (trimmed.isEmpty() || trimmed.startsWith("-- ") || trimmed.equals("--"))) {
                continue;
            }
            if (current.isEmpty() && trimmed.regionMatches(true, 0, "DELIMITER ", 0, 10)) {
                delimiter = trimmed.substring(10).strip();
                continue;
            }
            if (trimmed.endsWith(delimiter)) {
                current.append(line, 0, line.lastIndexOf(delimiter));
                String sql = current.toString().strip();
                if (!sql.isEmpty()) {
                    out.add(sql);
                }
                current.setLength(0);
            } else {
                current.append(line).append('\n');
            }
        }
        if (!current.toString().isBlank()) {
            out.add(current.toString().strip());
        }
        return List.copyOf(out);
    }
}
