package dev.ballast.rules.algorithm;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

/**
 * Normalises sharding values so that the same number lands on the same shard whatever its Java type:
 * Byte, Short, Integer, Long, a BigInteger within the long range and a BigDecimal with no fractional part
 * are all "integral" and read as a long.
 */
final class ShardValues {

    static final String INTEGRAL_TYPES =
            "Byte, Short, Integer, Long, or a whole BigInteger/BigDecimal within the long range";

    private static final BigDecimal LONG_MIN = BigDecimal.valueOf(Long.MIN_VALUE);
    private static final BigDecimal LONG_MAX = BigDecimal.valueOf(Long.MAX_VALUE);

    private ShardValues() {
    }

    static <T> T requirePresent(T value, String expected) {
        if (value == null) {
            throw new IllegalArgumentException("sharding value is null; expected " + expected);
        }
        return value;
    }

    static boolean isIntegral(Object value) {
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return true;
        }
        if (value instanceof BigInteger i) {
            return i.bitLength() < Long.SIZE;
        }
        if (value instanceof BigDecimal d) {
            return inLongRange(d) && isWhole(d);
        }
        return false;
    }

    /** @throws IllegalArgumentException naming the value unless it is {@link #isIntegral integral} */
    static long toLong(Object value) {
        requirePresent(value, "an integral number (" + INTEGRAL_TYPES + ")");
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        if (value instanceof BigInteger i) {
            if (i.bitLength() >= Long.SIZE) {
                throw outsideLongRange(value);
            }
            return i.longValue();
        }
        if (value instanceof BigDecimal d) {
            if (!inLongRange(d)) {
                throw outsideLongRange(value);
            }
            if (!isWhole(d)) {
                throw new IllegalArgumentException("value " + describe(value)
                        + " has a fractional part; expected a whole number");
            }
            return d.longValue();
        }
        throw new IllegalArgumentException("value " + describe(value) + " is not an integral number; expected "
                + INTEGRAL_TYPES);
    }

    /** The bytes a hash sees: integral values as the decimal string of their long, others by toString(). */
    static byte[] keyBytes(Object value) {
        String key = isIntegral(value) ? Long.toString(toLong(value)) : value.toString();
        return key.getBytes(StandardCharsets.UTF_8);
    }

    /** For messages: strings quoted, always with the type so "42" and 42 can be told apart. */
    static String describe(Object value) {
        if (value == null) {
            return "null";
        }
        String text = value instanceof CharSequence ? "'" + value + "'" : String.valueOf(value);
        return text + " (" + value.getClass().getSimpleName() + ")";
    }

    private static boolean inLongRange(BigDecimal d) {
        return d.compareTo(LONG_MIN) >= 0 && d.compareTo(LONG_MAX) <= 0;
    }

    private static boolean isWhole(BigDecimal d) {
        return d.scale() <= 0 || d.stripTrailingZeros().scale() <= 0;
    }

    private static IllegalArgumentException outsideLongRange(Object value) {
        return new IllegalArgumentException("value " + describe(value) + " is outside the long range ["
                + Long.MIN_VALUE + ", " + Long.MAX_VALUE + "]; expected " + INTEGRAL_TYPES);
    }
}
