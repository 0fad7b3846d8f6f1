package dev.ballast.mongo;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import dev.ballast.mongo.fixture.ReplicaSetFixture;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.MongoReplicaSetConfig;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Switchover on the replica-set fixture (not a real mongod: see ReplicaSetFixture for what it does not do). */
class MongoSwitchoverTest {

    ReplicaSetFixture rs;
    MongoReplicaSetConfig config;
    ReplicaSetProbe probe;

    @BeforeEach
    void start() {
        rs = ReplicaSetFixture.start("rs0");
        ClusterConfig c = Fixtures.config(rs, "catchUpSecs: 1\nstepDownSecs: 30");
        config = c.mongoReplicaSet("rs0").orElseThrow();
        probe = new ReplicaSetProbe(config);
    }

    @AfterEach
    void stop() {
        probe.close();
        rs.close();
    }

    @Test
    void switchoverUnderFourWritersWithRetryableWritesGivesNoClientErrorAndMeasuresThePause() throws Exception {
        ClusterConfig c = Fixtures.config(rs);
        try (MongoClient client = BallastMongo.client(c, "rs0")) {
            MongoCollection<Document> orders = client.getDatabase("shop").getCollection("orders");
            orders.insertOne(new Document("_id", "warm-up"));
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger acknowledged = new AtomicInteger();
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            long[] maxGapNanos = new long[4];
            ExecutorService writers = Executors.newFixedThreadPool(4);
            List<Future<?>> futures = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                int writer = w;
                futures.add(writers.submit(() -> {
                    long last = System.nanoTime();
                    for (int i = 0; !stop.get(); i++) {
                        try {
                            orders.insertOne(new Document("_id", writer + "-" + i));
                            acknowledged.incrementAndGet();
                            long now = System.nanoTime();
                            maxGapNanos[writer] = Math.max(maxGapNanos[writer], now - last);
                            last = now;
                        } catch (RuntimeException e) {
                            errors.add(e);
                        }
                    }
                }));
            }
            Thread.sleep(500);
            String before = rs.primary().orElseThrow().host();
            String target = rs.member(2).host();
            MongoSwitchover.Result r = new MongoSwitchover(config, probe).run(Optional.of(target));
            Thread.sleep(500);
            stop.set(true);
            for (Future<?> f : futures) {
                f.get(30, TimeUnit.SECONDS);
            }
            writers.shutdown();
            assertEquals(List.of(), List.copyOf(errors), "no client error");
            assertEquals(before, r.from());
            assertEquals(target, r.to());
            assertEquals(target, rs.primary().orElseThrow().host());
            assertTrue(r.termAfter() > r.termBefore(), r.toString());
            assertNotEquals(r.electionIdBefore(), r.electionIdAfter());
            assertEquals(acknowledged.get() + 1, orders.countDocuments(), "every acknowledged write is there");
            assertTrue(rs.members().stream().noneMatch(m -> m != rs.member(0) && m.frozen()), "the others are unfrozen");
            long maxGapMs = TimeUnit.NANOSECONDS.toMillis(java.util.Arrays.stream(maxGapNanos).max().orElseThrow());
            System.out.printf("MEASURED switchover on the fixture: %d acknowledged writes by 4 writers, 0 errors, no primary "
                    + "for %d ms (step-down to new primary confirmed), longest write pause %d ms, switchover %d ms%n",
                    acknowledged.get(), r.noPrimaryMs(), maxGapMs, r.totalMs());
        }
    }

    @Test
    void withoutTargetTheBestElectableSecondaryIsChosen() {
        rs.member(1).priority(0);
        MongoSwitchover.Result r = new MongoSwitchover(config, probe).run(Optional.empty());
        assertEquals(rs.member(2).host(), r.to());
    }

    @Test
    void hiddenPriorityZeroArbiterLaggingAndStrangersAreRefusedBeforeAnythingChanges() throws Exception {
        MongoSwitchover s = new MongoSwitchover(config, probe);
        long term = rs.term();
        rs.member(1).hidden(true);
        assertTrue(assertThrows(MongoRefusedException.class, () -> s.run(Optional.of(rs.member(1).host()))).getMessage()
                .contains("refusing switchover: it is hidden"));
        rs.member(1).hidden(false);
        rs.member(1).priority(0);
        assertTrue(assertThrows(MongoRefusedException.class, () -> s.run(Optional.of(rs.member(1).host()))).getMessage()
                .contains("it has priority 0"));
        rs.member(2).arbiter(true);
        assertTrue(assertThrows(MongoRefusedException.class, () -> s.run(Optional.of(rs.member(2).host()))).getMessage()
                .contains("it is an arbiter"));
        assertTrue(assertThrows(MongoRefusedException.class, () -> s.run(Optional.empty())).getMessage()
                .startsWith("[replicaSet=rs0] no secondary can become primary"));
        assertTrue(assertThrows(MongoRefusedException.class, () -> s.run(Optional.of(rs.member(0).host()))).getMessage()
                .contains("it is already the primary"));
        assertEquals("[replicaSet=rs0] 127.0.0.1:1 is not a member; members are " + rs.hosts(),
                assertThrows(MongoRefusedException.class, () -> s.run(Optional.of("127.0.0.1:1"))).getMessage());
        rs.member(1).priority(1);
        rs.member(2).arbiter(false);
        rs.member(2).restart();

        rs.member(1).pauseReplication();
        try (MongoClient client = BallastMongo.client(Fixtures.config(rs), "rs0")) {
            client.getDatabase("shop").getCollection("orders").insertOne(new Document("_id", 1));
        }
        String lag = assertThrows(MongoRefusedException.class, () -> s.run(Optional.of(rs.member(1).host()))).getMessage();
        assertTrue(lag.contains("refusing switchover: it lags"), lag);
        rs.member(1).kill();
        assertTrue(assertThrows(MongoRefusedException.class, () -> s.run(Optional.of(rs.member(1).host()))).getMessage()
                .contains("it does not answer"));
        assertEquals(term, rs.term(), "nothing changed");
        assertEquals(rs.member(0), rs.primary().orElseThrow());
        assertTrue(rs.members().stream().noneMatch(ReplicaSetFixture.Member::frozen));
    }
}
