package dev.ballast.cli;

import dev.ballast.mongo.fixture.ReplicaSetFixture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ballast switchover --group rs0} on the replica-set fixture (not a real mongod). */
class MongoSwitchoverCommandTest {

    @TempDir
    Path dir;
    ReplicaSetFixture rs;
    Path config;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void start() throws Exception {
        rs = ReplicaSetFixture.start("rs0");
        config = dir.resolve("cluster.yaml");
        Files.writeString(config, """
                name: shop
                database: shop
                credentials: {user: app}
                groups:
                  g0: {master: 127.0.0.1:3311}
                mongo:
                  replicaSets:
                    rs0:
                      members: [%s]
                      connectTimeoutMs: 10000
                      catchUpSecs: 1
                      stepDownSecs: 30
                """.formatted(String.join(", ", rs.hosts())));
    }

    @AfterEach
    void stop() {
        rs.close();
    }

    int run(String... args) {
        out.reset();
        err.reset();
        return BallastCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void aReplicaSetGroupIsSwitchedOverWithoutZooKeeper() {
        String target = rs.member(1).host();
        assertEquals(0, run("switchover", "--config", config.toString(), "--group", "rs0", "--to", target), err.toString());
        assertTrue(out.toString().startsWith("switched over replica set rs0 from " + rs.member(0).host() + " to " + target
                + " (term 1 -> 2, no primary for "), out.toString());
        assertEquals(target, rs.primary().orElseThrow().host());
    }

    @Test
    void aHiddenTargetIsRefusedWithExit3AndAnUnknownGroupNamesTheReplicaSets() {
        rs.member(2).hidden(true);
        assertEquals(3, run("switchover", "--config", config.toString(), "--group", "rs0", "--to", rs.member(2).host()));
        assertTrue(err.toString().startsWith("ballast: refused: [replicaSet=rs0 member=" + rs.member(2).host()
                + "] refusing switchover: it is hidden"), err.toString());
        assertEquals(rs.member(0), rs.primary().orElseThrow());
        assertEquals(3, run("switchover", "--config", config.toString(), "--group", "rs0", "--to", "127.0.0.1:9"));
        assertTrue(err.toString().contains("127.0.0.1:9 is not a member"), err.toString());
        assertEquals(2, run("switchover", "--config", config.toString(), "--group", "rs0", "--to"));
        assertEquals(2, run("switchover", "--config", config.toString(), "--group", "rs9"));
        assertTrue(err.toString().contains("has no group 'rs9' (groups: g0; MongoDB replica sets: rs0)"), err.toString());
    }
}
