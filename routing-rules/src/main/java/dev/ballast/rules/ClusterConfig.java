package dev.ballast.rules;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A validated cluster configuration. Build it with {@link ClusterConfigLoader}; every instance that
 * exists has passed validation. Maps keep the order of the YAML file.
 */
public record ClusterConfig(String name, String database, Credentials credentials,
                            java.util.Optional<MonitorCredentials> monitor, PoolSettings pool,
                            ReadPolicy readPolicy, Map<String, GroupConfig> groups, Map<String, TableRule> tables,
                            List<List<String>> bindingTables, boolean fastPath, FailoverSettings failover,
                            ProxySettings proxy, java.util.OptionalInt workerId, UpgradeSettings upgrade,
                            SchemaSettings schema, Map<String, MongoReplicaSetConfig> mongoReplicaSets,
                            long deadlockCheckMs) {

    /**
     * How often the data plane (driver and proxy) looks for deadlocks between its own transactions over several groups,
     * which no server sees whole, in ms; 0 = never.
     */
    public static final long DEFAULT_DEADLOCK_CHECK_MS = 100;

    /** A config without MongoDB replica sets. */
    public ClusterConfig(String name, String database, Credentials credentials,
                         java.util.Optional<MonitorCredentials> monitor, PoolSettings pool,
                         ReadPolicy readPolicy, Map<String, GroupConfig> groups, Map<String, TableRule> tables,
                         List<List<String>> bindingTables, boolean fastPath, FailoverSettings failover,
                         ProxySettings proxy, java.util.OptionalInt workerId, UpgradeSettings upgrade) {
        this(name, database, credentials, monitor, pool, readPolicy, groups, tables, bindingTables, fastPath, failover, proxy,
                workerId, upgrade, null, Map.of(), DEFAULT_DEADLOCK_CHECK_MS);
    }

    public ClusterConfig {
        mongoReplicaSets = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(mongoReplicaSets));
        groups = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(groups));
        tables = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(tables));
        bindingTables = bindingTables.stream().map(List::copyOf).toList();
        upgrade = upgrade == null ? UpgradeSettings.DEFAULTS : upgrade;
        schema = schema == null ? SchemaSettings.DEFAULTS : schema;
    }

    public GroupConfig group(String groupName) {
        GroupConfig group = groups.get(groupName);
        if (group == null) {
            throw new IllegalArgumentException("[cluster=" + name + "] no group '" + groupName + "'; groups are " + groups.keySet());
        }
        return group;
    }

    /** The same config with other groups (the live topology after a failover); everything else unchanged. */
    public ClusterConfig withGroups(Map<String, GroupConfig> newGroups) {
        return new ClusterConfig(name, database, credentials, monitor, pool, readPolicy, newGroups, tables, bindingTables,
                fastPath, failover, proxy, workerId, upgrade, schema, mongoReplicaSets, deadlockCheckMs);
    }

    /** The replica set {@code mongo.replicaSets.<name>}, if the config has one of that name. */
    public Optional<MongoReplicaSetConfig> mongoReplicaSet(String replicaSetName) {
        return Optional.ofNullable(mongoReplicaSets.get(replicaSetName));
    }

    public Optional<TableRule> table(String tableName) {
        return Optional.ofNullable(tables.get(tableName));
    }
}
