package dev.ballast.rules.algorithm;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShardValuesTest {

    private static final List<Comparable<?>> SEVENTY_SEVEN = List.of((byte) 77, (short) 77, 77, 77L,
            BigInteger.valueOf(77), new BigDecimal("77"), new BigDecimal("77.000"), new BigDecimal("7.7E+1"));

    @Test
    void sameNumberOfEveryIntegralTypeLandsOnTheSameShard() {
        List<ShardFunction> functions = List.of(new HashModShardFunction(5), new RangeShardFunction(new long[] {10, 50, 100}),
                new ConsistentHashShardFunction(List.of("g0", "g1", "g2", "g3"), 160));
        for (ShardFunction f : functions) {
            int expected = f.shardOf(77L);
            for (Comparable<?> v : SEVENTY_SEVEN) {
                assertEquals(expected, f.shardOf(v), f.getClass().getSimpleName() + " for " + ShardValues.describe(v));
            }
        }
    }

    @Test
    void negativeIntegralTypesAgreeToo() {
        HashModShardFunction f = new HashModShardFunction(7);
        assertEquals(f.shardOf(-9L), f.shardOf(-9));
        assertEquals(f.shardOf(-9L), f.shardOf(new BigDecimal("-9.0")));
        assertEquals(f.shardOf(-9L), f.shardOf(BigInteger.valueOf(-9)));
    }

    @Test
    void integralKeysHashAsTheirDecimalString() {
        assertArrayEquals("42".getBytes(StandardCharsets.UTF_8), ShardValues.keyBytes(new BigDecimal("42.00")));
        assertArrayEquals("-5".getBytes(StandardCharsets.UTF_8), ShardValues.keyBytes((short) -5));
        assertArrayEquals("abc".getBytes(StandardCharsets.UTF_8), ShardValues.keyBytes("abc"));
    }

    @Test
    void wholeNumbersBeyondLongOrWithFractionsAreNotIntegral() {
        assertTrue(ShardValues.isIntegral(BigInteger.valueOf(Long.MAX_VALUE)));
        assertFalse(ShardValues.isIntegral(BigInteger.valueOf(Long.MAX_VALUE).add(BigInteger.ONE)));
        assertTrue(ShardValues.isIntegral(new BigDecimal(Long.MIN_VALUE)));
        assertFalse(ShardValues.isIntegral(new BigDecimal("1.5")));
        assertFalse(ShardValues.isIntegral("42"));
        assertFalse(ShardValues.isIntegral(42.0d));
        assertFalse(ShardValues.isIntegral(null));
    }

    @Test
    void toLongNamesTheValueAndWhatIsExpected() {
        assertEquals("value 1.5 (BigDecimal) has a fractional part; expected a whole number",
                assertThrows(IllegalArgumentException.class, () -> ShardValues.toLong(new BigDecimal("1.5"))).getMessage());
        assertEquals("value 18446744073709551616 (BigInteger) is outside the long range [-9223372036854775808, "
                        + "9223372036854775807]; expected " + ShardValues.INTEGRAL_TYPES,
                assertThrows(IllegalArgumentException.class,
                        () -> ShardValues.toLong(BigInteger.ONE.shiftLeft(64))).getMessage());
        assertEquals("value '42' (String) is not an integral number; expected " + ShardValues.INTEGRAL_TYPES,
                assertThrows(IllegalArgumentException.class, () -> ShardValues.toLong("42")).getMessage());
    }

    @Test
    void intervalTreatsDateTypesOfTheSameInstantAlike() {
        IntervalShardFunction f = new IntervalShardFunction(LocalDateTime.of(2026, 1, 1, 0, 0), ChronoUnit.DAYS, 1, 60);
        int expected = f.shardOf(LocalDateTime.of(2026, 2, 3, 0, 0));
        assertEquals(33, expected);
        assertEquals(expected, f.shardOf(java.time.LocalDate.of(2026, 2, 3)));
        assertEquals(expected, f.shardOf(java.sql.Date.valueOf("2026-02-03")));
        assertEquals(expected, f.shardOf(java.sql.Timestamp.valueOf("2026-02-03 00:00:00")));
        assertEquals(expected, f.shardOf("2026-02-03"));
        assertEquals(expected, f.shardOf("2026-02-03 00:00:00"));
        assertEquals(expected, f.shardOf("2026-02-03T00:00:00"));
    }
}
