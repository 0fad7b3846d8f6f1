package dev.ballast.rules.shardingsphere;

import dev.ballast.rules.AlgorithmSpec;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.DataNode;
import dev.ballast.rules.GroupConfig;
import dev.ballast.rules.KeyGeneratorSpec;
import dev.ballast.rules.ReadPolicy;
import dev.ballast.rules.TableRule;
import org.apache.shardingsphere.broadcast.config.BroadcastRuleConfiguration;
import org.apache.shardingsphere.infra.algorithm.core.config.AlgorithmConfiguration;
import org.apache.shardingsphere.infra.config.rule.RuleConfiguration;
import org.apache.shardingsphere.readwritesplitting.config.ReadwriteSplittingRuleConfiguration;
import org.apache.shardingsphere.readwritesplitting.config.rule.ReadwriteSplittingDataSourceGroupRuleConfiguration;
import org.apache.shardingsphere.readwritesplitting.transaction.TransactionalReadQueryStrategy;
import org.apache.shardingsphere.sharding.api.config.ShardingRuleConfiguration;
import org.apache.shardingsphere.sharding.api.config.rule.ShardingTableReferenceRuleConfiguration;
import org.apache.shardingsphere.sharding.api.config.rule.ShardingTableRuleConfiguration;
import org.apache.shardingsphere.sharding.api.config.strategy.keygen.KeyGenerateStrategyConfiguration;
import org.apache.shardingsphere.sharding.api.config.strategy.sharding.NoneShardingStrategyConfiguration;
import org.apache.shardingsphere.sharding.api.config.strategy.sharding.StandardShardingStrategyConfiguration;

