package dev.ballast.rules.algorithm;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.BitSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RangeShardFunctionTest {

    /** shard 0: < 100, shard 1: [100, 200), shard 2: [200, 1000), shard 3: >= 1000 */
    private final RangeShardFunction f = new RangeShardFunction(new long[] {100, 200, 1000});

    @Test
    void shardCountIsOneMoreThanTheBounds() {
        assertEquals(4, f.shardCount());
        assertEquals(1, new RangeShardFunction(new long[0]).shardCount());
    }

    @Test
    void eachBoundOpensTheNextShard() {
        assertEquals(0, f.shardOf(99));
        assertEquals(1, f.shardOf(100));
        assertEquals(1, f.shardOf(199L));
        assertEquals(2, f.shardOf(200));
        assertEquals(2, f.shardOf(999));
        assertEquals(3, f.shardOf(1000));
    }

    @Test
    void extremesFallInTheOuterShards() {
        assertEquals(0, f.shardOf(Long.MIN_VALUE));
        assertEquals(0, f.shardOf(-5));
        assertEquals(3, f.shardOf(Long.MAX_VALUE));
        assertEquals(3, f.shardOf(new BigDecimal("5000.00")));
    }

    @Test
    void numericStringIsRefusedNotParsed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.shardOf("150"));
        assertEquals("value '150' (String) is not an integral number; expected " + ShardValues.INTEGRAL_TYPES, e.getMessage());
    }

    @Test
    void nullFractionalAndHugeValuesAreRefused() {
        assertEquals("sharding value is null; expected an integral number (" + ShardValues.INTEGRAL_TYPES + ")",
                assertThrows(IllegalArgumentException.class, () -> f.shardOf(null)).getMessage());
        assertEquals("value 150.5 (BigDecimal) has a fractional part; expected a whole number",
                assertThrows(IllegalArgumentException.class, () -> f.shardOf(new BigDecimal("150.5"))).getMessage());
        String huge = assertThrows(IllegalArgumentException.class,
                () -> f.shardOf(BigInteger.TEN.pow(20))).getMessage();
        assertTrue(huge.startsWith("value 100000000000000000000 (BigInteger) is outside the long range"), huge);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> f.shardOf(1.0d)).getMessage()
                .startsWith("value 1.0 (Double) is not an integral number"));
    }

    @Test
    void boundsThatDoNotAscendStrictlyAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new RangeShardFunction(new long[] {10, 20, 20}));
        assertEquals("bounds[2] = 20 is not greater than bounds[1] = 20; bounds must ascend strictly", e.getMessage());
        assertEquals("bounds is null; expected strictly ascending longs (empty for one shard)",
                assertThrows(IllegalArgumentException.class, () -> new RangeShardFunction(null)).getMessage());
    }

    @Test
    void laterChangesToTheCallersArrayDoNotMoveValues() {
        long[] bounds = {100};
        RangeShardFunction g = new RangeShardFunction(bounds);
        bounds[0] = 0;
        assertEquals(0, g.shardOf(50));
    }

    @Test
    void rangeTouchesTheContiguousShardsItOverlaps() {
        assertEquals(bits(0, 1, 2), f.shardsIn(50, true, 500, true));
        assertEquals(bits(1), f.shardsIn(100, true, 199, true));
        assertEquals(bits(0, 1, 2, 3), f.shardsIn(null, false, null, false));
        assertEquals(bits(2, 3), f.shardsIn(300, true, null, false));
        assertEquals(bits(0), f.shardsIn(null, false, 99, true));
    }

    @Test
    void exclusiveBoundsAtAShardEdgeLeaveThatShardOut() {
        assertEquals(bits(0), f.shardsIn(null, false, 100, false));
        assertEquals(bits(0, 1), f.shardsIn(null, false, 100, true));
        assertEquals(bits(2), f.shardsIn(199, false, 999, true));
        assertEquals(bits(1, 2), f.shardsIn(199, true, 999, true));
    }

    @Test
    void rangeHoldingNoValueTouchesNoShard() {
        assertEquals(bits(), f.shardsIn(150, false, 151, false));
        assertEquals(bits(), f.shardsIn(500, true, 400, true));
        assertEquals(bits(), f.shardsIn(Long.MAX_VALUE, false, null, false));
    }

    @Test
    void rangeWithANonIntegralBoundIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.shardsIn("a", true, 5, true));
        assertTrue(e.getMessage().startsWith("value 'a' (String) is not an integral number"), e.getMessage());
    }

    private static BitSet bits(int... shards) {
        BitSet b = new BitSet();
        for (int s : shards) {
            b.set(s);
        }
        return b;
    }
}
