package dev.ballast.rules.algorithm;

import org.junit.jupiter.api.Test;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.BitSet;
import java.util.Date;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IntervalShardFunctionTest {

    private static final LocalDateTime JAN_2026 = LocalDateTime.of(2026, 1, 1, 0, 0);

    /** One shard per month of 2026. */
    private final IntervalShardFunction monthly = new IntervalShardFunction(JAN_2026, ChronoUnit.MONTHS, 1, 12);

    @Test
    void eachIntervalIsClosedAtItsStartAndOpenAtItsEnd() {
        assertEquals(0, monthly.shardOf(JAN_2026));
        assertEquals(0, monthly.shardOf(LocalDateTime.of(2026, 1, 31, 23, 59, 59, 999_999_999)));
        assertEquals(1, monthly.shardOf(LocalDateTime.of(2026, 2, 1, 0, 0)));
        assertEquals(2, monthly.shardOf("2026-03-01T10:00:00"));
        assertEquals(11, monthly.shardOf(LocalDateTime.of(2026, 12, 31, 23, 59, 59)));
    }

    @Test
    void everyAcceptedTypeIsRead() {
        assertEquals(5, monthly.shardOf(LocalDate.of(2026, 6, 15)));
        assertEquals(5, monthly.shardOf(java.sql.Timestamp.valueOf("2026-06-30 23:59:59.5")));
        assertEquals(6, monthly.shardOf(java.sql.Date.valueOf("2026-07-01")));
        Date utilDate = Date.from(LocalDateTime.of(2026, 8, 1, 0, 0).atZone(ZoneId.systemDefault()).toInstant());
        assertEquals(7, monthly.shardOf(utilDate));
        assertEquals(3, monthly.shardOf("2026-04-30 23:59:59.123456"));
        assertEquals(4, monthly.shardOf("2026-05-01 00:00:00"));
        assertEquals(4, monthly.shardOf(" 2026-05-09 "));
    }

    @Test
    void valueAfterTheLastIntervalNamesItAndTheWayOut() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> monthly.shardOf(LocalDateTime.of(2031, 1, 1, 0, 0)));
        assertEquals("value 2031-01-01T00:00 is after the last interval [2026-12-01T00:00, 2027-01-01T00:00) of 12 shards;"
                + " add shards or move 'start'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> monthly.shardOf("2027-01-01"));
    }

    @Test
    void valueBeforeStartIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> monthly.shardOf("2025-12-31 23:59:59"));
        assertEquals("value 2025-12-31T23:59:59 is before the first interval [2026-01-01T00:00, 2026-02-01T00:00) of 12 shards;"
                + " move 'start' earlier", e.getMessage());
    }

    @Test
    void nullWrongTypeAndUnparseableStringsAreRefused() {
        assertTrue(message(null).startsWith("sharding value is null; expected a date-time: LocalDateTime, LocalDate"));
        assertTrue(message(42L).startsWith("value 42 (Long) is not a date-time; expected LocalDateTime"), message(42L));
        assertTrue(message("2026-13-01").startsWith("value '2026-13-01' is not a date-time; expected"), message("2026-13-01"));
        assertTrue(message("01/03/2026").startsWith("value '01/03/2026' is not a date-time"));
        assertTrue(message(java.sql.Time.valueOf("10:00:00")).contains("is a time of day without a date"));
    }

    @Test
    void hoursAndDaysStepByTheirAmount() {
        IntervalShardFunction sixHours = new IntervalShardFunction(JAN_2026, ChronoUnit.HOURS, 6, 4);
        assertEquals(0, sixHours.shardOf("2026-01-01 05:59:59"));
        assertEquals(1, sixHours.shardOf("2026-01-01 06:00:00"));
        assertEquals(3, sixHours.shardOf("2026-01-01 23:00:00"));
        assertThrows(IllegalArgumentException.class, () -> sixHours.shardOf("2026-01-02"));

        IntervalShardFunction weeks = new IntervalShardFunction(JAN_2026, ChronoUnit.DAYS, 7, 3);
        assertEquals(1, weeks.shardOf(LocalDate.of(2026, 1, 8)));
        assertEquals(2, weeks.shardOf(LocalDate.of(2026, 1, 21)));
    }

    @Test
    void yearsStepFromStart() {
        IntervalShardFunction years = new IntervalShardFunction(LocalDateTime.of(2024, 7, 1, 0, 0), ChronoUnit.YEARS, 2, 3);
        assertEquals(0, years.shardOf("2026-06-30"));
        assertEquals(1, years.shardOf("2026-07-01"));
        assertEquals(2, years.shardOf("2029-12-31"));
    }

    @Test
    void monthStepsFromThe31stEndOnShortMonthEnds() {
        IntervalShardFunction f = new IntervalShardFunction(LocalDateTime.of(2026, 1, 31, 0, 0), ChronoUnit.MONTHS, 1, 3);
        assertEquals(0, f.shardOf("2026-02-27"));
        assertEquals(1, f.shardOf("2026-02-28")); // start.plusMonths(1) = 2026-02-28
        assertEquals(1, f.shardOf("2026-03-30"));
        assertEquals(2, f.shardOf("2026-03-31"));
    }

    @Test
    void badConstructorArgumentsAreRefused() {
        assertEquals("unit is WEEKS; expected one of HOURS, DAYS, MONTHS, YEARS",
                refusal(() -> new IntervalShardFunction(JAN_2026, ChronoUnit.WEEKS, 1, 12)));
        assertEquals("amount is 0; expected at least 1 (counted in MONTHS)",
                refusal(() -> new IntervalShardFunction(JAN_2026, ChronoUnit.MONTHS, 0, 12)));
        assertEquals("shardCount is 0; expected at least 1",
                refusal(() -> new IntervalShardFunction(JAN_2026, ChronoUnit.MONTHS, 1, 0)));
        assertEquals("start is null; expected the date-time that opens shard 0",
                refusal(() -> new IntervalShardFunction(null, ChronoUnit.MONTHS, 1, 12)));
        assertTrue(refusal(() -> new IntervalShardFunction(JAN_2026, ChronoUnit.YEARS, Integer.MAX_VALUE, 2))
                .endsWith("end past the last representable date-time; use fewer shards or a larger unit"));
    }

    @Test
    void rangeTouchesTheIntervalsItOverlaps() {
        assertEquals(bits(2, 3, 4), monthly.shardsIn("2026-03-15", true, "2026-05-02", true));
        assertEquals(bits(2), monthly.shardsIn("2026-03-01", true, "2026-04-01", false));
        assertEquals(bits(2, 3), monthly.shardsIn("2026-03-01", true, "2026-04-01", true));
        assertEquals(bits(1, 2), monthly.shardsIn("2026-02-28 23:59:59", false, "2026-03-31", true));
    }

    @Test
    void rangeIsClippedToTheShards() {
        assertEquals(bits(0, 1), monthly.shardsIn(LocalDate.of(2020, 1, 1), true, LocalDate.of(2026, 2, 10), true));
        assertEquals(bits(10, 11), monthly.shardsIn("2026-11-05", true, null, false));
        assertEquals(bits(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), monthly.shardsIn(null, false, null, false));
    }

    @Test
    void rangeEntirelyOutsideTouchesNoShard() {
        assertEquals(bits(), monthly.shardsIn("2027-01-01", true, "2027-06-01", true));
        assertEquals(bits(), monthly.shardsIn(null, false, "2026-01-01", false));
        assertEquals(bits(), monthly.shardsIn("2026-05-01", true, "2026-04-01", true));
    }

    @Test
    void rangeWithAnUnreadableBoundIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> monthly.shardsIn("soon", true, null, false));
    }

    private String message(Comparable<?> value) {
        return refusal(() -> monthly.shardOf(value));
    }

    private static String refusal(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    private static BitSet bits(int... shards) {
        BitSet b = new BitSet();
        for (int s : shards) {
            b.set(s);
        }
        return b;
    }
}
