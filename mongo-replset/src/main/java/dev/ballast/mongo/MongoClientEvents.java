package dev.ballast.mongo;

import com.mongodb.ServerAddress;
import com.mongodb.connection.ClusterDescription;
import com.mongodb.connection.ServerDescription;
import com.mongodb.connection.ServerType;
import com.mongodb.event.ClusterDescriptionChangedEvent;
import com.mongodb.event.ClusterListener;
import com.mongodb.event.ServerHeartbeatFailedEvent;
import com.mongodb.event.ServerHeartbeatSucceededEvent;
import com.mongodb.event.ServerMonitorListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The driver's view of one replica set, fed by its monitoring events ({@link ClusterListener} for topology changes,
 * {@link ServerMonitorListener} for each heartbeat): who is primary, each member's type and round trip, and Micrometer
 * meters (docs/metrics.md, "MongoDB"). Pass it to {@link BallastMongo#client(dev.ballast.rules.ClusterConfig, String,
 * MongoClientEvents)}. Thread-safe; the driver calls it from its monitor threads.
 *
 * <p>Not guaranteed: this is one client's view, as fresh as its last heartbeat ({@code heartbeatFrequencyMs}); the
 * monitor's {@link ReplicaSetWatcher} asks every member itself and is what goes to ZooKeeper.
 */
public final class MongoClientEvents implements ClusterListener, ServerMonitorListener {

    /** What the driver last knew of one member. */
    public record MemberView(String member, ServerType type, long roundTripNanos, boolean lastHeartbeatOk) {
    }

    private final String cluster;
    private final String replicaSet;
    private final MeterRegistry registry;
    private final Map<String, MemberView> members = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> up = new ConcurrentHashMap<>();
    private final Counter primaryChanges;
    private volatile String primary;

    public MongoClientEvents(String cluster, String replicaSet, MeterRegistry registry) {
        this.cluster = cluster;
        this.replicaSet = replicaSet;
        this.registry = registry == null ? new SimpleMeterRegistry() : registry;
        this.primaryChanges = Counter.builder("ballast.mongo.primary.changes").tag("cluster", cluster)
                .tag("replica_set", replicaSet).description("changes of primary the driver saw")
                .register(this.registry);
    }

    /** The primary the driver selects writes for, if it knows one. */
    public Optional<String> primary() {
        return Optional.ofNullable(primary);
    }

    public Map<String, MemberView> members() {
        return Map.copyOf(members);
    }

    public double primaryChanges() {
        return primaryChanges.count();
    }

    @Override
    public void clusterDescriptionChanged(ClusterDescriptionChangedEvent event) {
        ClusterDescription now = event.getNewDescription();
        String newPrimary = null;
        for (ServerDescription s : now.getServerDescriptions()) {
            String member = name(s.getAddress());
            MemberView before = members.get(member);
            members.put(member, new MemberView(member, s.getType(), s.getRoundTripTimeNanos(),
                    before == null || before.lastHeartbeatOk()));
            gauge(member).set(s.isOk() ? 1 : 0);
            if (s.getType() == ServerType.REPLICA_SET_PRIMARY) {
                newPrimary = member;
            }
        }
        String old = primary;
        if (newPrimary != null && old != null && !newPrimary.equals(old)) {
            primaryChanges.increment();
        }
        if (newPrimary != null || now.getServerDescriptions().stream().noneMatch(ServerDescription::isOk)) {
            primary = newPrimary;
        } else if (old != null && now.getServerDescriptions().stream()
                .noneMatch(s -> name(s.getAddress()).equals(old) && s.getType() == ServerType.REPLICA_SET_PRIMARY)) {
            primary = null;
        }
    }

    @Override
    public void serverHeartbeatSucceeded(ServerHeartbeatSucceededEvent event) {
        String member = name(event.getConnectionId().getServerId().getAddress());
        heartbeat(member, "ok").record(event.getElapsedTime(TimeUnit.NANOSECONDS), TimeUnit.NANOSECONDS);
        members.computeIfPresent(member, (k, v) -> new MemberView(k, v.type(), v.roundTripNanos(), true));
    }

    @Override
    public void serverHeartbeatFailed(ServerHeartbeatFailedEvent event) {
        String member = name(event.getConnectionId().getServerId().getAddress());
        heartbeat(member, "failed").record(event.getElapsedTime(TimeUnit.NANOSECONDS), TimeUnit.NANOSECONDS);
        members.compute(member, (k, v) -> new MemberView(k, v == null ? ServerType.UNKNOWN : v.type(),
                v == null ? 0 : v.roundTripNanos(), false));
        gauge(member).set(0);
    }

    private Timer heartbeat(String member, String outcome) {
        return Timer.builder("ballast.mongo.heartbeat").tag("cluster", cluster).tag("replica_set", replicaSet)
                .tag("member", member).tag("outcome", outcome).description("driver heartbeats (hello) to one member")
                .register(registry);
    }

    private AtomicLong gauge(String member) {
        return up.computeIfAbsent(member, m -> {
            AtomicLong value = new AtomicLong();
            Gauge.builder("ballast.mongo.member.up", value, AtomicLong::get).tag("cluster", cluster)
                    .tag("replica_set", replicaSet).tag("member", m)
                    .description("1 while the driver's last heartbeat to the member succeeded").register(registry);
            return value;
        });
    }

    static String name(ServerAddress a) {
        return a.getHost() + ":" + a.getPort();
    }
}
