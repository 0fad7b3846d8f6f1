package dev.ballast.it.bench;

/**
 * Latencies in nanoseconds, counted in log-linear buckets: 32 buckets per power of two, so a bucket is at most
 * about 3 % wide and a quantile is off by at most half of that. Recording allocates nothing. Not thread-safe:
 * one per worker thread, merged with {@link #add} afterwards.
 */
final class LatencyHistogram {

    private static final int SUB_BITS = 5;
    private static final int SUB = 1 << SUB_BITS;

    private final long[] counts = new long[(64 - SUB_BITS + 1) * SUB];
    private long total;

    void record(long nanos) {
        counts[index(Math.max(0, nanos))]++;
        total++;
    }

    void add(LatencyHistogram other) {
        for (int i = 0; i < counts.length; i++) {
            counts[i] += other.counts[i];
        }
        total += other.total;
    }

    long count() {
        return total;
    }

    /** The latency at quantile {@code q} (0 < q <= 1) as the middle of its bucket, in ns; 0 when nothing was recorded. */
    long quantile(double q) {
        if (total == 0) {
            return 0;
        }
        long rank = Math.max(1, (long) Math.ceil(q * total));
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return lowerBound(i) + width(i) / 2;
            }
        }
        throw new IllegalStateException("histogram total " + total + " does not match its buckets");
    }

    /** Values below 32 have a bucket each; above, the bucket is the exponent and the 5 bits after the leading one. */
    static int index(long value) {
        if (value < SUB) {
            return (int) value;
        }
        int exponent = 63 - Long.numberOfLeadingZeros(value);
        int sub = (int) (value >>> (exponent - SUB_BITS)) & (SUB - 1);
        return (exponent - SUB_BITS + 1) * SUB + sub;
    }

    static long lowerBound(int index) {
        if (index < SUB) {
            return index;
        }
        return (long) (SUB + index % SUB) << (index / SUB - 1);
    }

    static long width(int index) {
        return index < SUB ? 1 : 1L << (index / SUB - 1);
    }
}
