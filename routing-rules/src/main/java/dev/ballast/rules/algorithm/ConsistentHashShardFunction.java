package dev.ballast.rules.algorithm;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A hash ring: node {@code k} puts {@code virtualNodesPerNode} points on it at
 * {@code Hashing.hash64(name + "#" + i)}, and a key belongs to the first point at or after its own hash, wrapping
 * around. Adding a node only takes keys from the others (about 1/(n+1) of them), and no key moves between old nodes.
 *
 * <p>Placement depends on node names, not on their order in the list; {@link #shardOf} answers the index in that list.
 * Integral keys hash as the decimal string of their long, so 42, 42L and BigDecimal 42 land together.
 */
public final class ConsistentHashShardFunction implements ShardFunction {

    public static final int DEFAULT_VIRTUAL_NODES = 160;
    public static final int MAX_VIRTUAL_NODES = 10_000;

    private final int shardCount;
    private final long[] points;
    private final int[] owners;

    public ConsistentHashShardFunction(List<String> nodeNames, int virtualNodesPerNode) {
        validate(nodeNames, virtualNodesPerNode);
        this.shardCount = nodeNames.size();
        List<Point> ring = new ArrayList<>(shardCount * virtualNodesPerNode);
        for (int node = 0; node < shardCount; node++) {
            for (int i = 0; i < virtualNodesPerNode; i++) {
                byte[] label = (nodeNames.get(node) + "#" + i).getBytes(StandardCharsets.UTF_8);
                ring.add(new Point(Hashing.hash64(label), node));
            }
        }
        // ties (vanishingly rare) go to the smaller name, so the list order never changes placement
        ring.sort(Comparator.comparingLong(Point::hash).thenComparing(p -> nodeNames.get(p.owner())));
        this.points = new long[ring.size()];
        this.owners = new int[ring.size()];
        for (int i = 0; i < ring.size(); i++) {
            points[i] = ring.get(i).hash();
            owners[i] = ring.get(i).owner();
        }
    }

    private static void validate(List<String> nodeNames, int virtualNodesPerNode) {
        if (nodeNames == null || nodeNames.isEmpty()) {
            throw new IllegalArgumentException("nodeNames is " + (nodeNames == null ? "null" : "empty")
                    + "; expected at least one node name");
        }
        if (virtualNodesPerNode < 1 || virtualNodesPerNode > MAX_VIRTUAL_NODES) {
            throw new IllegalArgumentException("virtualNodesPerNode is " + virtualNodesPerNode + "; expected 1.."
                    + MAX_VIRTUAL_NODES + " (default " + DEFAULT_VIRTUAL_NODES + ")");
        }
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < nodeNames.size(); i++) {
            String name = nodeNames.get(i);
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("nodeNames[" + i + "] is " + (name == null ? "null" : "'" + name + "'")
                        + "; expected a non-empty name");
            }
            Integer earlier = seen.putIfAbsent(name, i);
            if (earlier != null) {
                throw new IllegalArgumentException("nodeNames[" + i + "] '" + name + "' repeats nodeNames[" + earlier
                        + "]; node names must be unique");
            }
        }
    }

    @Override
    public int shardCount() {
        return shardCount;
    }

    @Override
    public int shardOf(Comparable<?> value) {
        ShardValues.requirePresent(value, "a number or a string");
        long hash = Hashing.hash64(ShardValues.keyBytes(value));
        // first point >= hash
        int lo = 0;
        int hi = points.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (points[mid] < hash) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return owners[lo == points.length ? 0 : lo];
    }

    /** A ring keeps no order between neighbouring keys: every shard. */
    @Override
    public BitSet shardsIn(Comparable<?> lower, boolean lowerInclusive, Comparable<?> upper, boolean upperInclusive) {
        BitSet shards = new BitSet(shardCount);
        shards.set(0, shardCount);
        return shards;
    }

    private record Point(long hash, int owner) {
    }
}
