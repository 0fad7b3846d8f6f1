package dev.ballast.jdbc.health;

import dev.ballast.replication.Position;
import dev.ballast.rules.Flavour;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LagTrackerTest {

    private static final String U1 = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    private static final String U2 = "4a22fb58-82db-22f2-af44-d91bb0530673";


    /** A synthetic monotonic clock far from 0, so that differences, not values, matter. */
    static final long T0 = 123_456_789_000L;

    static long ms(long millis) {
        return T0 + millis * 1_000_000;
    }

    static Position seq(long n) {
        return Position.parse(Flavour.MARIADB, "0-1-" + n);
    }

    @Test
    void lagIsUnknownBeforeTheFirstMasterSample() {
        assertEquals(-1, new LagTracker().lagMillis(seq(1), ms(0)));
    }

    @Test
    void replicaThatCoversTheNewestSampleHasNoLag() {
        LagTracker t = new LagTracker();
        t.masterSample(ms(0), seq(10));
        t.masterSample(ms(100), seq(12));
        assertEquals(0, t.lagMillis(seq(12), ms(5_000)));
        assertEquals(0, t.lagMillis(seq(20), ms(5_000)), "a replica ahead of the last sample is up to date");
    }

    @Test
    void lagIsMeasuredFromTheOldestSampleTheReplicaLacks() {
        LagTracker t = new LagTracker();
        t.masterSample(ms(0), seq(10));
        t.masterSample(ms(100), seq(11));
        t.masterSample(ms(200), seq(12));
        t.masterSample(ms(300), seq(13));
        assertEquals(900, t.lagMillis(seq(10), ms(1_000)), "lacks 11, which the master had at 100");
        assertEquals(800, t.lagMillis(seq(11), ms(1_000)));
        assertEquals(700, t.lagMillis(seq(12), ms(1_000)));
        assertEquals(800, t.lagMillis(seq(11), ms(1_000) + 999_999), "whole milliseconds, rounded down");
    }

    @Test
    void anIdleMasterKeepsTheTimeItsLastPositionWasFirstSeen() {
        LagTracker t = new LagTracker();
        t.masterSample(ms(0), seq(5));
        t.masterSample(ms(100), seq(6));
        for (long at = 200; at <= 60_000; at += 100) {
            t.masterSample(ms(at), seq(6));
        }
        assertEquals(2, t.size());
        assertEquals(59_900, t.lagMillis(seq(5), ms(60_000)), "write 6 happened by 100 and the replica still lacks it");
    }

    @Test
    void samplesTakenAfterTheReplicaWasReadDoNotCount() {
        LagTracker t = new LagTracker();
        t.masterSample(ms(0), seq(5));
        t.masterSample(ms(1_000), seq(6));
        assertEquals(0, t.lagMillis(seq(5), ms(500)), "had all the master had at 500");
        assertEquals(500, t.lagMillis(seq(4), ms(500)));
        assertEquals(-1, t.lagMillis(seq(4), ms(-100)), "no sample at or before the read: unknown");
        assertEquals(0, t.lagMillis(seq(6), ms(-100)), "covers the newest: up to date whenever it was read");
    }

    @Test
    void beyondTheSampleLimitLagIsALowerBoundFromTheOldestKept() {
        LagTracker t = new LagTracker(4, Duration.ofHours(1));
        for (int i = 1; i <= 10; i++) {
            t.masterSample(ms(i * 100L), seq(i));
        }
        assertEquals(4, t.size());
        assertEquals(1_300, t.lagMillis(seq(0), ms(2_000)), "oldest kept: seq 7 at 700");
        assertEquals(1_200, t.lagMillis(seq(7), ms(2_000)));
    }

    @Test
    void samplesOlderThanTheWindowAreDroppedButTheOneMarkingItsStartStays() {
        LagTracker t = new LagTracker(512, Duration.ofSeconds(1));
        t.masterSample(ms(0), seq(1));
        t.masterSample(ms(500), seq(2));
        t.masterSample(ms(1_000), seq(3));
        t.masterSample(ms(1_600), seq(4));
        t.masterSample(ms(2_200), seq(5));
        assertEquals(3, t.size(), "1000, 1600 and 2200 remain");
        assertEquals(1_500, t.lagMillis(seq(0), ms(2_500)));
        t.masterSample(ms(100_000), seq(6));
        assertEquals(2, t.size(), "the newest sample, and the last one before the window (2200)");
        assertEquals(900_000, t.lagMillis(seq(5), ms(1_000_000)));
        assertEquals(997_800, t.lagMillis(seq(3), ms(1_000_000)), "behind everything kept: a lower bound from 2200");
    }

    @Test
    void aMasterPositionThatGoesBackRestartsTheHistory() {
        LagTracker t = new LagTracker();
        t.masterSample(ms(0), seq(10));
        t.masterSample(ms(100), seq(3)); // another master, or a reset
        assertEquals(1, t.size());
        assertEquals(seq(3), t.newestMaster());
        assertEquals(0, t.lagMillis(seq(3), ms(200)));
        assertEquals(100, t.lagMillis(seq(2), ms(200)));
    }

    @Test
    void sampleTimesMustNotGoBack() {
        LagTracker t = new LagTracker();
        t.masterSample(ms(100), seq(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.masterSample(ms(99), seq(2)));
        assertEquals(true, e.getMessage().contains("monotonic"), e.getMessage());
    }

    @Test
    void worksOnMySqlGtidSetsAndOnSeveralMariaDbDomains() {
        String u = U1;
        LagTracker my = new LagTracker();
        my.masterSample(ms(0), Position.parse(Flavour.MYSQL, u + ":1-10"));
        my.masterSample(ms(100), Position.parse(Flavour.MYSQL, u + ":1-11"));
        assertEquals(400, my.lagMillis(Position.parse(Flavour.MYSQL, u + ":1-10"), ms(500)));
        assertEquals(0, my.lagMillis(Position.parse(Flavour.MYSQL, u + ":1-11," + U2 + ":1"), ms(500)));

        LagTracker maria = new LagTracker();
        maria.masterSample(ms(0), Position.parse(Flavour.MARIADB, "0-1-10,1-1-5"));
        maria.masterSample(ms(100), Position.parse(Flavour.MARIADB, "0-1-10,1-1-6"));
        assertEquals(400, maria.lagMillis(Position.parse(Flavour.MARIADB, "0-1-99,1-1-5"), ms(500)));
        assertThrows(IllegalArgumentException.class, () -> maria.lagMillis(Position.parse(Flavour.MYSQL, u + ":1"), ms(500)));
    }

    @Test
    void limitsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new LagTracker(0, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> new LagTracker(1, Duration.ZERO));
    }
}
