package dev.ballast.rules;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MongoReplicaSetConfigTest {

    static final String BASE = """
            name: shop
            database: shop
            credentials: {user: app}
            groups:
              g0: {master: 127.0.0.1:3311}
            """;

    static ClusterConfig parse(String mongo, Map<String, String> env) {
        return ClusterConfigLoader.parse(BASE + mongo, env::get);
    }

    static String error(String mongo) {
        return assertThrows(ConfigException.class, () -> parse(mongo, Map.of())).getMessage();
    }

    @Test
    void aReplicaSetIsReadWithDefaultsAndItsPasswordStaysUnresolvedUntilUsed() {
        ClusterConfig config = parse("""
                mongo:
                  replicaSets:
                    rs0:
                      members: [127.0.0.1:27017, 127.0.0.1:27018, 127.0.0.1:27019]
                      user: ballast
                      password: ${MONGO_PW}
                """, Map.of("MONGO_PW", "s3cret"));
        MongoReplicaSetConfig rs = config.mongoReplicaSet("rs0").orElseThrow();
        assertEquals(List.of(NodeAddress.parse("127.0.0.1:27017"), NodeAddress.parse("127.0.0.1:27018"),
                NodeAddress.parse("127.0.0.1:27019")), rs.members());
        assertEquals("primary", rs.readPreference());
        assertEquals("majority", rs.writeConcern());
        assertEquals(OptionalLong.empty(), rs.maxStalenessSeconds());
        assertEquals("admin", rs.authSource());
        assertEquals(1000, rs.heartbeatFrequencyMs());
        assertEquals(60, rs.stepDownSecs());
        assertEquals(10, rs.catchUpSecs());
        assertEquals(Optional.of("ballast"), rs.user());
        assertEquals("s3cret", rs.password().orElseThrow().reveal());
        assertTrue(config.withGroups(config.groups()).mongoReplicaSet("rs0").isPresent(), "withGroups keeps the replica sets");

        ClusterConfig unset = parse("""
                mongo:
                  replicaSets:
                    rs0: {members: [127.0.0.1:27017], user: ballast, password: "${MONGO_PW}"}
                """, Map.of());
        ConfigException e = assertThrows(ConfigException.class,
                () -> unset.mongoReplicaSet("rs0").orElseThrow().password().orElseThrow().reveal());
        assertEquals("mongo.replicaSets.rs0.password: environment variable MONGO_PW is not set; set it or write "
                + "${MONGO_PW:-default}", e.getMessage());
    }

    @Test
    void aConfigWithoutMongoHasNoReplicaSets() {
        assertTrue(parse("", Map.of()).mongoReplicaSets().isEmpty());
    }

    @Test
    void readPreferenceAndStalenessAreChecked() {
        MongoReplicaSetConfig rs = parse("""
                mongo:
                  replicaSets:
                    rs0: {members: [127.0.0.1:27017], readPreference: secondaryPreferred, maxStalenessSeconds: 90,
                          writeConcern: 2}
                """, Map.of()).mongoReplicaSet("rs0").orElseThrow();
        assertEquals("secondaryPreferred", rs.readPreference());
        assertEquals(OptionalLong.of(90), rs.maxStalenessSeconds());
        assertEquals("2", rs.writeConcern());

        assertEquals("mongo.replicaSets.rs0.readPreference: 'secondary-preferred' is not one of primary, primaryPreferred, "
                + "secondary, secondaryPreferred, nearest", error("""
                mongo: {replicaSets: {rs0: {members: [127.0.0.1:27017], readPreference: secondary-preferred}}}
                """));
        assertEquals("mongo.replicaSets.rs0.maxStalenessSeconds: 89 is below 90, the MongoDB driver's minimum "
                + "(heartbeat frequency + idle write period); use 90 or more", error("""
                mongo: {replicaSets: {rs0: {members: [127.0.0.1:27017], readPreference: nearest, maxStalenessSeconds: 89}}}
                """));
        assertTrue(error("""
                mongo: {replicaSets: {rs0: {members: [127.0.0.1:27017], maxStalenessSeconds: 120}}}
                """).startsWith("mongo.replicaSets.rs0.maxStalenessSeconds: set with readPreference primary"));
        assertEquals("mongo.replicaSets.rs0.writeConcern: 'all' is not majority or a number of members 0..50", error("""
                mongo: {replicaSets: {rs0: {members: [127.0.0.1:27017], writeConcern: all}}}
                """));
    }

    @Test
    void badMembersNamesAndKeysAreNamedByTheirPath() {
        assertEquals("mongo.replicaSets.rs0.members[1]: '127.0.0.1' is not host:port", error("""
                mongo: {replicaSets: {rs0: {members: [127.0.0.1:27017, 127.0.0.1]}}}
                """));
        assertEquals("mongo.replicaSets.rs0.members: missing; this key is required", error("""
                mongo: {replicaSets: {rs0: {user: x}}}
                """));
        assertEquals("mongo.replicaSets.rs0.members: is empty; list the replica set's members as host:port", error("""
                mongo: {replicaSets: {rs0: {members: []}}}
                """));
        assertEquals("mongo.replicaSets.rs1.members[0]: 127.0.0.1:27017 is already a member of replica set rs0; a server "
                + "belongs to one group or replica set", error("""
                mongo: {replicaSets: {rs0: {members: [127.0.0.1:27017]}, rs1: {members: [127.0.0.1:27017]}}}
                """));
        assertEquals("mongo.replicaSets.rs0.members[0]: 127.0.0.1:3311 is already a member of group g0; a server belongs "
                + "to one group or replica set", error("""
                mongo: {replicaSets: {rs0: {members: [127.0.0.1:3311]}}}
                """));
        assertTrue(error("""
                mongo: {replicaSets: {g0: {members: [127.0.0.1:27017]}}}
                """).startsWith("mongo.replicaSets.g0: 'g0' is also a MySQL group"));
        assertEquals("mongo.replicaSets.rs0.readPrefrence: unknown key; expected one of authSource, catchUpSecs, "
                + "connectTimeoutMs, heartbeatFrequencyMs, maxStalenessSeconds, members, password, readPreference, "
                + "serverSelectionTimeoutMs, stepDownSecs, upgrade, user, writeConcern, writeConcernTimeoutMs", error("""
                mongo: {replicaSets: {rs0: {members: [127.0.0.1:27017], readPrefrence: nearest}}}
                """));
        assertEquals("mongo.replicaSet: unknown key; expected one of replicaSets", error("""
                mongo: {replicaSet: {}}
                """));
        assertEquals("mongo.replicaSets.rs0.heartbeatFrequencyMs: 100 is out of range; expected 500..600000", error("""
                mongo: {replicaSets: {rs0: {members: [127.0.0.1:27017], heartbeatFrequencyMs: 100}}}
                """));
        assertTrue(error("""
                mongo: {replicaSets: {rs0: {members: [127.0.0.1:27017], stepDownSecs: 10, catchUpSecs: 10}}}
                """).startsWith("mongo.replicaSets.rs0.stepDownSecs: 10 is not more than catchUpSecs 10"));
        assertEquals("mongo.replicaSets.rs0.password: set without mongo.replicaSets.rs0.user; set the user too", error("""
                mongo: {replicaSets: {rs0: {members: [127.0.0.1:27017], password: x}}}
                """));
    }

    @Test
    void upgradeCommandsAreKeptAsTemplates() {
        MongoReplicaSetConfig rs = parse("""
                mongo:
                  replicaSets:
                    rs0:
                      members: [127.0.0.1:27017]
                      upgrade: {stop: "systemctl stop mongod@{port}", install: "apt-get install -y mongodb-org={version}",
                                start: "systemctl start mongod@{port}"}
                """, Map.of()).mongoReplicaSet("rs0").orElseThrow();
        assertEquals(Optional.of("systemctl stop mongod@{port}"), rs.upgrade().stop());
        assertEquals(Optional.of("apt-get install -y mongodb-org={version}"), rs.upgrade().install());
    }
}
