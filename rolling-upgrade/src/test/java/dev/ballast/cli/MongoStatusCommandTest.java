package dev.ballast.cli;

import dev.ballast.mongo.ReplicaSetProbe;
import dev.ballast.mongo.ReplicaSetWatcher;
import dev.ballast.mongo.fixture.ReplicaSetFixture;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import dev.ballast.topology.TopologyStore;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ballast status} shows a replica set from the watcher's records in ZooKeeper (fixture, real ZooKeeper). */
class MongoStatusCommandTest {

    @TempDir
    Path dir;

    @Test
    void statusShowsTheReplicaSetBesideTheGroupsInTextAndJson() throws Exception {
        try (TestingServer zk = new TestingServer(true); ReplicaSetFixture rs = ReplicaSetFixture.start("rs0")) {
            Path file = dir.resolve("cluster.yaml");
            Files.writeString(file, """
                    name: shop
                    database: shop
                    credentials: {user: app}
                    groups:
                      g0: {master: 127.0.0.1:3311}
                    failover: {zookeeper: "%s"}
                    mongo:
                      replicaSets:
                        rs0: {members: [%s], connectTimeoutMs: 10000}
                    """.formatted(zk.getConnectString(), String.join(", ", rs.hosts())));
            ClusterConfig config = ClusterConfigLoader.load(file);
            rs.member(2).kill();
            try (CuratorFramework client = TopologyStore.connect(config);
                 ReplicaSetWatcher watcher = new ReplicaSetWatcher(config, TopologyStore.of(client, config), "m1", null);
                 ReplicaSetProbe probe = new ReplicaSetProbe(config.mongoReplicaSet("rs0").orElseThrow())) {
                assertTrue(TopologyStore.of(client, config).awaitConnected(10_000));
                watcher.start();
                watcher.round(probe);
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ByteArrayOutputStream err = new ByteArrayOutputStream();
                assertEquals(0, BallastCli.run(new String[]{"status", "--config", file.toString()},
                        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8)),
                        err.toString());
                String text = out.toString();
                assertTrue(text.contains("replica set rs0  term 1  primary " + rs.member(0).host()), text);
                assertTrue(text.contains(rs.member(0).host() + "  primary     lag 0 ms ping "), text);
                assertTrue(text.contains(rs.member(1).host() + "  secondary   lag 0 ms ping "), text);
                assertTrue(text.contains(" mongod 7.0.14"), text);
                assertTrue(text.contains(rs.member(2).host() + "  down        — unreachable: "), text);
                assertTrue(text.contains("group g0"), text);
                out.reset();
                assertEquals(0, BallastCli.run(new String[]{"status", "--config", file.toString(), "--json"},
                        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8)));
                assertTrue(out.toString().contains("\"replicaSets\" : [ {"), out.toString());
                assertTrue(out.toString().contains("\"primary\" : \"" + rs.member(0).host() + "\""), out.toString());
                System.out.println(text);
            }
        }
    }
}
