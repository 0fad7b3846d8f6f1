package dev.ballast.schema;

import dev.ballast.jdbc.health.GroupHealth;
import dev.ballast.jdbc.health.HealthProbe;
import dev.ballast.jdbc.health.ReplicaStatus;
import dev.ballast.rules.ClusterConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The online strategy's throttle: waits until every replica of a group is within {@code schema.maxLagMs} of its master,
 * as the data plane measures lag ({@link HealthProbe}: GTID positions against the master's history, a lower bound,
 * never {@code Seconds_Behind_Master}). It waits for a probe round that started after the wait began, so a snapshot
 * taken before the previous ALTER ended cannot let the next one through. While it waits it says so, once a second.
 */
final class LagGate implements AutoCloseable {

    private final HealthProbe probe;
    private final long maxLagMs;
    private final long maxWaitMs;
    private final Consumer<String> notices;

    /** @param config the config with the live topology's groups */
    LagGate(ClusterConfig config, long maxLagMs, long maxWaitMs, Consumer<String> notices) {
        this.probe = new HealthProbe(config);
        this.maxLagMs = maxLagMs;
        this.maxWaitMs = maxWaitMs;
        this.notices = notices;
        probe.start();
    }

    /** Returns how long it waited in ms; throws when the lag stayed above the limit for {@code maxWaitMs}. */
    long await(String group, String why) throws InterruptedException {
        long start = System.nanoTime();
        long lastNotice = 0;
        while (true) {
            GroupHealth g = probe.group(group);
            List<String> behind = new ArrayList<>();
            for (ReplicaStatus r : g.replicas().values()) {
                if (r.probedAtNanos() - start < 0) {
                    behind.add(r.node() + " not probed since the wait began");
                } else if (!r.qualifies(maxLagMs)) {
                    behind.add(r.node() + (r.problem().isEmpty() ? " lag " + r.lagMillis() + " ms" : " " + r.problem()));
                }
            }
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (behind.isEmpty()) {
                return waited;
            }
            if (waited >= maxWaitMs) {
                throw new SchemaException("[group=" + group + "] replicas stayed above schema.maxLagMs=" + maxLagMs + " ms for "
                        + waited + " ms before " + why + ": " + String.join(", ", behind) + "; resume when they caught up"
                        + " (or raise schema.maxLagMs)");
            }
            if (waited - lastNotice >= 1000) {
                lastNotice = waited;
                notices.accept("[group=" + group + "] paused before " + why + ": " + String.join(", ", behind)
                        + " (schema.maxLagMs=" + maxLagMs + ")");
            }
            Thread.sleep(20);
        }
    }

    @Override
    public void close() {
        probe.close();
    }
}