import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * Translates a {@link ClusterConfig} into ShardingSphere rule configuration. Each replica group is one
 * logical data source named after the group; it is a read/write-splitting group over the storage
 * units {@link #masterUnit(String)} and {@link #replicaUnit(String, int)}.
 */
public final class ShardingSphereRules {

    /** Marks a ShardingSphere inline expression as a plain comma-separated list (no Groovy). */
    private static final String LITERAL = "<LITERAL>";

    private ShardingSphereRules() {
    }

    public static String masterUnit(String group) {
        return group + "__master";
    }

    public static String replicaUnit(String group, int index) {
        return group + "__replica" + index;
    }

    /**
     * Every rule for the cluster: sharding (sharded and placed tables), broadcast, read/write splitting
     * with ShardingSphere's own round-robin or random read balancer (no health, no read-your-writes).
     */
    public static List<RuleConfiguration> rules(ClusterConfig config) {
        String balancer = config.readPolicy().loadBalance() == ReadPolicy.LoadBalance.RANDOM ? "RANDOM" : "ROUND_ROBIN";
        return rules(config, new AlgorithmConfiguration(balancer, new Properties()));
    }

    /** Every rule for the cluster, with the given read load balancer and ShardingSphere's own SNOWFLAKE keys. */
    public static List<RuleConfiguration> rules(ClusterConfig config, AlgorithmConfiguration readBalancer) {
        return rules(config, readBalancer, new AlgorithmConfiguration("SNOWFLAKE", new Properties()));
    }

    /**
     * Every rule for the cluster, with the given read load balancer and the given algorithm for {@code snowflake} key
     * generators (the data plane passes its own, whose worker id is leased per process).
     */
    public static List<RuleConfiguration> rules(ClusterConfig config, AlgorithmConfiguration readBalancer,
                                                AlgorithmConfiguration snowflake) {
        List<RuleConfiguration> rules = new ArrayList<>();
        rules.add(sharding(config, snowflake));
        List<String> broadcast = config.tables().values().stream()
                .filter(t -> t instanceof TableRule.Broadcast).map(TableRule::name).toList();
        if (!broadcast.isEmpty()) {
            rules.add(new BroadcastRuleConfiguration(broadcast));
        }
        rules.add(readwriteSplitting(config, readBalancer));
        return rules;
    }

    static ShardingRuleConfiguration sharding(ClusterConfig config) {
        return sharding(config, new AlgorithmConfiguration("SNOWFLAKE", new Properties()));
    }

    static ShardingRuleConfiguration sharding(ClusterConfig config, AlgorithmConfiguration snowflake) {
        ShardingRuleConfiguration result = new ShardingRuleConfiguration();
        result.setDefaultDatabaseShardingStrategy(new NoneShardingStrategyConfiguration());
        result.setDefaultTableShardingStrategy(new NoneShardingStrategyConfiguration());
        for (TableRule table : config.tables().values()) {
            if (table instanceof TableRule.Sharded sharded) {
                result.getTables().add(shardedTable(sharded, result, snowflake));
            } else if (table instanceof TableRule.Placed placed) {
                // One data node and no strategy: every statement, DDL included, goes to that group.
                ShardingTableRuleConfiguration rule = new ShardingTableRuleConfiguration(placed.name(),
                        literal(placed.dataNodes()));
                placed.keyGenerator().ifPresent(k -> rule.setKeyGenerateStrategy(keyGenerator(placed.name(), k, result, snowflake)));
                result.getTables().add(rule);
            }
        }
        for (List<String> binding : config.bindingTables()) {
            String joined = String.join(",", binding);
            result.getBindingTableGroups().add(new ShardingTableReferenceRuleConfiguration("binding_" + binding.get(0), joined));
        }
        return result;
    }

    private static ShardingTableRuleConfiguration shardedTable(TableRule.Sharded table, ShardingRuleConfiguration rules,
                                                               AlgorithmConfiguration snowflake) {
        List<DataNode> nodes = table.dataNodes();
        ShardingTableRuleConfiguration rule = new ShardingTableRuleConfiguration(table.name(), literal(nodes));
        String dbAlgorithm = table.name() + "_database";
        rules.getShardingAlgorithms().put(dbAlgorithm, algorithm(table, BallastShardingAlgorithm.Role.DATABASE));
        rule.setDatabaseShardingStrategy(new StandardShardingStrategyConfiguration(table.shardingColumn(), dbAlgorithm));
        if (table.tablesPerGroup() > 1) {
            String tableAlgorithm = table.name() + "_table";
            rules.getShardingAlgorithms().put(tableAlgorithm, algorithm(table, BallastShardingAlgorithm.Role.TABLE));
            rule.setTableShardingStrategy(new StandardShardingStrategyConfiguration(table.shardingColumn(), tableAlgorithm));
        } else {
            rule.setTableShardingStrategy(new NoneShardingStrategyConfiguration());
        }
        table.keyGenerator().ifPresent(k -> rule.setKeyGenerateStrategy(keyGenerator(table.name(), k, rules, snowflake)));
        return rule;
    }

    /**
     * Data nodes as a literal list. Without the prefix ShardingSphere evaluates each list as a Groovy
     * expression: measured here, that took over 25 s for 10 000 tables.
     */
    private static String literal(List<DataNode> nodes) {
        return LITERAL + nodes.stream().map(DataNode::toString).collect(Collectors.joining(","));
    }

    private static KeyGenerateStrategyConfiguration keyGenerator(String table, KeyGeneratorSpec spec, ShardingRuleConfiguration rules,
                                                                 AlgorithmConfiguration snowflake) {
        String name = table + "_" + spec.column() + "_keys";
        rules.getKeyGenerators().put(name, spec.type() == KeyGeneratorSpec.Type.SNOWFLAKE ? snowflake
                : new AlgorithmConfiguration(spec.type().name(), new Properties()));
        return new KeyGenerateStrategyConfiguration(spec.column(), name);
    }

    static AlgorithmConfiguration algorithm(TableRule.Sharded table, BallastShardingAlgorithm.Role role) {
        Properties props = new Properties();
        props.setProperty(BallastShardingAlgorithm.TABLE, table.name());
        props.setProperty(BallastShardingAlgorithm.COLUMN, table.shardingColumn());
        props.setProperty(BallastShardingAlgorithm.ROLE, role.name());
        props.setProperty(BallastShardingAlgorithm.NODES,
                table.dataNodes().stream().map(DataNode::toString).collect(Collectors.joining(",")));
        encode(table.algorithm(), props);
        return new AlgorithmConfiguration(BallastShardingAlgorithm.TYPE, props);
    }

    static void encode(AlgorithmSpec spec, Properties props) {
        props.setProperty("algorithm", spec.typeName());
        if (spec instanceof AlgorithmSpec.Range r) {
            props.setProperty("bounds", r.bounds().stream().map(String::valueOf).collect(Collectors.joining(",")));
        } else if (spec instanceof AlgorithmSpec.ConsistentHash c) {
            props.setProperty("virtualNodes", String.valueOf(c.virtualNodes()));
        } else if (spec instanceof AlgorithmSpec.Interval i) {
            props.setProperty("start", i.start().toString());
            props.setProperty("unit", i.unit().name());
            props.setProperty("amount", String.valueOf(i.amount()));
        }
    }

    static AlgorithmSpec decode(Properties props) {
        String type = props.getProperty("algorithm");
        return switch (type) {
            case "hash-mod" -> new AlgorithmSpec.HashMod();
            case "range" -> new AlgorithmSpec.Range(Arrays.stream(props.getProperty("bounds").split(","))
                    .map(Long::valueOf).toList());
            case "consistent-hash" -> new AlgorithmSpec.ConsistentHash(Integer.parseInt(props.getProperty("virtualNodes")));
            case "interval" -> new AlgorithmSpec.Interval(LocalDateTime.parse(props.getProperty("start")),
                    ChronoUnit.valueOf(props.getProperty("unit")), Integer.parseInt(props.getProperty("amount")));
            default -> throw new IllegalArgumentException("unknown Ballast sharding algorithm '" + type + "'");
        };
    }

    static ReadwriteSplittingRuleConfiguration readwriteSplitting(ClusterConfig config, AlgorithmConfiguration balancer) {
        Collection<ReadwriteSplittingDataSourceGroupRuleConfiguration> groups = new ArrayList<>();
        for (GroupConfig group : config.groups().values()) {
            List<String> reads = new ArrayList<>();
            for (int i = 0; i < group.replicas().size(); i++) {
                reads.add(LITERAL + replicaUnit(group.name(), i));
            }
            if (reads.isEmpty()) {
                // A group without replicas reads from its master.
                reads.add(LITERAL + masterUnit(group.name()));
            }
            // Literal names: ShardingSphere evaluates each one as an inline expression, and the first Groovy
            // evaluation in a JVM loads Groovy's runtime (0.5-0.8 s of a cold start, JFR).
            groups.add(new ReadwriteSplittingDataSourceGroupRuleConfiguration(LITERAL + group.name(),
                    LITERAL + masterUnit(group.name()), reads, TransactionalReadQueryStrategy.PRIMARY, "reads"));
        }
        return new ReadwriteSplittingRuleConfiguration(groups, Map.of("reads", balancer));
    }
}
