package dev.ballast.upgrade.mongo;

import dev.ballast.mongo.MongoUpgradePlan;
import dev.ballast.mongo.ReplicaSetStatus;
import dev.ballast.rules.MongoReplicaSetConfig;
import dev.ballast.rules.NodeAddress;
import dev.ballast.rules.UpgradeSettings;
import dev.ballast.upgrade.Action;
import dev.ballast.upgrade.Runner;
import dev.ballast.upgrade.Step;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The rolling binary upgrade of one MongoDB replica set as operation-engine {@link Step}s: {@link MongoUpgradePlan}'s
 * pure plan (secondaries one at a time, the primary stepped down to an upgraded secondary, then the old primary) with
 * the operator's commands filled in. A pure function of one look at the set; the refusals are the plan's
 * ({@link dev.ballast.mongo.MongoRefusedException}, before anything changes).
 *
 * <p>Each step's group is the replica set, its node the member ({@code host:port}; for the step-down, the member that
 * takes over). A member's {@code mongo-stop … mongo-await-secondary} share a {@link Runner#UNIT}: an abort in the
 * middle finishes them, so the member serves again.
 */
public record MongoUpgrade(String replicaSet, String target, Optional<String> fcv, Commands commands, List<Step> steps) {

    /** The operation kind stored with a MongoDB upgrade. */
    public static final String KIND = "mongo-upgrade";

    /**
     * The commands that stop, install and start one member: the replica set's own
     * ({@code mongo.replicaSets.<rs>.upgrade.stop/install/start}), else the cluster's
     * ({@code upgrade.stopCommand/installCommand/startCommand}). Each with the key it came from, for messages.
     */
    public record Commands(String stop, String stopKey, String install, String installKey, String start, String startKey) {

        public static Commands of(MongoReplicaSetConfig rs, UpgradeSettings settings) {
            String at = "mongo.replicaSets." + rs.name() + ".upgrade.";
            MongoReplicaSetConfig.UpgradeCommands own = rs.upgrade();
            return new Commands(
                    own.stop().orElse(settings.stopCommand()), own.stop().isPresent() ? at + "stop" : "upgrade.stopCommand",
                    own.install().orElse(settings.installCommand()),
                    own.install().isPresent() ? at + "install" : "upgrade.installCommand",
                    own.start().orElse(settings.startCommand()), own.start().isPresent() ? at + "start" : "upgrade.startCommand");
        }

        /** The first of stop, install, start that is set nowhere, as both keys that could set it. */
        public Optional<String> missing(String replicaSet) {
            String at = "mongo.replicaSets." + replicaSet + ".upgrade.";
            if (stop.isBlank()) {
                return Optional.of(at + "stop (or upgrade.stopCommand)");
            }
            if (install.isBlank()) {
                return Optional.of(at + "install (or upgrade.installCommand)");
            }
            if (start.isBlank()) {
                return Optional.of(at + "start (or upgrade.startCommand)");
            }
            return Optional.empty();
        }

        String template(String action) {
            return switch (action) {
                case MongoUpgradePlan.STOP -> stop;
                case MongoUpgradePlan.INSTALL -> install;
                case MongoUpgradePlan.START -> start;
                default -> throw new IllegalArgumentException("no command for " + action);
            };
        }

        String key(String action) {
            return switch (action) {
                case MongoUpgradePlan.STOP -> stopKey;
                case MongoUpgradePlan.INSTALL -> installKey;
                case MongoUpgradePlan.START -> startKey;
                default -> throw new IllegalArgumentException("no command for " + action);
            };
        }
    }

    public MongoUpgrade {
        steps = List.copyOf(steps);
    }

    /**
     * Plans the upgrade of {@code status}'s replica set to {@code target}; {@code fcv} is its featureCompatibilityVersion
     * when known (an upgrade into the next release series needs it at the series the members leave).
     *
     * @throws dev.ballast.mongo.MongoRefusedException naming the member and the way out, when the set is not fit for it
     */
    public static MongoUpgrade plan(ReplicaSetStatus status, Optional<String> fcv, String target, MongoReplicaSetConfig rs,
                                    UpgradeSettings settings) {
        Commands commands = Commands.of(rs, settings);
        List<Step> steps = new ArrayList<>();
        for (MongoUpgradePlan.PlannedStep p : MongoUpgradePlan.plan(status, target, fcv)) {
            Map<String, String> params = new LinkedHashMap<>(p.parameters());
            params.put("version", target);
            switch (p.action()) {
                case MongoUpgradePlan.STOP, MongoUpgradePlan.INSTALL, MongoUpgradePlan.START -> {
                    String template = commands.template(p.action());
                    params.put("command", template.isBlank() ? ""
                            : UpgradeSettings.render(template, NodeAddress.parse(p.member()), target));
                    params.put("commandKey", commands.key(p.action()));
                }
                default -> {
                }
            }
            if (!p.action().equals(MongoUpgradePlan.STEP_DOWN)) {
                params.put(Runner.UNIT, p.replicaSet() + "/" + p.member());
            }
            steps.add(Step.pending(p.replicaSet(), p.member(), new Action(p.action(), params), p.precondition()));
        }
        return new MongoUpgrade(status.name(), target, fcv, commands, steps);
    }

    private static String series(String version) {
        String[] p = version.split("\\.");
        return p.length >= 2 ? p[0] + "." + p[1] : p[0] + ".0";
    }

    /** The plan as an operator reads it: one line per step with its command, or that every member is there. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        if (steps.isEmpty()) {
            b.append("nothing to upgrade: every member of replica set ").append(replicaSet).append(" runs ")
                    .append(target).append('\n');
            return fcvLine(b).toString();
        }
        b.append("upgrade of replica set ").append(replicaSet).append(" to ").append(target).append(": ")
                .append(steps.size()).append(" steps\n");
        for (int i = 0; i < steps.size(); i++) {
            Step s = steps.get(i);
            Map<String, String> p = s.action().parameters();
            b.append(String.format("  %2d. %s", i + 1, s.describe()));
            if (p.containsKey("command")) {
                b.append(": ").append(p.get("command").isEmpty() ? "(not set: " + p.get("commandKey") + ")" : p.get("command"));
            } else if (s.action().name().equals(MongoUpgradePlan.STEP_DOWN)) {
                b.append(": the primary ").append(p.get("from")).append(" steps down, ").append(p.get("to"))
                        .append(" takes over (retryable writes wait for the election, they do not fail)");
            } else if (s.action().name().equals(MongoUpgradePlan.AWAIT)) {
                b.append(": until ").append(p.get("state")).append(" on ").append(target)
                        .append(p.get("state").equals("ARBITER") ? "" : ", within readPolicy.maxReplicaLagMs of the primary");
            }
            b.append('\n');
        }
        return fcvLine(b).toString();
    }

    /** The FCV now, and the command that raises it once the binaries are there. */
    private StringBuilder fcvLine(StringBuilder b) {
        fcv.ifPresent(v -> b.append("featureCompatibilityVersion: ").append(v).append(v.equals(series(target)) ? "\n"
                : "; once every member runs " + target + ", raise it with 'ballast upgrade fcv --group " + replicaSet
                + " --version " + series(target) + "'\n"));
        return b;
    }
}
