package dev.ballast.mongo;

import com.mongodb.ClientSessionOptions;
import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCredential;
import com.mongodb.ReadPreference;
import com.mongodb.ServerAddress;
import com.mongodb.TagSet;
import com.mongodb.WriteConcern;
import com.mongodb.client.ClientSession;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.MongoReplicaSetConfig;
import dev.ballast.rules.NodeAddress;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * MongoDB clients built from the cluster config ({@code mongo.replicaSets.<name>}): the sync driver with retryable
 * writes and reads, the configured read preference (and maxStalenessSeconds) and write concern (majority unless set).
 *
 * <pre>{@code
 * try (MongoClient client = BallastMongo.client(config, "rs0")) {
 *     client.getDatabase("shop").getCollection("orders").insertOne(new Document("_id", 1));
 * }
 * }</pre>
 */
public final class BallastMongo {

    private BallastMongo() {
    }

    /** A client of replica set {@code replicaSet}, without Ballast's listeners. */
    public static MongoClient client(ClusterConfig config, String replicaSet) {
        return MongoClients.create(settings(config, replicaSet, null).build());
    }

    /**
     * A client of replica set {@code replicaSet} whose cluster and server-monitor events go to {@code events} (member
     * health and Micrometer meters, see {@link MongoClientEvents}).
     */
    public static MongoClient client(ClusterConfig config, String replicaSet, MongoClientEvents events) {
        return MongoClients.create(settings(config, replicaSet, events).build());
    }

    /** The replica set's config, or an error naming the sets the config has. */
    public static MongoReplicaSetConfig replicaSet(ClusterConfig config, String replicaSet) {
        return config.mongoReplicaSet(replicaSet).orElseThrow(() -> new IllegalArgumentException("[cluster="
                + config.name() + "] no MongoDB replica set '" + replicaSet + "'; mongo.replicaSets has "
                + config.mongoReplicaSets().keySet()));
    }

    /** The driver settings Ballast uses for {@code replicaSet}; {@code events} may be null. */
    public static MongoClientSettings.Builder settings(ClusterConfig config, String replicaSet, MongoClientEvents events) {
        MongoReplicaSetConfig rs = replicaSet(config, replicaSet);
        List<ServerAddress> seeds = rs.members().stream().map(BallastMongo::serverAddress).toList();
        MongoClientSettings.Builder b = MongoClientSettings.builder()
                .applyToClusterSettings(c -> {
                    c.hosts(seeds).requiredReplicaSetName(rs.name())
                            .serverSelectionTimeout(rs.serverSelectionTimeoutMs(), TimeUnit.MILLISECONDS);
                    if (events != null) {
                        c.addClusterListener(events);
                    }
                })
                .applyToServerSettings(s -> {
                    s.heartbeatFrequency(rs.heartbeatFrequencyMs(), TimeUnit.MILLISECONDS)
                            .minHeartbeatFrequency(Math.min(500, rs.heartbeatFrequencyMs()), TimeUnit.MILLISECONDS);
                    if (events != null) {
                        s.addServerMonitorListener(events);
                    }
                })
                .applyToSocketSettings(s -> s.connectTimeout(rs.connectTimeoutMs(), TimeUnit.MILLISECONDS))
                .retryWrites(true)
                .retryReads(true)
                .readPreference(readPreference(rs))
                .writeConcern(writeConcern(rs));
        rs.user().ifPresent(user -> b.credential(MongoCredential.createCredential(user, rs.authSource(),
                rs.password().map(p -> p.reveal().toCharArray()).orElse(new char[0]))));
        return b;
    }

    /**
     * A session whose reads see its own earlier writes and everything those writes depended on, also on secondaries
     * (causal consistency: each read carries {@code afterClusterTime} and a secondary waits until it has applied it).
     * Use it with majority reads and writes for the guarantee to survive a failover.
     */
    public static ClientSession causalSession(MongoClient client) {
        return client.startSession(ClientSessionOptions.builder().causallyConsistent(true).build());
    }

    static ServerAddress serverAddress(NodeAddress a) {
        return new ServerAddress(a.host(), a.port());
    }

    static ReadPreference readPreference(MongoReplicaSetConfig rs) {
        if (rs.readPreference().equals("primary")) {
            return ReadPreference.primary();
        }
        if (rs.maxStalenessSeconds().isPresent()) {
            return ReadPreference.valueOf(rs.readPreference(), List.<TagSet>of(), rs.maxStalenessSeconds().getAsLong(),
                    TimeUnit.SECONDS);
        }
        return ReadPreference.valueOf(rs.readPreference());
    }

    static WriteConcern writeConcern(MongoReplicaSetConfig rs) {
        WriteConcern w = rs.writeConcern().equals("majority") ? WriteConcern.MAJORITY
                : new WriteConcern(Integer.parseInt(rs.writeConcern()));
        return rs.writeConcernTimeoutMs() > 0 ? w.withWTimeout(rs.writeConcernTimeoutMs(), TimeUnit.MILLISECONDS) : w;
    }

    /** A connection string naming the members and the set, for tools that want one (no credentials in it). */
    public static ConnectionString connectionString(MongoReplicaSetConfig rs) {
        return new ConnectionString("mongodb://" + String.join(",", rs.members().stream().map(NodeAddress::toString).toList())
                + "/?replicaSet=" + rs.name());
    }
}
