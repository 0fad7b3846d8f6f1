package dev.ballast.metrics;

import dev.ballast.jdbc.health.GroupHealth;
import dev.ballast.jdbc.health.ReplicaStatus;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.NodeAddress;
import dev.ballast.topology.LiveTopology;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.noop.NoopCounter;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The meters of one data source (driver or proxy), in the registry it is bound to ({@link #bindTo}); until then every
 * meter is a no-op. Names and tags are listed in docs/metrics.md.
 *
 * <p>The statement path pays one volatile read and one counter increment: each server's pool holds the
 * {@link StatementCounters} of its group and role, resolved when the pool is made; binding swaps the counters inside
 * that object. Nothing on the statement path looks a meter up by name or builds a string.
 *
 * <p>Not guaranteed: one data source binds to one registry (bind a {@code CompositeMeterRegistry} to reach several),
 * because HikariCP accepts its metrics tracker once per pool.
 */
public final class DataPlaneMetrics {

    /** Routes of a statement, the {@code route} tag. */
    public static final String FAST_PATH = "fastpath";
    public static final String SHARDING_SPHERE = "shardingsphere";
    public static final String RELAY = "relay";

    private static final Counter NOOP = new NoopCounter(new Meter.Id("noop", Tags.empty(), null, null, Meter.Type.COUNTER));

    /** Statements sent to one group's servers in one role, per route: the counters the hot path increments. */
    public static final class StatementCounters {
        private final String group;
        private final String role;
        private volatile Counter fastPath = NOOP;
        private volatile Counter shardingSphere = NOOP;
        private volatile Counter relay = NOOP;

        private StatementCounters(String group, String role) {
            this.group = group;
            this.role = role;
        }

        public void fastPath() {
            fastPath.increment();
        }

        public void shardingSphere() {
            shardingSphere.increment();
        }

        public void relay() {
            relay.increment();
        }

        private void bind(MeterRegistry r, String cluster) {
            fastPath = statements(r, cluster, FAST_PATH);
            shardingSphere = statements(r, cluster, SHARDING_SPHERE);
            relay = statements(r, cluster, RELAY);
        }

        private Counter statements(MeterRegistry r, String cluster, String route) {
            return Counter.builder("ballast.statements")
                    .description("Statements sent to a server, by route (fastpath, shardingsphere, relay), group and role")
                    .tags("cluster", cluster, "route", route, "group", group, "role", role)
                    .register(r);
        }
    }

    /** What the gauges of one replica show: the data plane's last probe of it. */
    private static final class ReplicaGauges {
        final String group;
        volatile double lagSeconds = Double.NaN;
        volatile double serving;
        final List<Meter> meters = new ArrayList<>(2);

        ReplicaGauges(String group) {
            this.group = group;
        }
    }

    private final ClusterConfig config;
    private final String cluster;
    private final Map<String, StatementCounters> statements = new ConcurrentHashMap<>();
    private final Map<String, Counter> errors = new ConcurrentHashMap<>();
    private final Map<NodeAddress, ReplicaGauges> replicas = new ConcurrentHashMap<>();
    private volatile MeterRegistry registry;
    private volatile LiveTopology topology;

    public DataPlaneMetrics(ClusterConfig config) {
        this.config = config;
        this.cluster = config.name();
    }

    /** The registry bound, or null. */
    public MeterRegistry registry() {
        return registry;
    }

    /**
     * Registers every meter in {@code r}: from now on statements, errors, holds and probes are counted there.
     *
     * @return false when already bound to {@code r}
     * @throws IllegalStateException when already bound to another registry
     */
    public synchronized boolean bindTo(MeterRegistry r, LiveTopology liveTopology) {
        if (registry == r) {
            return false;
        }
        if (registry != null) {
            throw new IllegalStateException("[cluster=" + cluster + "] this data source already reports to " + registry
                    + "; bind it once, to a CompositeMeterRegistry if several registries should see it");
        }
        registry = r;
        topology = liveTopology;
        statements.values().forEach(s -> s.bind(r, cluster));
        for (String group : config.groups().keySet()) {
            Gauge.builder("ballast.topology.epoch", this, m -> m.epoch(group))
                    .description("Epoch of the group's topology in force (rises with every change of master)")
                    .tags("cluster", cluster, "group", group)
                    .strongReference(true)
                    .register(r);
        }
        replicas.forEach((node, g) -> register(r, node, g));
        return true;
    }

    private double epoch(String group) {
        LiveTopology t = topology;
        return t == null ? Double.NaN : t.get(group).epoch();
    }

    /** The counters of statements to {@code group}'s servers in {@code role}; resolve once, keep the object. */
    public StatementCounters statements(String group, String role) {
        return statements.computeIfAbsent(group + "\u0000" + role, k -> {
            StatementCounters s = new StatementCounters(group, role);
            MeterRegistry r = registry;
            if (r != null) {
                s.bind(r, cluster);
            }
            return s;
        });
    }

    /** Whether {@code counters} are this data source's. */
    public boolean owns(StatementCounters counters) {
        return statements.containsValue(counters);
    }

    /** A statement failed on {@code route} with {@code sqlState} (counted by its class, the first two characters). */
    public void error(String route, String sqlState) {
        MeterRegistry r = registry;
        if (r == null) {
            return;
        }
        String kind = sqlState == null || sqlState.length() < 2 ? "none" : sqlState.substring(0, 2);
        errors.computeIfAbsent(route + "|" + kind, k -> Counter.builder("ballast.statement.errors")
                .description("Statements that failed, by route and SQLSTATE class (first two characters)")
                .tags("cluster", cluster, "route", route, "sqlstate_class", kind)
                .register(r)).increment();
    }

    /** A replica was taken out of reads before its next probe ({@code reason} connect, read or position_check), or drained by a maintenance mark ({@code drained}, once per mark). */
    public void ejection(String group, String reason) {
        MeterRegistry r = registry;
        if (r != null) {
            Counter.builder("ballast.replica.ejections")
                    .description("Replicas ejected from reads after a failed connect, read or position check, or drained by a maintenance mark")
                    .tags("cluster", cluster, "group", group, "reason", reason)
                    .register(r).increment();
        }
    }

    /**
     * A write waited for a change of master (failover, or a switchover's SWITCHING phase).
     *
     * @param released true when a master took it, false when {@code failover.writeHoldMs} ran out
     */
    public void writeHold(String group, boolean released, long nanos) {
        MeterRegistry r = registry;
        if (r != null) {
            Timer.builder("ballast.write.hold")
                    .description("Writes held while the group's master changed, and for how long")
                    .tags("cluster", cluster, "group", group, "outcome", released ? "released" : "timed_out")
                    .register(r).record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    /** One health probe of one server by the data plane. */
    public void probed(String group, NodeAddress node, boolean ok, long nanos) {
        MeterRegistry r = registry;
        if (r != null) {
            probeTimer(r, cluster, "dataplane", group, ok).record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    /** The probe latency timer shared by the data plane and the monitor ({@code component} tells them apart). */
    public static Timer probeTimer(MeterRegistry r, String cluster, String component, String group, boolean ok) {
        return Timer.builder("ballast.probe")
                .description("Health probes of servers (connect if needed, then the position query), by component")
                .tags("cluster", cluster, "component", component, "group", group, "outcome", ok ? "ok" : "failed")
                .register(r);
    }

    /** The data plane's health probe published a group: the replicas' lag and serving gauges follow it. */
    public void health(GroupHealth g) {
        long maxLag = config.readPolicy().maxReplicaLagMs();
        for (Map.Entry<NodeAddress, ReplicaStatus> e : g.replicas().entrySet()) {
            ReplicaGauges gauges = replicas.get(e.getKey());
            if (gauges == null) {
                gauges = newReplica(e.getKey(), g.group());
            }
            ReplicaStatus s = e.getValue();
            gauges.lagSeconds = s.lagMillis() < 0 ? Double.NaN : s.lagMillis() / 1000.0;
            gauges.serving = s.qualifies(maxLag) ? 1 : 0;
        }
        if (replicas.size() > g.replicas().size()) {
            replicas.entrySet().removeIf(e -> e.getValue().group.equals(g.group()) && !g.replicas().containsKey(e.getKey())
                    && unregister(e.getValue()));
        }
    }

    private synchronized ReplicaGauges newReplica(NodeAddress node, String group) {
        ReplicaGauges g = replicas.get(node);
        if (g == null) {
            g = new ReplicaGauges(group);
            replicas.put(node, g);
            MeterRegistry r = registry;
            if (r != null) {
                register(r, node, g);
            }
        }
        return g;
    }

    private void register(MeterRegistry r, NodeAddress node, ReplicaGauges g) {
        g.meters.add(Gauge.builder("ballast.replica.lag", g, x -> x.lagSeconds)
                .description("Replica lag as the data plane's health probe measures it (NaN: unknown)")
                .baseUnit("seconds")
                .tags("cluster", cluster, "group", g.group, "node", node.toString())
                .strongReference(true)
                .register(r));
        g.meters.add(Gauge.builder("ballast.replica.serving", g, x -> x.serving)
                .description("1 while the replica gets reads (reachable, replicating, within maxReplicaLagMs), else 0")
                .tags("cluster", cluster, "group", g.group, "node", node.toString())
                .strongReference(true)
                .register(r));
    }

    private synchronized boolean unregister(ReplicaGauges g) {
        MeterRegistry r = registry;
        if (r != null) {
            g.meters.forEach(r::remove);
        }
        g.meters.clear();
        return true;
    }
}
