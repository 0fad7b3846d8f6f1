package dev.ballast.mongo;

import dev.ballast.replication.Documents;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.MongoReplicaSetConfig;
import dev.ballast.topology.TopologyStore;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Watches every replica set of the config for the monitor: each {@code heartbeatFrequencyMs} it asks every member
 * ({@link ReplicaSetProbe}: state, optime lag behind the primary, ping, config version, term, electionId, binary
 * version) and publishes one ephemeral record per member in the same ZooKeeper health tree as the MySQL servers,
 * {@code health/<host:port>/<monitor>}, as JSON with {@code "kind": "mongo"} (MySQL readers ignore the fields they do
 * not know, and they never read a member: it is in no group). Meters: {@code ballast.mongo.member.lag} and
 * {@code ballast.mongo.member.ping} per member (docs/metrics.md).
 *
 * <p>Not guaranteed: it only observes; it never elects, steps down or reconfigures (MongoDB elects by itself). A round
 * that ZooKeeper refuses is logged and the next one publishes again.
 */
public final class ReplicaSetWatcher implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ReplicaSetWatcher.class);

    /** One member's health record as stored in ZooKeeper. */
    public record MemberHealth(String kind, String replicaSet, String member, String monitor, boolean reachable,
                               String state, long lagMs, long pingMs, int configVersion, long term, String electionId,
                               double priority, boolean hidden, boolean arbiter, String version, String error,
                               long at) {

        public static MemberHealth of(ReplicaSetStatus s, MemberStatus m, String monitor) {
            return new MemberHealth("mongo", s.name(), m.member(), monitor, m.reachable(), m.state(), m.lagMs(), m.pingMs(),
                    m.configVersion(), s.term(), m.electionId(), m.priority(), m.hidden(), m.arbiter(), m.version(),
                    m.error(), s.takenAtMillis());
        }
    }

    private final ClusterConfig config;
    private final TopologyStore store;
    private final String monitor;
    private final MeterRegistry registry;
    private final List<ReplicaSetProbe> probes = new ArrayList<>();
    private final Map<String, AtomicReference<ReplicaSetStatus>> latest = new ConcurrentHashMap<>();
    private final Map<String, double[]> gauges = new ConcurrentHashMap<>();
    private final ScheduledExecutorService scheduler;

    public ReplicaSetWatcher(ClusterConfig config, TopologyStore store, String monitor, MeterRegistry registry) {
        this.config = config;
        this.store = store;
        this.monitor = monitor;
        this.registry = registry;
        this.scheduler = Executors.newScheduledThreadPool(Math.max(1, Math.min(4, config.mongoReplicaSets().size())), r -> {
            Thread t = new Thread(r, "ballast-mongo-watcher");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts one round per replica set every {@code heartbeatFrequencyMs}; a config without replica sets does nothing. */
    public ReplicaSetWatcher start() {
        for (MongoReplicaSetConfig rs : config.mongoReplicaSets().values()) {
            ReplicaSetProbe probe = new ReplicaSetProbe(rs);
            probes.add(probe);
            latest.put(rs.name(), new AtomicReference<>());
            scheduler.scheduleWithFixedDelay(() -> round(probe), 0, rs.heartbeatFrequencyMs(), TimeUnit.MILLISECONDS);
        }
        return this;
    }

    /** The last look at {@code replicaSet}, or null before the first round. */
    public ReplicaSetStatus latest(String replicaSet) {
        AtomicReference<ReplicaSetStatus> r = latest.get(replicaSet);
        return r == null ? null : r.get();
    }

    /** One round: probe, publish, meter. Visible for tests, which call it directly. */
    public ReplicaSetStatus round(ReplicaSetProbe probe) {
        try {
            ReplicaSetStatus s = probe.probe();
            latest.get(s.name()).set(s);
            for (MemberStatus m : s.members()) {
                meter(s.name(), m);
                try {
                    store.publishHealth(m.member(), monitor, Documents.write(MemberHealth.of(s, m, monitor)));
                } catch (RuntimeException e) {
                    log.warn("[cluster={} replicaSet={} member={}] health not published this round: {}", config.name(),
                            s.name(), m.member(), e.getMessage());
                }
            }
            return s;
        } catch (RuntimeException | Error e) {
            if (scheduler.isShutdown()) {
                return null; // closing
            }
            log.error("[cluster={} replicaSet={}] watcher round failed: {}", config.name(), probe.config().name(), e.toString());
            return null;
        }
    }

    private void meter(String replicaSet, MemberStatus m) {
        double[] values = gauges.computeIfAbsent(replicaSet + "/" + m.member(), k -> {
            double[] v = {Double.NaN, Double.NaN};
            if (registry != null) {
                Gauge.builder("ballast.mongo.member.lag", v, a -> a[0]).baseUnit("seconds").tag("cluster", config.name())
                        .tag("replica_set", replicaSet).tag("member", m.member())
                        .description("how far the member's last write is behind the primary's; NaN while unknown")
                        .register(registry);
                Gauge.builder("ballast.mongo.member.ping", v, a -> a[1]).baseUnit("seconds").tag("cluster", config.name())
                        .tag("replica_set", replicaSet).tag("member", m.member())
                        .description("round trip of the watcher's hello; NaN while unreachable").register(registry);
            }
            return v;
        });
        values[0] = m.lagMs() < 0 ? Double.NaN : m.lagMs() / 1000.0;
        values[1] = m.pingMs() < 0 ? Double.NaN : m.pingMs() / 1000.0;
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            scheduler.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        probes.forEach(ReplicaSetProbe::close);
    }
}
