package dev.ballast.rules.algorithm;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.BitSet;
import java.util.EnumSet;
import java.util.Set;

/**
 * Consecutive time intervals: shard i holds {@code [start + i*amount unit, start + (i+1)*amount unit)}.
 * Values before the first or after the last interval are refused, never wrapped, so a full table asks for more
 * shards instead of silently mixing periods.
 *
 * <p>Month and year steps are taken from {@code start} (start.plusMonths(i*amount)), so a start on the 31st gives
 * intervals that end on the last day of short months.
 */
public final class IntervalShardFunction implements ShardFunction {

    private static final Set<ChronoUnit> UNITS = EnumSet.of(ChronoUnit.HOURS, ChronoUnit.DAYS, ChronoUnit.MONTHS,
            ChronoUnit.YEARS);
    private static final String ACCEPTED = "LocalDateTime, LocalDate, java.sql.Timestamp, java.sql.Date, "
            + "java.util.Date or a string like 2026-03-01T10:00:00, '2026-03-01 10:00:00[.fraction]' or '2026-03-01'";

    /** edges[i] opens shard i; edges[shardCount] is the exclusive end of the last shard. */
    private final LocalDateTime[] edges;

    public IntervalShardFunction(LocalDateTime start, ChronoUnit unit, int amount, int shardCount) {
        if (start == null) {
            throw new IllegalArgumentException("start is null; expected the date-time that opens shard 0");
        }
        if (unit == null || !UNITS.contains(unit)) {
            throw new IllegalArgumentException("unit is " + (unit == null ? "null" : unit.name())
                    + "; expected one of HOURS, DAYS, MONTHS, YEARS");
        }
        if (amount < 1) {
            throw new IllegalArgumentException("amount is " + amount + "; expected at least 1 (counted in " + unit.name()
                    + ")");
        }
        if (shardCount < 1) {
            throw new IllegalArgumentException("shardCount is " + shardCount + "; expected at least 1");
        }
        edges = new LocalDateTime[shardCount + 1];
        try {
            for (int i = 0; i <= shardCount; i++) {
                edges[i] = start.plus((long) i * amount, unit);
            }
        } catch (DateTimeException | ArithmeticException e) {
            throw new IllegalArgumentException(shardCount + " shards of " + amount + " " + unit.name() + " from " + start
                    + " end past the last representable date-time; use fewer shards or a larger unit", e);
        }
    }

    @Override
    public int shardCount() {
        return edges.length - 1;
    }

    @Override
    public int shardOf(Comparable<?> value) {
        LocalDateTime t = toDateTime(value);
        int n = shardCount();
        if (t.isBefore(edges[0])) {
            throw new IllegalArgumentException("value " + t + " is before the first interval " + interval(0) + " of "
                    + n + " shards; move 'start' earlier");
        }
        if (!t.isBefore(edges[n])) {
            throw new IllegalArgumentException("value " + t + " is after the last interval " + interval(n - 1) + " of "
                    + n + " shards; add shards or move 'start'");
        }
        return edgesAtOrBefore(t) - 1;
    }

    /** The contiguous run of intervals the range overlaps, clipped to the shards; empty when it misses them all. */
    @Override
    public BitSet shardsIn(Comparable<?> lower, boolean lowerInclusive, Comparable<?> upper, boolean upperInclusive) {
        int n = shardCount();
        // shard i overlaps the range when it ends after the lower bound and starts at (or before) the upper bound
        int first = lower == null ? 0 : edgesAtOrBefore(toDateTime(lower)) - 1;
        int last = n - 1;
        if (upper != null) {
            LocalDateTime u = toDateTime(upper);
            last = (upperInclusive ? edgesAtOrBefore(u) : edgesBefore(u)) - 1;
        }
        first = Math.max(first, 0);
        last = Math.min(last, n - 1);
        BitSet shards = new BitSet(n);
        if (first <= last) {
            shards.set(first, last + 1);
        }
        return shards;
    }

    private String interval(int shard) {
        return "[" + edges[shard] + ", " + edges[shard + 1] + ")";
    }

    /** How many edges are <= t. */
    private int edgesAtOrBefore(LocalDateTime t) {
        int i = Arrays.binarySearch(edges, t);
        return i >= 0 ? i + 1 : -i - 1;
    }

    /** How many edges are < t. */
    private int edgesBefore(LocalDateTime t) {
        int i = Arrays.binarySearch(edges, t);
        return i >= 0 ? i : -i - 1;
    }

    static LocalDateTime toDateTime(Comparable<?> value) {
        ShardValues.requirePresent(value, "a date-time: " + ACCEPTED);
        if (value instanceof LocalDateTime t) {
            return t;
        }
        if (value instanceof LocalDate d) {
            return d.atStartOfDay();
        }
        if (value instanceof java.sql.Timestamp t) {
            return t.toLocalDateTime();
        }
        if (value instanceof java.sql.Date d) {
            return d.toLocalDate().atStartOfDay();
        }
        if (value instanceof java.sql.Time) {
            throw new IllegalArgumentException("value " + ShardValues.describe(value)
                    + " is a time of day without a date; expected " + ACCEPTED);
        }
        if (value instanceof java.util.Date d) {
            return LocalDateTime.ofInstant(d.toInstant(), ZoneId.systemDefault());
        }
        if (value instanceof String s) {
            return parse(s);
        }
        throw new IllegalArgumentException("value " + ShardValues.describe(value) + " is not a date-time; expected "
                + ACCEPTED);
    }

    private static LocalDateTime parse(String text) {
        String s = text.trim();
        try {
            if (s.length() == 10) {
                return LocalDate.parse(s).atStartOfDay();
            }
            if (s.length() > 10 && s.charAt(10) == ' ') {
                s = s.substring(0, 10) + 'T' + s.substring(11);
            }
            return LocalDateTime.parse(s);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("value '" + text + "' is not a date-time; expected " + ACCEPTED, e);
        }
    }
}
