package dev.ballast.rules.algorithm;

import java.util.BitSet;

/**
 * Maps a sharding value to one of {@link #shardCount()} shards (0-based) and a range to the shards it may touch.
 * Pure and thread-safe.
 */
public interface ShardFunction {

    int shardCount();

    /** @throws IllegalArgumentException naming the value and what is expected (null, wrong type, out of range) */
    int shardOf(Comparable<?> value);

    /**
     * Shards that may hold values between lower and upper; a null bound is unbounded.
     * Never empty for hash-like functions (all shards).
     */
    BitSet shardsIn(Comparable<?> lower, boolean lowerInclusive, Comparable<?> upper, boolean upperInclusive);
}
