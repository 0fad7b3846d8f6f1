package dev.ballast.rules.shardingsphere;

import dev.ballast.rules.DataNode;
import dev.ballast.rules.algorithm.ShardFunction;
import org.apache.shardingsphere.sharding.api.sharding.standard.PreciseShardingValue;
import org.apache.shardingsphere.sharding.api.sharding.standard.RangeShardingValue;
import org.apache.shardingsphere.sharding.api.sharding.standard.StandardShardingAlgorithm;

import com.google.common.collect.BoundType;
import com.google.common.collect.Range;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;

/**
 * Plugs a Ballast {@link ShardFunction} into ShardingSphere (SPI type {@value #TYPE}). The same function
 * picks the group (role DATABASE) and, with several tables per group, the physical table (role TABLE),
 * so both always agree on the data node.
 */
public final class BallastShardingAlgorithm implements StandardShardingAlgorithm<Comparable<?>> {

    public static final String TYPE = "BALLAST";
    static final String TABLE = "table";
    static final String COLUMN = "column";
    static final String ROLE = "role";
    static final String NODES = "nodes";

    enum Role { DATABASE, TABLE }

    private String table;
    private String column;
    private Role role;
    private List<DataNode> nodes;
    private ShardFunction function;

    @Override
    public void init(Properties props) {
        table = props.getProperty(TABLE);
        column = props.getProperty(COLUMN);
        role = Role.valueOf(props.getProperty(ROLE));
        nodes = new ArrayList<>();
        for (String n : props.getProperty(NODES).split(",")) {
            int dot = n.indexOf('.');
            nodes.add(new DataNode(n.substring(0, dot), n.substring(dot + 1)));
        }
        function = ShardingSphereRules.decode(props).newFunction(nodes);
    }

    @Override
    public String doSharding(Collection<String> availableTargetNames, PreciseShardingValue<Comparable<?>> value) {
        if (value.getValue() == null) {
            throw new MissingShardingValueException("table " + table + " needs a value for its sharding column " + column
                    + " (the statement gives none or NULL); every row must carry one");
        }
        int shard;
        try {
            shard = function.shardOf(value.getValue());
        } catch (IllegalArgumentException e) {
            throw new ShardingValueException("table " + table + ", column " + column + ": " + e.getMessage());
        }
        return target(nodes.get(shard));
    }

    @Override
    public Collection<String> doSharding(Collection<String> availableTargetNames, RangeShardingValue<Comparable<?>> value) {
        Range<Comparable<?>> range = value.getValueRange();
        Comparable<?> lower = range.hasLowerBound() ? range.lowerEndpoint() : null;
        Comparable<?> upper = range.hasUpperBound() ? range.upperEndpoint() : null;
        BitSet shards;
        try {
            shards = function.shardsIn(lower, lower != null && range.lowerBoundType() == BoundType.CLOSED,
                    upper, upper != null && range.upperBoundType() == BoundType.CLOSED);
        } catch (IllegalArgumentException e) {
            throw new ShardingValueException("table " + table + ", column " + column + ": " + e.getMessage());
        }
        Collection<String> result = new LinkedHashSet<>();
        for (int i = shards.nextSetBit(0); i >= 0; i = shards.nextSetBit(i + 1)) {
            String target = target(nodes.get(i));
            if (availableTargetNames.contains(target)) {
                result.add(target);
            }
        }
        return result;
    }

    private String target(DataNode node) {
        return role == Role.DATABASE ? node.group() : node.table();
    }

    @Override
    public String getType() {
        return TYPE;
    }

    /** A row without a value for its table's sharding column. */
    public static final class MissingShardingValueException extends IllegalArgumentException {
        public MissingShardingValueException(String message) {
            super(message);
        }
    }

    /** A sharding value that no data node can hold (out of range, wrong type). */
    public static final class ShardingValueException extends IllegalArgumentException {
        public ShardingValueException(String message) {
            super(message);
        }
    }
}
