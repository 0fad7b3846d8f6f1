package dev.ballast.rules.algorithm;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConsistentHashShardFunctionTest {

    private static final int KEYS = 100_000;
    private final ConsistentHashShardFunction ring = new ConsistentHashShardFunction(List.of("g0", "g1", "g2", "g3"),
            ConsistentHashShardFunction.DEFAULT_VIRTUAL_NODES);

    @Test
    void oneVirtualNodeEachMakesTheRingCheckableByHand() {
        // hash64("a#0") and hash64("b#0") split the ring in two arcs; a key goes to the first point at or after it
        long a = hash("a#0");
        long b = hash("b#0");
        ConsistentHashShardFunction two = new ConsistentHashShardFunction(List.of("a", "b"), 1);
        for (String key : List.of("x", "y", "z", "order-17", "42")) {
            long h = hash(key);
            long low = Math.min(a, b);
            long high = Math.max(a, b);
            String owner = h <= low || h > high ? (low == a ? "a" : "b") : (high == a ? "a" : "b");
            assertEquals(owner.equals("a") ? 0 : 1, two.shardOf(key), key);
        }
    }

    @Test
    void placementDependsOnNamesNotOnListOrder() {
        ConsistentHashShardFunction reversed = new ConsistentHashShardFunction(List.of("g3", "g2", "g1", "g0"), 160);
        for (long k = 0; k < 10_000; k++) {
            assertEquals(ring.shardOf(k), 3 - reversed.shardOf(k));
        }
    }

    @Test
    void sameKeyAlwaysLandsOnTheSameNode() {
        ConsistentHashShardFunction again = new ConsistentHashShardFunction(List.of("g0", "g1", "g2", "g3"), 160);
        for (long k = 0; k < 10_000; k++) {
            assertEquals(ring.shardOf(k), again.shardOf(k));
            assertEquals(ring.shardOf("user-" + k), again.shardOf("user-" + k));
        }
    }

    @Test
    void fourNodesWithDefaultVirtualNodesEachGetBetween18And32Percent() {
        int[] longs = new int[4];
        int[] strings = new int[4];
        for (long k = 0; k < KEYS; k++) {
            longs[ring.shardOf(k)]++;
            strings[ring.shardOf("user-" + k)]++;
        }
        System.out.println("consistent-hash balance, 4 nodes x " + ConsistentHashShardFunction.DEFAULT_VIRTUAL_NODES
                + " virtual nodes, " + KEYS + " keys: Long 0.." + (KEYS - 1) + " " + percents(longs)
                + ", strings user-N " + percents(strings));
        for (int node = 0; node < 4; node++) {
            assertShareBetween(longs[node], 18, 32, "Long keys on g" + node);
            assertShareBetween(strings[node], 18, 32, "string keys on g" + node);
        }
    }

    @Test
    void rangeTouchesAllNodes() {
        BitSet all = new BitSet();
        all.set(0, 4);
        assertEquals(all, ring.shardsIn(1, true, 2, true));
        assertEquals(all, ring.shardsIn(null, false, null, false));
    }

    @Test
    void nullValueIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ring.shardOf(null));
        assertEquals("sharding value is null; expected a number or a string", e.getMessage());
    }

    @Test
    void badNodeListsAreRefusedNamingTheEntry() {
        assertEquals("nodeNames[2] 'g0' repeats nodeNames[0]; node names must be unique", refusal(List.of("g0", "g1", "g0"), 160));
        assertEquals("nodeNames[1] is ''; expected a non-empty name", refusal(List.of("g0", ""), 160));
        assertEquals("nodeNames[0] is null; expected a non-empty name", refusal(Arrays.asList(null, "g1"), 160));
        assertEquals("nodeNames is empty; expected at least one node name", refusal(List.of(), 160));
        assertEquals("nodeNames is null; expected at least one node name", refusal(null, 160));
    }

    @Test
    void virtualNodesOutside1To10000AreRefused() {
        assertEquals("virtualNodesPerNode is 0; expected 1..10000 (default 160)", refusal(List.of("g0"), 0));
        assertEquals("virtualNodesPerNode is 10001; expected 1..10000 (default 160)", refusal(List.of("g0"), 10_001));
        assertEquals(1, new ConsistentHashShardFunction(List.of("g0"), 10_000).shardCount());
    }

    private static String refusal(List<String> names, int virtualNodes) {
        return assertThrows(IllegalArgumentException.class,
                () -> new ConsistentHashShardFunction(names, virtualNodes)).getMessage();
    }

    static void assertShareBetween(int count, int minPercent, int maxPercent, String what) {
        double percent = 100.0 * count / KEYS;
        assertTrue(percent >= minPercent && percent <= maxPercent,
                what + ": " + String.format("%.2f", percent) + "% is outside " + minPercent + ".." + maxPercent + "%");
    }

    private static String percents(int[] counts) {
        List<String> out = new ArrayList<>();
        for (int c : counts) {
            out.add(String.format("%.2f%%", 100.0 * c / KEYS));
        }
        return out.toString();
    }

    private static long hash(String s) {
        return Hashing.hash64(s.getBytes(StandardCharsets.UTF_8));
    }
}
