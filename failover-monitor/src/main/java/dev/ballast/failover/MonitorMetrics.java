package dev.ballast.failover;

import com.sun.net.httpserver.HttpServer;
import dev.ballast.metrics.DataPlaneMetrics;
import dev.ballast.metrics.PrometheusEndpoint;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ProxySettings;
import dev.ballast.replication.GroupTopology;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The control plane's meters: failovers and switchovers (count and seconds, by outcome), the epoch of each group as the
 * monitor last read it, whether this monitor leads, and its probes' latency. Names and tags are in docs/metrics.md. A
 * monitor serves them on {@code failover.metrics} ({@link #serve}); a {@link Switchover} records into whatever instance
 * its caller passes.
 */
public final class MonitorMetrics implements AutoCloseable {

    /** A recovery's or switchover's outcome, the {@code outcome} tag. */
    public static final String DONE = "done";
    public static final String FAILED = "failed";

    private final String cluster;
    private final MeterRegistry registry;
    private final Map<String, double[]> epochs = new ConcurrentHashMap<>();
    /** audit records (paths) already looked at, so that each switchover counts once */
    private final java.util.Set<String> audited = ConcurrentHashMap.newKeySet();
    private volatile HttpServer server;

    /** Meters in {@code registry}. */
    public MonitorMetrics(ClusterConfig config, MeterRegistry registry) {
        this.cluster = config.name();
        this.registry = registry;
        for (String group : config.groups().keySet()) {
            double[] epoch = {Double.NaN};
            epochs.put(group, epoch);
            Gauge.builder("ballast.topology.epoch", epoch, e -> e[0])
                    .description("Epoch of the group's topology in force (rises with every change of master)")
                    .tags("cluster", cluster, "group", group)
                    .strongReference(true)
                    .register(registry);
        }
    }

    /** Meters in a Prometheus registry of their own (with the JVM's), for {@link #serve}. */
    public static MonitorMetrics prometheus(ClusterConfig config) {
        return new MonitorMetrics(config, PrometheusEndpoint.newRegistry());
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** 1 while {@code acting} says this monitor leads (and may act), else 0. */
    void leader(String monitor, BooleanSupplier acting) {
        Gauge.builder("ballast.monitor.leader", acting, a -> a.getAsBoolean() ? 1 : 0)
                .description("1 while this monitor is the leader and may act, else 0")
                .tags("cluster", cluster, "monitor", monitor)
                .strongReference(true)
                .register(registry);
    }

    /** The topology of a group as the monitor read it. */
    void topology(GroupTopology t) {
        double[] e = epochs.get(t.group());
        if (e != null) {
            e[0] = t.epoch();
        }
    }

    /** Runs one probe of a server of {@code group} and times it; {@code ok} tells from the result whether it answered. */
    <T> T probe(String group, Supplier<T> probe, java.util.function.Predicate<T> ok) {
        long start = System.nanoTime();
        T result = probe.get();
        DataPlaneMetrics.probeTimer(registry, cluster, "monitor", group, ok.test(result))
                .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        return result;
    }

    /**
     * Looks at audit records not seen before: a switchover that ended (run by the {@code ballast} CLI or any other
     * process) counts in {@code ballast_switchover_seconds} with its recorded duration when {@code count}; one still
     * running is looked at again next time. Records of other kinds are only marked seen.
     *
     * @param count false to mark the records seen without counting (a monitor that does not lead, or at start)
     */
    void audit(java.util.List<String[]> records, boolean count) {
        for (String[] r : records) {
            if (audited.contains(r[0])) {
                continue;
            }
            com.fasterxml.jackson.databind.node.ObjectNode o;
            try {
                o = dev.ballast.replication.Documents.readObject(r[1], "audit record");
            } catch (RuntimeException e) {
                audited.add(r[0]);
                continue;
            }
            String state = o.path("state").asText("");
            if (!"switchover".equals(o.path("kind").asText(""))) {
                audited.add(r[0]);
            } else if (DONE.equals(state) || FAILED.equals(state)) {
                audited.add(r[0]);
                long ms = o.path("endedAt").asLong(0) - o.path("startedAt").asLong(0);
                if (count && ms >= 0) {
                    switchover(o.path("group").asText("?"), DONE.equals(state), TimeUnit.MILLISECONDS.toNanos(ms));
                }
            } else if (!count) {
                audited.add(r[0]); // running at start: its end is not ours to count
            }
        }
    }

    /** An automatic failover ended: {@code done} when the new epoch was published. */
    public void failover(String group, boolean done, long nanos) {
        Timer.builder("ballast.failover")
                .description("Automatic failovers run by this monitor (decision to new epoch), by outcome")
                .tags("cluster", cluster, "group", group, "outcome", done ? DONE : FAILED)
                .register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** A planned switchover ended: {@code done} when the new epoch was published. */
    public void switchover(String group, boolean done, long nanos) {
        Timer.builder("ballast.switchover")
                .description("Planned switchovers (audit record start to end), by outcome")
                .tags("cluster", cluster, "group", group, "outcome", done ? DONE : FAILED)
                .register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    /**
     * Answers {@code GET /metrics} on {@code at} (a Prometheus registry only).
     *
     * @return the port bound (the system's choice for port 0)
     * @throws IllegalStateException when the registry is not a Prometheus one, or the address cannot be bound
     */
    public synchronized int serve(ProxySettings.Endpoint at) {
        if (!(registry instanceof PrometheusMeterRegistry prometheus)) {
            throw new IllegalStateException("[cluster=" + cluster + "] failover.metrics needs a Prometheus registry, not "
                    + registry.getClass().getName());
        }
        try {
            HttpServer s = HttpServer.create(new InetSocketAddress(at.host(), at.port()), 16);
            PrometheusEndpoint.serve(s, prometheus);
            s.start();
            server = s;
            return s.getAddress().getPort();
        } catch (IOException e) {
            throw new UncheckedIOException("[cluster=" + cluster + "] failover.metrics: cannot listen on " + at + ": "
                    + e.getMessage() + "; choose a free port, or remove the setting", e);
        }
    }

    /** The port of {@code GET /metrics}, or -1 when not served. */
    public int port() {
        HttpServer s = server;
        return s == null ? -1 : s.getAddress().getPort();
    }

    /** Stops serving. */
    @Override
    public synchronized void close() {
        if (server != null) {
            server.stop(0);
            server = null;
        }
    }
}
