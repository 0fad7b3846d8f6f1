package dev.ballast.rules.algorithm;

import java.util.BitSet;

/**
 * Integral values go to {@code floorMod(value, shardCount)}, so negative numbers land on a valid shard;
 * any other value goes to {@code floorMod(Hashing.hash64(toString() as UTF-8), shardCount)}.
 *
 * <p>Not guaranteed: stability when the shard count changes. Going from n to n+1 shards moves about
 * n/(n+1) of the keys; use {@link ConsistentHashShardFunction} where shards are added over time.
 */
public final class HashModShardFunction implements ShardFunction {

    private final int shardCount;

    public HashModShardFunction(int shardCount) {
        if (shardCount < 1) {
            throw new IllegalArgumentException("shardCount is " + shardCount + "; expected at least 1");
        }
        this.shardCount = shardCount;
    }

    @Override
    public int shardCount() {
        return shardCount;
    }

    @Override
    public int shardOf(Comparable<?> value) {
        ShardValues.requirePresent(value, "a number or a string");
        if (ShardValues.isIntegral(value)) {
            return Math.floorMod(ShardValues.toLong(value), shardCount);
        }
        return Math.floorMod(Hashing.hash64(ShardValues.keyBytes(value)), shardCount);
    }

    /** Only a short run of integral values (fewer than shardCount) can be narrowed; anything else may be anywhere. */
    @Override
    public BitSet shardsIn(Comparable<?> lower, boolean lowerInclusive, Comparable<?> upper, boolean upperInclusive) {
        BitSet shards = new BitSet(shardCount);
        if (ShardValues.isIntegral(lower) && ShardValues.isIntegral(upper)) {
            long first = ShardValues.toLong(lower);
            long last = ShardValues.toLong(upper);
            boolean empty = !lowerInclusive && first == Long.MAX_VALUE || !upperInclusive && last == Long.MIN_VALUE;
            if (!empty) {
                first = lowerInclusive ? first : first + 1;
                last = upperInclusive ? last : last - 1;
                // last - first read unsigned is the exact distance, even across the whole long range
                if (first <= last && Long.compareUnsigned(last - first, shardCount - 1) < 0) {
                    for (long v = first; ; v++) {
                        shards.set(Math.floorMod(v, shardCount));
                        if (v == last) {
                            return shards;
                        }
                    }
                }
            }
        }
        // an empty range also gets every shard: callers rely on a hash-like function never answering "none"
        shards.set(0, shardCount);
        return shards;
    }
}
