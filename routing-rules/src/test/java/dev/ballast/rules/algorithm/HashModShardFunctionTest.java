package dev.ballast.rules.algorithm;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class HashModShardFunctionTest {

    private final HashModShardFunction four = new HashModShardFunction(4);

    @Test
    void integralValuesGoToTheirRemainder() {
        assertEquals(0, four.shardOf(0));
        assertEquals(1, four.shardOf(1L));
        assertEquals(3, four.shardOf(7));
        assertEquals(2, four.shardOf(1_000_000_002L));
        assertEquals(3, four.shardOf(Long.MAX_VALUE));
    }

    @Test
    void negativeValuesWrapToAValidShardInsteadOfANegativeOne() {
        assertEquals(3, four.shardOf(-1));
        assertEquals(0, four.shardOf(-4L));
        assertEquals(2, four.shardOf(-6));
        assertEquals(0, four.shardOf(Long.MIN_VALUE));
    }

    @Test
    void stringsGoByTheirStableHash() {
        // hash64("42") = 0x810b196a56ee3cec, pinned in HashingTest; floorMod by 4 = 0
        assertEquals(0, four.shardOf("42"));
        assertEquals(3, four.shardOf("a"));
        String uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";
        assertEquals(Math.floorMod(Hashing.hash64(uuid.getBytes(StandardCharsets.UTF_8)), 4), four.shardOf(uuid));
        assertEquals(four.shardOf(uuid), four.shardOf(UUID.fromString(uuid)));
    }

    @Test
    void wholeNumbersBeyondLongAndFractionsAreHashedNotRefused() {
        BigInteger huge = BigInteger.ONE.shiftLeft(70);
        assertEquals(Math.floorMod(Hashing.hash64(huge.toString().getBytes(StandardCharsets.UTF_8)), 4), four.shardOf(huge));
        assertEquals(Math.floorMod(Hashing.hash64("1.5".getBytes(StandardCharsets.UTF_8)), 4),
                four.shardOf(new BigDecimal("1.5")));
    }

    @Test
    void nullValueIsRefusedWithAMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> four.shardOf(null));
        assertEquals("sharding value is null; expected a number or a string", e.getMessage());
    }

    @Test
    void shardCountBelowOneIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new HashModShardFunction(0));
        assertEquals("shardCount is 0; expected at least 1", e.getMessage());
    }

    @Test
    void shortIntegralRangeTouchesOnlyItsShards() {
        assertEquals(bits(1, 2), four.shardsIn(5, true, 6, true));
        assertEquals(bits(2), four.shardsIn(5, false, 7, false));
        assertEquals(bits(3, 0, 1), four.shardsIn(-1, true, 1, true));
        assertEquals(bits(3), four.shardsIn(Long.MAX_VALUE, true, Long.MAX_VALUE, true));
        assertEquals(bits(0, 1), four.shardsIn(Long.MIN_VALUE, true, Long.MIN_VALUE + 1, true));
    }

    @Test
    void rangeOfShardCountValuesOrMoreTouchesAllShards() {
        assertEquals(bits(0, 1, 2, 3), four.shardsIn(0, true, 3, true));
        assertEquals(bits(0, 1, 2, 3), four.shardsIn(Long.MIN_VALUE, true, Long.MAX_VALUE, true));
    }

    @Test
    void openOrNonIntegralRangeTouchesAllShards() {
        assertEquals(bits(0, 1, 2, 3), four.shardsIn(5, true, null, false));
        assertEquals(bits(0, 1, 2, 3), four.shardsIn(null, false, 5, true));
        assertEquals(bits(0, 1, 2, 3), four.shardsIn("a", true, "b", true));
    }

    @Test
    void emptyRangeStillTouchesAllShards() {
        assertEquals(bits(0, 1, 2, 3), four.shardsIn(5, false, 5, false));
        assertEquals(bits(0, 1, 2, 3), four.shardsIn(Long.MAX_VALUE, false, Long.MAX_VALUE, true));
    }

    private static BitSet bits(int... shards) {
        BitSet b = new BitSet();
        for (int s : shards) {
            b.set(s);
        }
        return b;
    }
}
