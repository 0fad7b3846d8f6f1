package dev.ballast.mongo;

import dev.ballast.mongo.fixture.ReplicaSetFixture;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;

import java.util.Map;

/** A cluster config naming a fixture's members as replica set {@code rs0} (beside one MySQL group the config requires). */
public final class Fixtures {

    private Fixtures() {
    }

    public static ClusterConfig config(ReplicaSetFixture fixture, String extra) {
        return ClusterConfigLoader.parse("""
                name: shop
                database: shop
                credentials: {user: app}
                groups:
                  g0: {master: 127.0.0.1:3311}
                mongo:
                  replicaSets:
                    %s:
                      members: [%s]
                      heartbeatFrequencyMs: 500
                      connectTimeoutMs: 10000
                      serverSelectionTimeoutMs: 10000
                %s""".formatted(fixture.setName(), String.join(", ", fixture.hosts()), extra.indent(6)), name -> null);
    }

    public static ClusterConfig config(ReplicaSetFixture fixture) {
        return config(fixture, "");
    }
}
