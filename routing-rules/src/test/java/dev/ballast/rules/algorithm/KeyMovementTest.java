package dev.ballast.rules.algorithm;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What adding a fourth node to three costs: the reason to pick consistent hashing over hash-mod. */
class KeyMovementTest {

    private static final int KEYS = 100_000;

    private static final ShardFunction RING_OF_3 = ring("g0", "g1", "g2");
    private static final ShardFunction RING_OF_4 = ring("g0", "g1", "g2", "g3");

    @Test
    void consistentHashMovesAtMost30PercentOfLongKeysAndOnlyToTheNewNode() {
        double moved = movedPercent(RING_OF_3, RING_OF_4, KeyMovementTest::longKey, true);
        System.out.printf("consistent-hash 3 -> 4 nodes: %.2f%% of %d Long keys moved (all to g3)%n", moved, KEYS);
        assertTrue(moved <= 30, moved + "%");
        assertTrue(moved > 15, "a new node that takes almost nothing is as wrong: " + moved + "%");
    }

    @Test
    void consistentHashMovesAtMost30PercentOfRandomStringKeysAndOnlyToTheNewNode() {
        double moved = movedPercent(RING_OF_3, RING_OF_4, randomStrings(), true);
        System.out.printf("consistent-hash 3 -> 4 nodes: %.2f%% of %d random string keys moved (all to g3)%n", moved, KEYS);
        assertTrue(moved <= 30, moved + "%");
        assertTrue(moved > 15, "a new node that takes almost nothing is as wrong: " + moved + "%");
    }

    @Test
    void hashModMovesAtLeast70PercentOfKeys() {
        ShardFunction three = new HashModShardFunction(3);
        ShardFunction four = new HashModShardFunction(4);
        double longs = movedPercent(three, four, KeyMovementTest::longKey, false);
        double strings = movedPercent(three, four, randomStrings(), false);
        System.out.printf("hash-mod 3 -> 4 shards: %.2f%% of %d Long keys moved, %.2f%% of random string keys%n",
                longs, KEYS, strings);
        // a key stays only when v mod 3 == v mod 4, i.e. v mod 12 in {0, 1, 2}: exactly 1 in 4 for 0..99999
        assertEquals(75.0, longs, 0.01);
        assertTrue(strings >= 70, strings + "%");
    }

    private static double movedPercent(ShardFunction before, ShardFunction after, IntFunction<Comparable<?>> keys,
                                       boolean onlyToNewNode) {
        int moved = 0;
        for (int i = 0; i < KEYS; i++) {
            Comparable<?> key = keys.apply(i);
            int from = before.shardOf(key);
            int to = after.shardOf(key);
            if (from != to) {
                moved++;
                if (onlyToNewNode) {
                    assertEquals(3, to, "key " + key + " moved from g" + from + " to g" + to + ", not to the new g3");
                }
            }
        }
        return 100.0 * moved / KEYS;
    }

    private static Comparable<?> longKey(int i) {
        return (long) i;
    }

    private static IntFunction<Comparable<?>> randomStrings() {
        Random random = new Random(20260301L);
        List<String> keys = new ArrayList<>(KEYS);
        for (int i = 0; i < KEYS; i++) {
            StringBuilder s = new StringBuilder();
            int length = 4 + random.nextInt(20);
            for (int c = 0; c < length; c++) {
                s.append((char) ('!' + random.nextInt(94)));
            }
            keys.add(s.toString());
        }
        return keys::get;
    }

    private static ShardFunction ring(String... names) {
        return new ConsistentHashShardFunction(List.of(names), ConsistentHashShardFunction.DEFAULT_VIRTUAL_NODES);
    }
}
