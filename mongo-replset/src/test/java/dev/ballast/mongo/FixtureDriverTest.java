package dev.ballast.mongo;

import com.mongodb.MongoCommandException;
import com.mongodb.ReadPreference;
import com.mongodb.client.ClientSession;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoDatabase;
import dev.ballast.mongo.fixture.ReplicaSetFixture;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real MongoDB sync driver against the replica-set fixture: it must take the fixture for a replica set. */
class FixtureDriverTest {

    ReplicaSetFixture rs;

    @BeforeEach
    void start() {
        rs = ReplicaSetFixture.start("rs0");
    }

    @AfterEach
    void stop() {
        rs.close();
    }

    @Test
    void theDriverSelectsThePrimaryAndReadsFromASecondaryWhenAsked() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        MongoClientEvents events = new MongoClientEvents("shop", "rs0", registry);
        try (MongoClient client = BallastMongo.client(Fixtures.config(rs), "rs0", events)) {
            MongoCollection<Document> orders = client.getDatabase("shop").getCollection("orders");
            orders.insertOne(new Document("_id", 1));
            assertEquals(rs.member(0).host(), events.primary().orElseThrow());
            assertEquals(3, events.members().size());
            Document read = orders.withReadPreference(ReadPreference.secondary()).find(new Document("_id", 1)).first();
            assertEquals(1, read.getInteger("_id"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (registry.find("ballast.mongo.heartbeat").tag("outcome", "ok").timers().isEmpty()
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(registry.find("ballast.mongo.heartbeat").tag("outcome", "ok").timers().stream()
                    .mapToLong(t -> t.count()).sum() > 0, "heartbeats are timed");
            assertEquals(1.0, registry.get("ballast.mongo.member.up").tag("member", rs.member(2).host()).gauge().value());
        }
    }

    @Test
    void aWriteOnTheSteppedDownPrimaryIsRetriedOnTheNewOne() throws Exception {
        try (MongoClient client = BallastMongo.client(Fixtures.config(rs), "rs0")) {
            MongoCollection<Document> orders = client.getDatabase("shop").getCollection("orders");
            orders.insertOne(new Document("_id", 1));
            ReplicaSetFixture.Member old = rs.primary().orElseThrow();
            long term = rs.term();
            long t0 = System.nanoTime();
            client.getDatabase("admin").runCommand(new Document("replSetStepDown", 30).append("secondaryCatchUpPeriodSecs", 5));
            System.out.println("STEPDOWN ms " + (System.nanoTime() - t0) / 1e6);
            assertEquals(ReplicaSetFixture.State.SECONDARY, old.state());
            // the driver still believes old is primary: the write fails there with NotWritablePrimary and is retried
            t0 = System.nanoTime();
            orders.insertOne(new Document("_id", 2));
            System.out.println("RETRIED INSERT ms " + (System.nanoTime() - t0) / 1e6);
            ReplicaSetFixture.Member now = rs.primary().orElseThrow();
            assertNotEquals(old, now);
            assertTrue(rs.term() > term);
            assertEquals(2, orders.countDocuments());
        }
    }

    @Test
    void featureCompatibilityVersionIsReadAndOnA70PrimaryChangedOnlyWithConfirm() {
        try (MongoClient client = BallastMongo.client(Fixtures.config(rs), "rs0")) {
            MongoDatabase admin = client.getDatabase("admin");
            Document fcv = admin.runCommand(new Document("getParameter", 1).append("featureCompatibilityVersion", 1));
            assertEquals("7.0", fcv.get("featureCompatibilityVersion", Document.class).getString("version"));
            MongoCommandException e = assertThrows(MongoCommandException.class,
                    () -> admin.runCommand(new Document("setFeatureCompatibilityVersion", "6.0")));
            assertTrue(e.getErrorMessage().contains("'confirm: true'"), e.getErrorMessage());
            assertEquals("7.0", rs.featureCompatibilityVersion(), "refused: unchanged");
            admin.runCommand(new Document("setFeatureCompatibilityVersion", "6.0").append("confirm", true));
            assertEquals("6.0", rs.featureCompatibilityVersion());
            rs.member(2).version("6.0.19");
            e = assertThrows(MongoCommandException.class, () -> admin.runCommand(
                    new Document("setFeatureCompatibilityVersion", "7.0").append("confirm", true)));
            assertTrue(e.getErrorMessage().contains("member " + rs.member(2).host() + " runs binary 6.0.19"), e.getErrorMessage());
            assertEquals("6.0", rs.featureCompatibilityVersion());
        }
    }

    @Test
    void aCausalSessionReadOnALaggingSecondaryWaitsForItsOwnWrite() throws Exception {
        try (MongoClient client = BallastMongo.client(Fixtures.config(rs), "rs0");
             ClientSession session = BallastMongo.causalSession(client)) {
            MongoCollection<Document> orders = client.getDatabase("shop").getCollection("orders");
            orders.insertOne(new Document("_id", 0));
            rs.member(1).pauseReplication();
            rs.member(2).pauseReplication();
            orders.insertOne(session, new Document("_id", 1));
            CompletableFuture<Document> read = CompletableFuture.supplyAsync(() ->
                    orders.withReadPreference(ReadPreference.secondary()).find(session, new Document("_id", 1)).first());
            Thread.sleep(300);
            assertFalse(read.isDone(), "the read waits until the secondary applied the session's write");
            rs.member(1).resumeReplication();
            rs.member(2).resumeReplication();
            assertEquals(1, read.get(5, TimeUnit.SECONDS).getInteger("_id"));
        }
    }
}
