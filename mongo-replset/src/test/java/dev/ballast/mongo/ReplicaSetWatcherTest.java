package dev.ballast.mongo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mongodb.client.MongoClient;
import dev.ballast.mongo.fixture.ReplicaSetFixture;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import dev.ballast.topology.TopologyStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The watcher on the replica-set fixture, publishing into a real ZooKeeper. */
class ReplicaSetWatcherTest {

    TestingServer zk;
    ReplicaSetFixture rs;
    ClusterConfig config;
    CuratorFramework client;
    TopologyStore store;

    @BeforeEach
    void start() throws Exception {
        zk = new TestingServer(true);
        rs = ReplicaSetFixture.start("rs0");
        config = ClusterConfigLoader.parse("""
                name: shop
                database: shop
                credentials: {user: app}
                groups:
                  g0: {master: 127.0.0.1:3311}
                failover: {zookeeper: "%s"}
                mongo:
                  replicaSets:
                    rs0: {members: [%s], connectTimeoutMs: 10000}
                """.formatted(zk.getConnectString(), String.join(", ", rs.hosts())), name -> null);
        client = TopologyStore.connect(config);
        store = TopologyStore.of(client, config);
        assertTrue(store.awaitConnected(10_000));
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        rs.close();
        zk.close();
    }

    @Test
    void eachMembersStateLagPingAndConfigVersionGoIntoTheHealthTree() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (ReplicaSetWatcher watcher = new ReplicaSetWatcher(config, store, "m1", registry);
             ReplicaSetProbe probe = new ReplicaSetProbe(config.mongoReplicaSet("rs0").orElseThrow());
             MongoClient app = BallastMongo.client(config, "rs0")) {
            watcher.start();
            app.getDatabase("shop").getCollection("t").insertOne(new Document("_id", 1));
            rs.member(2).pauseReplication();
            Thread.sleep(1100);
            app.getDatabase("shop").getCollection("t").insertOne(new Document("_id", 2));
            rs.member(1).kill();
            ReplicaSetStatus s = watcher.round(probe);
            assertEquals(1, s.term());

            ObjectMapper json = new ObjectMapper();
            JsonNode primary = json.readTree(store.health(rs.member(0).host()).get("m1"));
            assertEquals("mongo", primary.get("kind").asText());
            assertEquals("rs0", primary.get("replicaSet").asText());
            assertEquals("PRIMARY", primary.get("state").asText());
            assertEquals(0, primary.get("lagMs").asLong());
            assertTrue(primary.get("pingMs").asLong() >= 0);
            assertEquals(1, primary.get("configVersion").asInt());
            assertEquals("7fffffff0000000000000001", primary.get("electionId").asText());
            assertEquals("7.0.14", primary.get("version").asText());

            JsonNode down = json.readTree(store.health(rs.member(1).host()).get("m1"));
            assertFalse(down.get("reachable").asBoolean());
            assertEquals("DOWN", down.get("state").asText());

            JsonNode lagging = json.readTree(store.health(rs.member(2).host()).get("m1"));
            assertEquals("SECONDARY", lagging.get("state").asText());
            assertTrue(lagging.get("lagMs").asLong() >= 1000, lagging.toString());
            assertTrue(registry.get("ballast.mongo.member.lag").tag("member", rs.member(2).host()).gauge().value() >= 1.0);
            Map<String, String> none = store.health("127.0.0.1:3311");
            assertTrue(none.isEmpty(), "the MySQL servers' records are not the watcher's business");
        }
    }
}
