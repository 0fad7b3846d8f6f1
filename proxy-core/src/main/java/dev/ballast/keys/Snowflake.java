package dev.ballast.keys;

import java.time.Instant;

/**
 * 64-bit time-ordered keys: 1 sign bit (0), 41 bits of milliseconds since {@link #EPOCH_MS}, 10 bits of worker id, 12
 * bits of sequence within the millisecond. One generator per data source; thread-safe.
 *
 * <p>Never repeats a key of its own: the millisecond it uses never goes down. When the clock moves backwards it waits
 * for the clock to reach the last millisecond used again, at most {@code maxBackwardsWaitMs}; past that it fails
 * ({@link KeyGenerationException}). When the 4096 keys of a millisecond are used up it waits for the next one, with
 * the same bound. Keys of two generators differ as long as their worker ids differ: that is what
 * {@link WorkerIds} guarantees across processes. Not guaranteed: a restarted process whose clock is now behind the
 * last millisecond its previous run used, with the same worker id, can repeat that run's keys.
 *
 * <p>The first key of each millisecond has sequence 0 or 1 in turn, so that keys taken at a low rate are not all even
 * (a key sharded by {@code mod 2} would otherwise land on one shard).
 */
public final class Snowflake {

    /**
     * 2016-11-01T00:00 at UTC+14, the earliest instant any time zone calls that date. ShardingSphere's own SNOWFLAKE counts
     * from 2016-11-01T00:00 in the JVM's time zone; counting from the earliest of those makes every key generated here
     * greater than every key ShardingSphere generated earlier on the same clock, whatever the zone, so a table that
     * already holds its keys gets no duplicate when it switches.
     */
    public static final long EPOCH_MS = Instant.parse("2016-10-31T10:00:00Z").toEpochMilli();
    public static final int WORKER_BITS = 10;
    public static final int SEQUENCE_BITS = 12;
    public static final int MAX_WORKER_ID = (1 << WORKER_BITS) - 1;
    /** The longest a key waits for the clock (moved backwards, or the millisecond's 4096 keys used up). */
    public static final long MAX_BACKWARDS_WAIT_MS = 5;
    static final long MAX_SEQUENCE = (1L << SEQUENCE_BITS) - 1;
    static final long MAX_TIMESTAMP = (1L << 41) - 1;

    /** The time source and the way to wait, injectable for tests. */
    public interface Clock {
        long millis();

        void sleepMillis(long ms) throws InterruptedException;

        Clock SYSTEM = new Clock() {
            @Override
            public long millis() {
                return System.currentTimeMillis();
            }

            @Override
            public void sleepMillis(long ms) throws InterruptedException {
                Thread.sleep(ms);
            }
        };
    }

    private final String cluster;
    private final WorkerIds workers;
    private final Clock clock;
    private final long maxBackwardsWaitMs;
    private long lastMillis = -1;
    private long sequence;
    private long firstOfMillis = 1;

    public Snowflake(String cluster, WorkerIds workers, Clock clock, long maxBackwardsWaitMs) {
        this.cluster = cluster;
        this.workers = workers;
        this.clock = clock;
        this.maxBackwardsWaitMs = maxBackwardsWaitMs;
    }

    /** The next key; fails when no worker id is held or the clock stays behind for longer than allowed. */
    public synchronized long next() {
        long now = clock.millis();
        if (now < lastMillis) {
            now = waitFor(lastMillis, "the clock moved backwards by " + (lastMillis - now) + " ms");
        }
        if (now == lastMillis) {
            sequence++;
            if (sequence > MAX_SEQUENCE) {
                now = waitFor(lastMillis + 1, "4096 keys were taken in millisecond " + lastMillis);
            }
        }
        if (now > lastMillis) {
            firstOfMillis ^= 1;
            sequence = firstOfMillis;
            lastMillis = now;
        }
        // Asked last: a lease lost while this call waited for the clock stops this key too.
        return compose(now, workers.current(), sequence);
    }

    /** The bit layout. */
    static long compose(long millis, int worker, long sequence) {
        long t = millis - EPOCH_MS;
        if (t < 0 || t > MAX_TIMESTAMP) {
            throw new IllegalStateException("clock " + Instant.ofEpochMilli(millis) + " is outside the 41-bit range from "
                    + Instant.ofEpochMilli(EPOCH_MS));
        }
        if (worker < 0 || worker > MAX_WORKER_ID) {
            throw new IllegalArgumentException("worker id " + worker + " is out of range 0.." + MAX_WORKER_ID);
        }
        return t << (WORKER_BITS + SEQUENCE_BITS) | (long) worker << SEQUENCE_BITS | sequence;
    }

    public static long millisOf(long key) {
        return (key >>> (WORKER_BITS + SEQUENCE_BITS)) + EPOCH_MS;
    }

    public static int workerOf(long key) {
        return (int) (key >>> SEQUENCE_BITS) & MAX_WORKER_ID;
    }

    public static long sequenceOf(long key) {
        return key & MAX_SEQUENCE;
    }

    /** Waits until the clock reads at least {@code target}, at most {@code maxBackwardsWaitMs}. */
    private long waitFor(long target, String why) {
        long waited = 0;
        long now = clock.millis();
        while (now < target) {
            if (waited >= maxBackwardsWaitMs) {
                throw new KeyGenerationException("[cluster=" + cluster + "] no key generated: " + why
                        + " and the clock is still " + (target - now) + " ms short after waiting " + waited
                        + " ms (the most a key waits); keys resume once the clock passes "
                        + Instant.ofEpochMilli(target) + ". Check the clock's time source (NTP steps).");
            }
            long step = Math.min(target - now, maxBackwardsWaitMs - waited);
            try {
                clock.sleepMillis(step);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new KeyGenerationException("[cluster=" + cluster + "] interrupted while waiting for the clock", e);
            }
            waited += step;
            now = clock.millis();
        }
        return now;
    }
}
