package dev.ballast.keys;

import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import org.junit.jupiter.api.Test;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SnowflakeTest {

    /** A clock the test sets; sleeping moves it forward unless it is frozen. */
    static final class FakeClock implements Snowflake.Clock {
        long now;
        long slept;
        boolean frozen;

        FakeClock(long now) {
            this.now = now;
        }

        @Override
        public long millis() {
            return now;
        }

        @Override
        public void sleepMillis(long ms) {
            slept += ms;
            if (!frozen) {
                now += ms;
            }
        }
    }

    static final long T = Snowflake.EPOCH_MS + 1_000_000_000L;

    @Test
    void bitLayoutIsFortyOneBitsOfMillisTenOfWorkerTwelveOfSequence() {
        long key = Snowflake.compose(Snowflake.EPOCH_MS + 5, 1023, 4095);
        assertEquals((5L << 22) | (1023L << 12) | 4095L, key);
        assertEquals(Snowflake.EPOCH_MS + 5, Snowflake.millisOf(key));
        assertEquals(1023, Snowflake.workerOf(key));
        assertEquals(4095, Snowflake.sequenceOf(key));
        long last = Snowflake.compose(Snowflake.EPOCH_MS + (1L << 41) - 1, 1023, 4095);
        assertEquals(Long.MAX_VALUE, last, "the sign bit stays 0 until the 41 bits run out");
        assertThrows(IllegalStateException.class, () -> Snowflake.compose(Snowflake.EPOCH_MS + (1L << 41), 0, 0));
        assertThrows(IllegalArgumentException.class, () -> Snowflake.compose(T, 1024, 0));
    }

    @Test
    void theEpochIsNoLaterThanShardingSpheresInAnyTimeZoneSoKeysOnlyGrowAfterTheSwitch() {
        for (int hours = -12; hours <= 14; hours++) {
            long shardingSphereEpoch = LocalDateTime.of(2016, 11, 1, 0, 0).toInstant(ZoneOffset.ofHours(hours)).toEpochMilli();
            assertTrue(Snowflake.EPOCH_MS <= shardingSphereEpoch, "UTC" + hours);
        }
        assertEquals(LocalDateTime.of(2016, 11, 1, 0, 0).toInstant(ZoneOffset.ofHours(14)).toEpochMilli(), Snowflake.EPOCH_MS);
    }

    @Test
    void theWorkerIdIsInEveryKey() {
        Snowflake s = new Snowflake("c", WorkerIds.fixed(77, "test"), new FakeClock(T), 5);
        for (int i = 0; i < 10; i++) {
            assertEquals(77, Snowflake.workerOf(s.next()));
        }
    }

    @Test
    void whenAMillisecondsSequenceRunsOutTheNextKeyWaitsForTheNextMillisecond() {
        FakeClock clock = new FakeClock(T);
        Snowflake s = new Snowflake("c", WorkerIds.fixed(1, "test"), clock, 5);
        Set<Long> keys = new HashSet<>();
        long previous = -1;
        for (int i = 0; i < 3 * 4096; i++) {
            long key = s.next();
            assertTrue(key > previous, "keys rise within a process");
            assertTrue(keys.add(key), "key " + key + " repeated");
            previous = key;
        }
        // the clock never moved by itself: each move is a wait for a used-up millisecond
        assertEquals(3, clock.now - T);
        assertEquals(3, clock.slept);
        assertEquals(T + 3, Snowflake.millisOf(previous));
    }

    @Test
    void aFrozenClockFailsAfterTheBoundInsteadOfRepeatingAKey() {
        FakeClock clock = new FakeClock(T);
        clock.frozen = true;
        Snowflake s = new Snowflake("shop", WorkerIds.fixed(1, "test"), clock, 5);
        Set<Long> keys = new HashSet<>();
        KeyGenerationException e = assertThrows(KeyGenerationException.class, () -> {
            for (int i = 0; i < 5000; i++) {
                assertTrue(keys.add(s.next()));
            }
        });
        assertTrue(keys.size() >= 4095 && keys.size() <= 4096, "one millisecond's keys: " + keys.size());
        assertEquals(5, clock.slept, "waited the bound, no more");
        assertTrue(e.getMessage().contains("[cluster=shop]") && e.getMessage().contains("4096 keys"), e.getMessage());
    }

    @Test
    void aClockThatMovesBackAFewMillisecondsWaitsAndContinuesTheSequence() {
        FakeClock clock = new FakeClock(T);
        Snowflake s = new Snowflake("c", WorkerIds.fixed(1, "test"), clock, 5);
        long before = s.next();
        clock.now = T - 3;
        long after = s.next();
        assertEquals(3, clock.slept);
        assertEquals(T, Snowflake.millisOf(after));
        assertEquals(Snowflake.sequenceOf(before) + 1, Snowflake.sequenceOf(after));
        assertTrue(after > before);
    }

    @Test
    void aClockThatMovesBackFurtherFailsUntilItHasCaughtUpAndNeverRepeatsAKey() {
        FakeClock clock = new FakeClock(T);
        Snowflake s = new Snowflake("shop", WorkerIds.fixed(1, "test"), clock, 5);
        Set<Long> keys = new HashSet<>();
        long last = 0;
        for (int i = 0; i < 10; i++) {
            last = s.next();
            keys.add(last);
        }
        clock.now = T - 1_000;
        KeyGenerationException e = assertThrows(KeyGenerationException.class, s::next);
        assertTrue(e.getMessage().contains("[cluster=shop]") && e.getMessage().contains("moved backwards by 1000 ms"),
                e.getMessage());
        assertEquals(5, clock.slept);
        clock.now = T - 3; // still behind, within the bound: waits it out
        long next = s.next();
        assertTrue(next > last && keys.add(next));
        assertEquals(T, Snowflake.millisOf(next));
    }

    @Test
    void theFirstKeyOfEachMillisecondAlternatesBetweenEvenAndOddSequences() {
        FakeClock clock = new FakeClock(T);
        Snowflake s = new Snowflake("c", WorkerIds.fixed(0, "test"), clock, 5);
        long odd = 0;
        for (int i = 0; i < 100; i++) {
            clock.now++;
            odd += s.next() & 1;
        }
        assertEquals(50, odd, "a table sharded on the key by mod 2 gets both shards");
    }

    @Test
    void withoutAWorkerIdNoKeyIsGenerated() {
        WorkerIds none = new WorkerIds() {
            @Override
            public int current() {
                throw new KeyGenerationException("[cluster=c] no lease");
            }

            @Override
            public String describe() {
                return "none";
            }
        };
        Snowflake s = new Snowflake("c", none, new FakeClock(T), 5);
        assertThrows(KeyGenerationException.class, s::next);
    }

    static ClusterConfig config(String extra) {
        return ClusterConfigLoader.parse("""
                name: shop
                database: d
                credentials: {user: app}
                groups:
                  g0: {master: 127.0.0.1:1}
                """ + extra, k -> null);
    }

    @Test
    void withoutZooKeeperTheIdComesFromTheConfigThenTheEnvironmentThenZero() {
        assertEquals(12, WorkerIds.withoutZooKeeper(config("workerId: 12\n"), Map.of(WorkerIds.ENV, "7")::get).current());
        assertEquals(7, WorkerIds.withoutZooKeeper(config(""), Map.of(WorkerIds.ENV, "7")::get).current());
        assertEquals(0, WorkerIds.withoutZooKeeper(config(""), k -> null).current());
        IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
                () -> WorkerIds.withoutZooKeeper(config(""), Map.of(WorkerIds.ENV, "1024")::get));
        assertTrue(range.getMessage().contains("BALLAST_WORKER_ID=1024") && range.getMessage().contains("0..1023"),
                range.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> WorkerIds.withoutZooKeeper(config(""), Map.of(WorkerIds.ENV, "seven")::get));
    }
}
