package dev.ballast.rules;

import dev.ballast.rules.algorithm.ConsistentHashShardFunction;
import dev.ballast.rules.algorithm.HashModShardFunction;
import dev.ballast.rules.algorithm.IntervalShardFunction;
import dev.ballast.rules.algorithm.RangeShardFunction;
import dev.ballast.rules.algorithm.ShardFunction;

import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.List;

/** How a sharded table maps its sharding value to one of its data nodes. */
public sealed interface AlgorithmSpec {

    /** The names accepted for {@code algorithm.type}, in the order the docs list them. */
    List<String> TYPE_NAMES = List.of("hash-mod", "range", "consistent-hash", "interval");

    String typeName();

    /** Builds the pure placement function over the given data nodes (their names seed the hash ring). */
    ShardFunction newFunction(List<DataNode> nodes);

    /** value mod node count; strings by a stable 64-bit hash. Adding nodes moves most keys. */
    record HashMod() implements AlgorithmSpec {
        public String typeName() {
            return "hash-mod";
        }

        public ShardFunction newFunction(List<DataNode> nodes) {
            return new HashModShardFunction(nodes.size());
        }
    }

    /** Ascending bounds: node 0 holds values below bounds[0], node i holds [bounds[i-1], bounds[i]). */
    record Range(List<Long> bounds) implements AlgorithmSpec {
        public Range {
            bounds = List.copyOf(bounds);
        }

        public String typeName() {
            return "range";
        }

        public ShardFunction newFunction(List<DataNode> nodes) {
            return new RangeShardFunction(bounds.stream().mapToLong(Long::longValue).toArray());
        }
    }

    /** A hash ring with virtual nodes: adding a node moves about 1/(n+1) of the keys. */
    record ConsistentHash(int virtualNodes) implements AlgorithmSpec {
        public String typeName() {
            return "consistent-hash";
        }

        public ShardFunction newFunction(List<DataNode> nodes) {
            return new ConsistentHashShardFunction(nodes.stream().map(DataNode::toString).toList(), virtualNodes);
        }
    }

    /** Time intervals: node i holds [start + i*amount unit, start + (i+1)*amount unit). */
    record Interval(LocalDateTime start, ChronoUnit unit, int amount) implements AlgorithmSpec {
        public String typeName() {
            return "interval";
        }

        public ShardFunction newFunction(List<DataNode> nodes) {
            return new IntervalShardFunction(start, unit, amount, nodes.size());
        }
    }
}
