package dev.ballast.jdbc.health;

import dev.ballast.replication.Position;
import dev.ballast.replication.Texts;

import java.time.Duration;
import java.util.Arrays;

/**
 * How stale a replica is, measured against the history of its master's position. Feed it master samples with a
 * monotonic time ({@link System#nanoTime()}); ask {@link #lagMillis} with a replica's applied position and the time
 * that position was read. The lag is how long ago the master already had data the replica still lacks: {@code 0}
 * when the replica covers the newest sample, otherwise {@code now} minus the time of the oldest retained sample the
 * replica does not cover.
 *
 * <p>Why not {@code Seconds_Behind_Master}: it is the age of the event the SQL thread is applying, not staleness.
 * It reads {@code 0} while the IO thread is stalled or reconnecting (nothing received, so nothing to apply, so "no
 * lag") and {@code NULL} while the SQL thread is stopped; it jumps with long transactions and with clock skew between
 * servers. It also needs {@code SHOW SLAVE STATUS}, which the application user may not run. Comparing GTID positions
 * needs only the right to read system variables, and measures what a reader cares about directly: is the data the
 * master had at time t visible on this replica?
 *
 * <p>Precision: a sample at time t says the master had that position <em>by</em> t, so the value is a lower bound
 * on the true staleness, short by at most the sampling interval. The history is bounded ({@link #DEFAULT_MAX_SAMPLES}
 * distinct positions, and samples older than {@link #DEFAULT_WINDOW} are dropped except the one that marks the start
 * of the window); a replica behind even the oldest retained sample gets the lag from that sample, again a lower bound.
 * Consecutive equal positions are kept once, at the time first seen: an idle master does not make a replica that
 * lacks its last write look fresh. If a sample does not cover the previous one (another master, a reset), the history
 * starts over from it.
 *
 * <p>Not thread-safe: one thread feeds and asks (the probe thread).
 */
public final class LagTracker {

    public static final int DEFAULT_MAX_SAMPLES = 512;
    public static final Duration DEFAULT_WINDOW = Duration.ofMinutes(2);

    private final long windowNanos;
    // A ring: the oldest sample at head, size samples in time order.
    private final long[] times;
    private final Position[] positions;
    private int head;
    private int size;

    public LagTracker() {
        this(DEFAULT_MAX_SAMPLES, DEFAULT_WINDOW);
    }

    /**
     * @param maxSamples distinct master positions kept, {@code >= 1}
     * @param window     how far back samples are kept (the one at the start of the window stays too)
     */
    public LagTracker(int maxSamples, Duration window) {
        if (maxSamples < 1 || window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("LagTracker needs maxSamples >= 1 (got " + maxSamples
                    + ") and a positive window (got " + window + ")");
        }
        this.windowNanos = window.toNanos();
        this.times = new long[maxSamples];
        this.positions = new Position[maxSamples];
    }

    /**
     * Records that the master was at {@code position} at {@code nanos}.
     *
     * @throws IllegalArgumentException if {@code nanos} is before the previous sample's time
     */
    public void masterSample(long nanos, Position position) {
        if (size > 0) {
            int last = index(size - 1);
            if (nanos - times[last] < 0) {
                throw new IllegalArgumentException("master sample at " + nanos + " ns is older than the previous one at "
                        + times[last] + " ns; sample times must come from one monotonic clock");
            }
            Position newest = positions[last];
            if (newest.flavour() != position.flavour() || !position.covers(newest)) {
                clear();
            } else if (newest.covers(position)) {
                return; // nothing new: keep the time it was first seen
            }
        }
        if (size == times.length) {
            dropOldest();
        }
        int slot = index(size);
        times[slot] = nanos;
        positions[slot] = position;
        size++;
        // Keep the newest sample older than the window: it bounds the lag of replicas behind the window.
        while (size > 1 && nanos - times[index(1)] > windowNanos) {
            dropOldest();
        }
    }

    /**
     * How far {@code replicaApplied}, read at {@code nowNanos}, is behind the master, in milliseconds: {@code 0}
     * when it covers the newest sample, or every sample taken at or before {@code nowNanos}; {@code -1} (unknown)
     * when there is no sample yet, or none at or before {@code nowNanos} and the replica lacks the newest.
     *
     * @throws IllegalArgumentException if the replica's position is of another flavour than the master's
     */
    public long lagMillis(Position replicaApplied, long nowNanos) {
        if (size == 0) {
            return -1;
        }
        Position newest = positions[index(size - 1)];
        if (replicaApplied.flavour() != newest.flavour()) {
            throw Texts.flavourMismatch(newest, replicaApplied);
        }
        if (replicaApplied.covers(newest)) {
            return 0;
        }
        // Samples only grow, so the ones the replica covers are a prefix: find the first one it lacks.
        int lo = 0;
        int hi = size - 1; // known not covered
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (replicaApplied.covers(positions[index(mid)])) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        long since = nowNanos - times[index(lo)];
        if (since < 0) {
            // The master got that data after the replica's position was read: stale now perhaps, but not then.
            return lo == 0 ? -1 : 0;
        }
        return since / 1_000_000;
    }

    /** The newest master position sampled, or null before the first sample. */
    public Position newestMaster() {
        return size == 0 ? null : positions[index(size - 1)];
    }

    private int index(int i) {
        return (head + i) % times.length;
    }

    private void dropOldest() {
        positions[head] = null;
        head = (head + 1) % times.length;
        size--;
    }

    private void clear() {
        Arrays.fill(positions, null);
        head = 0;
        size = 0;
    }

    /** Distinct master positions held (for tests and diagnostics). */
    public int size() {
        return size;
    }
}
