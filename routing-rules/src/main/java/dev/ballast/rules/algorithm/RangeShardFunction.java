package dev.ballast.rules.algorithm;

import java.util.Arrays;
import java.util.BitSet;

/**
 * Ascending bounds split the long line: shard 0 holds values below {@code bounds[0]}, shard i holds
 * {@code [bounds[i-1], bounds[i])} and the last shard holds values from the last bound up. Every long has a shard;
 * only integral values are accepted (a numeric string is refused, not parsed).
 */
public final class RangeShardFunction implements ShardFunction {

    private final long[] bounds;

    public RangeShardFunction(long[] bounds) {
        if (bounds == null) {
            throw new IllegalArgumentException("bounds is null; expected strictly ascending longs (empty for one shard)");
        }
        for (int i = 1; i < bounds.length; i++) {
            if (bounds[i] <= bounds[i - 1]) {
                throw new IllegalArgumentException("bounds[" + i + "] = " + bounds[i] + " is not greater than bounds["
                        + (i - 1) + "] = " + bounds[i - 1] + "; bounds must ascend strictly");
            }
        }
        this.bounds = bounds.clone();
    }

    @Override
    public int shardCount() {
        return bounds.length + 1;
    }

    @Override
    public int shardOf(Comparable<?> value) {
        return shardOfLong(ShardValues.toLong(value));
    }

    /** The contiguous run of shards the range overlaps; empty when the range holds no long at all. */
    @Override
    public BitSet shardsIn(Comparable<?> lower, boolean lowerInclusive, Comparable<?> upper, boolean upperInclusive) {
        BitSet shards = new BitSet(shardCount());
        long first = Long.MIN_VALUE;
        long last = Long.MAX_VALUE;
        if (lower != null) {
            first = ShardValues.toLong(lower);
            if (!lowerInclusive) {
                if (first == Long.MAX_VALUE) {
                    return shards;
                }
                first++;
            }
        }
        if (upper != null) {
            last = ShardValues.toLong(upper);
            if (!upperInclusive) {
                if (last == Long.MIN_VALUE) {
                    return shards;
                }
                last--;
            }
        }
        if (first <= last) {
            shards.set(shardOfLong(first), shardOfLong(last) + 1);
        }
        return shards;
    }

    private int shardOfLong(long value) {
        int i = Arrays.binarySearch(bounds, value);
        // found: the value opens shard i+1; not found: -(insertion point)-1, and the insertion point is the shard
        return i >= 0 ? i + 1 : -i - 1;
    }
}
