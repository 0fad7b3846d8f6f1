package dev.ballast.rules;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Where a logical table's rows live. */
public sealed interface TableRule {

    String name();

    /** Every physical table that makes up this logical table. */
    List<DataNode> dataNodes();

    /**
     * Rows spread over several groups (and optionally several tables per group) by a sharding column.
     * Data node {@code i} lives on {@code groups[i / tablesPerGroup]}; with one table per group its
     * physical name is the logical name, otherwise {@code name_i}.
     */
    record Sharded(String name, String shardingColumn, List<String> groups, int tablesPerGroup,
                   AlgorithmSpec algorithm, Optional<KeyGeneratorSpec> keyGenerator) implements TableRule {

        public Sharded {
            groups = List.copyOf(groups);
        }

        public List<DataNode> dataNodes() {
            List<DataNode> nodes = new ArrayList<>(groups.size() * tablesPerGroup);
            for (int i = 0; i < groups.size() * tablesPerGroup; i++) {
                String table = tablesPerGroup == 1 ? name : name + "_" + i;
                nodes.add(new DataNode(groups.get(i / tablesPerGroup), table));
            }
            return nodes;
        }
    }

    /** The whole table lives on one group (vertical partitioning). */
    record Placed(String name, String group, Optional<KeyGeneratorSpec> keyGenerator) implements TableRule {
        public List<DataNode> dataNodes() {
            return List.of(new DataNode(group, name));
        }
    }

    /** A full copy on every group: writes go to all, reads to one. For small reference tables. */
    record Broadcast(String name, List<String> allGroups) implements TableRule {
        public Broadcast {
            allGroups = List.copyOf(allGroups);
        }

        public List<DataNode> dataNodes() {
            return allGroups.stream().map(g -> new DataNode(g, name)).toList();
        }
    }
}
