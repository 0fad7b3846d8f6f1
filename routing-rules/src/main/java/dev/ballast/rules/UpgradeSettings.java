package dev.ballast.rules;

import java.util.List;
import java.util.Optional;

/**
 * The {@code upgrade:} section: how {@code ballast upgrade} stops, upgrades and starts one server. The commands are
 * the operator's (Ballast cannot know how a server is installed); each is a template run by {@code /bin/sh -c} with
 * {@code {host}}, {@code {port}}, {@code {node}} ({@code host:port}) and {@code {version}} (the target) replaced, and
 * the same values in the environment as {@code BALLAST_HOST}, {@code BALLAST_PORT}, {@code BALLAST_NODE},
 * {@code BALLAST_VERSION}. A command that exits non-zero fails its step (the operation pauses with its output).
 *
 * @param stopCommand       stops the server cleanly (empty = not set: {@code upgrade start} is refused)
 * @param installCommand    replaces the server's binaries with {@code {version}}'s (empty = not set)
 * @param startCommand      starts the server, returning once it is started or while it starts (empty = not set)
 * @param postStartCommand  run once the new server accepts connections, e.g. {@code mariadb-upgrade}; empty = none
 * @param postStartSql      statements run on the new server as {@code failover.admin} with {@code sql_log_bin=0} after
 *                          {@code postStartCommand}; empty = none
 * @param commandTimeoutMs  each command at most this long, default 600000 (10 min)
 * @param stopTimeoutMs     after the stop command, the server must stop answering within this, default 120000
 * @param startTimeoutMs    after the start command, the server must accept connections within this, default 300000
 * @param drainTimeoutMs    after the maintenance mark, how long to wait for application statements in flight on the
 *                          node to finish before stopping it anyway, default 10000
 * @param catchUpTimeoutMs  how long an upgraded replica may take to replicate again and come within
 *                          {@code readPolicy.maxReplicaLagMs} of its master, default 600000
 */
public record UpgradeSettings(String stopCommand, String installCommand, String startCommand, String postStartCommand,
                              List<String> postStartSql, long commandTimeoutMs, long stopTimeoutMs, long startTimeoutMs,
                              long drainTimeoutMs, long catchUpTimeoutMs) {

    public static final UpgradeSettings DEFAULTS = new UpgradeSettings("", "", "", "", List.of(), 600_000, 120_000, 300_000,
            10_000, 600_000);

    public UpgradeSettings {
        stopCommand = stopCommand == null ? "" : stopCommand.trim();
        installCommand = installCommand == null ? "" : installCommand.trim();
        startCommand = startCommand == null ? "" : startCommand.trim();
        postStartCommand = postStartCommand == null ? "" : postStartCommand.trim();
        postStartSql = postStartSql == null ? List.of() : List.copyOf(postStartSql);
    }

    /** The first of stop/install/start that is not set, as its key ({@code upgrade.stopCommand}); empty when all are. */
    public Optional<String> missingCommand() {
        if (stopCommand.isEmpty()) {
            return Optional.of("upgrade.stopCommand");
        }
        if (installCommand.isEmpty()) {
            return Optional.of("upgrade.installCommand");
        }
        if (startCommand.isEmpty()) {
            return Optional.of("upgrade.startCommand");
        }
        return Optional.empty();
    }

    /**
     * {@code template} with {@code {host}}, {@code {port}}, {@code {node}} and {@code {version}} replaced. The values are
     * safe inside a shell command: a host must be letters, digits, '.', '-', ':' and '_', a version letters, digits,
     * '.', '-', '_' and '+'.
     *
     * @throws IllegalArgumentException naming a host or version with other characters
     */
    public static String render(String template, NodeAddress node, String version) {
        if (!node.host().matches("[A-Za-z0-9._:-]+")) {
            throw new IllegalArgumentException("host '" + node.host() + "' has characters that are not safe in a shell "
                    + "command (allowed: letters, digits, '.', '-', ':', '_')");
        }
        if (!version.matches("[A-Za-z0-9._+-]+")) {
            throw new IllegalArgumentException("version '" + version + "' has characters that are not safe in a shell "
                    + "command (allowed: letters, digits, '.', '-', '_', '+')");
        }
        return template.replace("{host}", node.host()).replace("{port}", Integer.toString(node.port()))
                .replace("{node}", node.toString()).replace("{version}", version);
    }
}
