package dev.ballast.rules;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One MongoDB replica set of the config ({@code mongo.replicaSets.<name>}). Validated by {@link ClusterConfigLoader}.
 *
 * @param name                     the key under {@code mongo.replicaSets}: the replica set's name ({@code replSetName})
 *                                 and the group name the CLI takes ({@code --group})
 * @param members                  seed list, {@code host:port} as the members name themselves in {@code hello.me}
 * @param user                     user for the client and the control plane (SCRAM); empty = no authentication
 * @param password                 its password, kept unresolved until a process connects ({@code ${VAR}} allowed)
 * @param authSource               database the user is defined in, default {@code admin}
 * @param readPreference           {@code primary} (default), {@code primaryPreferred}, {@code secondary},
 *                                 {@code secondaryPreferred}, {@code nearest}
 * @param maxStalenessSeconds      secondaries further behind the primary get no reads; at least 90 (the driver's
 *                                 minimum); not allowed with {@code primary}
 * @param writeConcern             {@code majority} (default) or a number of members 0..50
 * @param writeConcernTimeoutMs    {@code wtimeout}, 0 = none (default)
 * @param connectTimeoutMs         TCP connect timeout, default 2000 ms
 * @param serverSelectionTimeoutMs how long an operation waits for a suitable member (a primary during an election),
 *                                 default 10000 ms
 * @param heartbeatFrequencyMs     how often the driver and the watcher check each member, default 1000 ms (min 500)
 * @param stepDownSecs             switchover: how long the old primary may not be re-elected, default 60 s
 * @param catchUpSecs              switchover: how long the primary waits for a secondary to catch up, default 10 s
 * @param upgrade                  rolling upgrade: the commands that stop, install and start one member
 */
public record MongoReplicaSetConfig(String name, List<NodeAddress> members, Optional<String> user,
                                    Optional<Secret> password, String authSource, String readPreference,
                                    OptionalLong maxStalenessSeconds, String writeConcern, long writeConcernTimeoutMs,
                                    int connectTimeoutMs, int serverSelectionTimeoutMs, int heartbeatFrequencyMs,
                                    int stepDownSecs, int catchUpSecs, UpgradeCommands upgrade) {

    public static final List<String> READ_PREFERENCES =
            List.of("primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest");

    public MongoReplicaSetConfig {
        members = List.copyOf(members);
    }

    /**
     * Shell command templates of a rolling upgrade, run with {@code sh -c} on the host of the CLI; {@code {host}},
     * {@code {port}}, {@code {node}} and {@code {version}} are replaced. Empty = the cluster's {@code upgrade.stopCommand}
     * (installCommand, startCommand) is used; when that is empty too, {@code ballast upgrade start} is refused (the plan
     * still shows).
     */
    public record UpgradeCommands(Optional<String> stop, Optional<String> install, Optional<String> start) {
        public static final UpgradeCommands NONE = new UpgradeCommands(Optional.empty(), Optional.empty(), Optional.empty());
    }

    @Override
    public String toString() {
        return "MongoReplicaSetConfig[" + name + " members=" + members + " user=" + user.orElse("-") + "]";
    }
}
